"""What the audit log page calls each action and each kind of record (in the staff's
language); a code not listed is shown as words ("staff_user" reads "staff user")."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.audit.models import AuditAction

#: What each action is called on the page; an action not listed shows its code.
ACTION_LABELS: dict[str, Any] = {
    AuditAction.SIGN_IN: _l("Signed in"),
    AuditAction.SIGN_IN_FAILED: _l("Sign-in failed"),
    AuditAction.ACCOUNT_LOCKED: _l("Account locked"),
    AuditAction.SIGN_OUT: _l("Signed out"),
    AuditAction.PASSWORD_SET: _l("Password set"),
    AuditAction.SECOND_FACTOR_ENROLLED: _l("Security code app set up"),
    AuditAction.RECOVERY_CODE_USED: _l("Recovery code used"),
    AuditAction.VIEW_PATIENT: _l("Viewed a patient"),
    AuditAction.SEARCH_PATIENTS: _l("Searched for patients"),
    AuditAction.CHANGE_PATIENT: _l("Changed a patient"),
    AuditAction.OPT_OUT_FOR_PATIENT: _l("Opted a patient out"),
    AuditAction.ERASE_PATIENT: _l("Erased a patient"),
    AuditAction.IMPORT: _l("Imported a file"),
    AuditAction.RECORD_OUTCOMES: _l("Recorded outcomes"),
    AuditAction.HANDLE_WORKLIST: _l("Handled a worklist item"),
    AuditAction.EDIT_TEMPLATE: _l("Changed a message's wording"),
    AuditAction.EDIT_SETTINGS: _l("Changed settings"),
    AuditAction.INVITE_USER: _l("Invited a staff member"),
    AuditAction.GRANT_ROLE: _l("Gave a role"),
    AuditAction.REVOKE_ROLE: _l("Took a role away"),
    AuditAction.CREATE_TOKEN: _l("Made an API token"),
    AuditAction.REVOKE_TOKEN: _l("Revoked an API token"),
    AuditAction.API_CHANGE: _l("Changed data through the API"),
    AuditAction.EXPORT: _l("Downloaded data"),
    AuditAction.RETENTION_PURGE: _l("Removed old message texts"),
    AuditAction.VIEW_AUDIT: _l("Searched the audit log"),
    AuditAction.DISABLE_USER: _l("Disabled a staff account"),
    AuditAction.ENABLE_USER: _l("Enabled a staff account"),
    AuditAction.RESET_SECOND_FACTOR: _l("Reset a security code app"),
    AuditAction.PASSWORD_LINK: _l("Made a password link"),
    AuditAction.VIEW_WORKLIST: _l("Viewed the worklist"),
    AuditAction.VIEW_APPOINTMENTS: _l("Viewed a day's appointments"),
    AuditAction.CHANGE_GOALS: _l("Changed a patient's goals"),
    AuditAction.VIEW_COMMENT: _l("Viewed a comment to code"),
    AuditAction.CODE_COMMENT: _l("Confirmed a comment's themes"),
    AuditAction.TRAIN_THEMES: _l("Asked for theme suggestions to be retrained"),
}

#: What each kind of record is called on the page; a kind not listed shows its code.
RECORD_TYPE_LABELS: dict[str, Any] = {
    "api_token": _l("API token"),
    "appointment": _l("appointment"),
    "audit_log": _l("audit log"),
    "clinic": _l("clinic"),
    "consent_event": _l("consent event"),
    "goal": _l("goal"),
    "import_run": _l("import run"),
    "inbound_message": _l("inbound message"),
    "organisation": _l("organisation"),
    "outbound_message": _l("outbound message"),
    "patient": _l("patient"),
    "staff_user": _l("staff user"),
    "template_override": _l("template override"),
    "theme_comment": _l("comment"),
    "themes": _l("themes"),
}


def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code.replace("_", " ").capitalize()


def readable(code: str) -> str:
    """A code as words: "staff_user" reads "staff user"."""
    return code.replace("_", " ")


def record_type_label(code: str) -> str:
    label = RECORD_TYPE_LABELS.get(code)
    return str(label) if label is not None else readable(code)
