"""Staff roles and what each may see and do (pure).

A staff user holds roles per organisation, each optionally limited to some of its
clinics. A role grants permissions; the workspace asks for a permission, never for a
role, so that what a role may do is written down once, here.

Least privilege: names, numbers and messages are for the care roles (admin, clinic
manager, clinician, receptionist); an analyst never sees a name, a phone number or a
message body; an experience lead reads answers but no name or number; the auditor
sees the audit log and nothing about patients.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ADMIN = "admin"  # users and roles, clinic settings, erasure, and everything below
    CLINIC_MANAGER = "clinic_manager"  # their clinics' patients, messages, results, settings
    CLINICIAN = "clinician"  # their clinics' patient timelines, and the patients' goals
    RECEPTIONIST = "receptionist"  # their clinics' worklist and patient timelines
    EXPERIENCE_LEAD = "experience_lead"  # results and patients' words, never a phone number
    ANALYST = "analyst"  # results and attendance: no names, numbers or message bodies
    AUDITOR = "auditor"  # the audit log


class Permission(enum.StrEnum):
    VIEW_WORKLIST = "view_worklist"  # the day's replies, rebook requests and failures
    HANDLE_WORKLIST = "handle_worklist"  # mark a worklist item handled, with a note
    VIEW_PATIENTS = "view_patients"  # find patients and read their timelines
    SEE_NAMES = "see_names"  # a patient's given and family names
    SEE_PHONES = "see_phones"  # a patient's phone number
    SEE_MESSAGES = "see_messages"  # the text of messages in and out
    SEE_ANSWERS = "see_answers"  # survey answers on a patient's timeline
    EDIT_PATIENTS = "edit_patients"  # channel, language, opt-out on a patient's behalf
    ERASE_PATIENTS = "erase_patients"  # erase a patient
    VIEW_APPOINTMENTS = "view_appointments"  # appointments by day and their reminders
    RECORD_OUTCOMES = "record_outcomes"  # attended, DNA, cancellations
    IMPORT = "import"  # upload patients, appointments, outcomes and FHIR bundles
    VIEW_TEMPLATES = "view_templates"  # every text in every language, with its cost
    EDIT_TEMPLATES = "edit_templates"  # a clinic's own wording
    EDIT_SETTINGS = "edit_settings"  # sender, quiet hours, reminder rules, surveys
    MANAGE_USERS = "manage_users"  # invite staff, grant and remove roles
    MANAGE_TOKENS = "manage_tokens"  # API tokens
    VIEW_RESULTS = "view_results"  # weighted results and who is not heard
    VIEW_ATTENDANCE = "view_attendance"  # DNA reports
    VIEW_EXPERIMENTS = "view_experiments"  # wording experiments: arms, analyses, decisions
    MANAGE_EXPERIMENTS = "manage_experiments"  # create, start and stop wording experiments
    VIEW_AUDIT = "view_audit"  # search and export the audit log
    BOARD_REPORT = "board_report"  # the monthly board report (PDF), of what the above reach
    VIEW_GOALS = "view_goals"  # a patient's goals in their words, and their scores
    EDIT_GOALS = "edit_goals"  # open and close a patient's goals, record a score with them
    VIEW_GOAL_OUTCOMES = "view_goal_outcomes"  # the service's goal outcomes: no patient shown
    PUBLISH = "publish"  # "you said, we did" entries and approving masked quotes for the public
    CODE_THEMES = "code_themes"  # the coding queue: masked comments, confirm their themes
    TRAIN_THEMES = "train_themes"  # retrain the organisation's theme suggestions


P = Permission
_CARE = frozenset({P.VIEW_WORKLIST, P.VIEW_PATIENTS, P.SEE_NAMES, P.SEE_PHONES, P.SEE_MESSAGES})
_MANAGER = _CARE | {
    P.HANDLE_WORKLIST,
    P.SEE_ANSWERS,
    P.EDIT_PATIENTS,
    P.VIEW_APPOINTMENTS,
    P.RECORD_OUTCOMES,
    P.IMPORT,
    P.VIEW_TEMPLATES,
    P.EDIT_TEMPLATES,
    P.EDIT_SETTINGS,
    P.VIEW_RESULTS,
    P.VIEW_ATTENDANCE,
    P.VIEW_EXPERIMENTS,
    P.MANAGE_EXPERIMENTS,
    P.BOARD_REPORT,
    P.VIEW_GOALS,
    P.EDIT_GOALS,
    P.VIEW_GOAL_OUTCOMES,
    P.PUBLISH,
    P.CODE_THEMES,
}
#: Goals are the clinicians' (and their managers'): recorded with the patient.
_GOALS = frozenset({P.VIEW_GOALS, P.EDIT_GOALS, P.VIEW_GOAL_OUTCOMES})

#: What each role may do: the one table the workspace consults.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.CLINIC_MANAGER: frozenset(_MANAGER),
    Role.CLINICIAN: frozenset(_CARE | _GOALS | {P.SEE_ANSWERS, P.VIEW_APPOINTMENTS}),
    Role.RECEPTIONIST: frozenset(
        _CARE | {P.HANDLE_WORKLIST, P.EDIT_PATIENTS, P.VIEW_APPOINTMENTS, P.RECORD_OUTCOMES}
    ),
    Role.EXPERIENCE_LEAD: frozenset(
        {P.VIEW_RESULTS, P.SEE_ANSWERS, P.BOARD_REPORT, P.PUBLISH, P.CODE_THEMES, P.TRAIN_THEMES}
    ),
    Role.ANALYST: frozenset(
        {
            P.VIEW_RESULTS,
            P.VIEW_ATTENDANCE,
            P.VIEW_EXPERIMENTS,
            P.BOARD_REPORT,
            P.VIEW_GOAL_OUTCOMES,
        }
    ),
    Role.AUDITOR: frozenset({P.VIEW_AUDIT}),
}

#: Roles that must use a second factor (TOTP) to sign in.
SECOND_FACTOR_REQUIRED = frozenset({Role.ADMIN, Role.CLINIC_MANAGER})
#: Permissions that expose personal data: every use of them is written to the audit log.
PERSONAL_DATA = frozenset({P.SEE_NAMES, P.SEE_PHONES, P.SEE_MESSAGES, P.SEE_ANSWERS, P.VIEW_GOALS})


def permissions_of(roles: set[Role] | frozenset[Role]) -> frozenset[Permission]:
    """Everything any of `roles` may do."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= PERMISSIONS[role]
    return frozenset(granted)
