"""The audit log's one table, append-only: PostgreSQL refuses UPDATE and DELETE on it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, state_enum


class AuditAction(enum.StrEnum):
    SIGN_IN = "sign_in"  # a staff member signed in (both factors when required)
    SIGN_IN_FAILED = "sign_in_failed"  # a wrong password or second factor
    ACCOUNT_LOCKED = "account_locked"  # too many failures in a row
    SIGN_OUT = "sign_out"  # signed out, or the session ended
    PASSWORD_SET = "password_set"  # noqa: S105 (a name) an invitation set a password
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled"  # TOTP set up, recovery codes issued
    RECOVERY_CODE_USED = "recovery_code_used"  # a recovery code stood in for TOTP
    VIEW_PATIENT = "view_patient"  # a patient's timeline (name, number, messages) was shown
    SEARCH_PATIENTS = "search_patients"  # patients were searched (the terms are not kept)
    CHANGE_PATIENT = "change_patient"  # channel or language changed
    OPT_OUT_FOR_PATIENT = "opt_out_for_patient"  # opted out on the patient's behalf
    ERASE_PATIENT = "erase_patient"  # a patient was erased
    IMPORT = "import"  # patients, appointments, outcomes or a FHIR bundle imported
    RECORD_OUTCOMES = "record_outcomes"  # outcomes recorded by staff
    HANDLE_WORKLIST = "handle_worklist"  # a worklist item marked handled
    EDIT_TEMPLATE = "edit_template"  # a clinic's wording changed
    EDIT_SETTINGS = "edit_settings"  # a clinic's settings changed
    INVITE_USER = "invite_user"  # a staff member invited (a one-time link made)
    GRANT_ROLE = "grant_role"  # a role given
    REVOKE_ROLE = "revoke_role"  # a role taken away
    CREATE_TOKEN = "create_token"  # noqa: S105 (a name) an API token made
    REVOKE_TOKEN = "revoke_token"  # noqa: S105 (a name) an API token revoked
    API_CHANGE = "api_change"  # a change made through the API (the token is named)
    EXPORT = "export"  # data downloaded (a report, a table, the audit log)
    RETENTION_PURGE = "retention_purge"  # old message bodies and free text purged
    VIEW_AUDIT = "view_audit"  # the audit log searched
    DISABLE_USER = "disable_user"  # a staff account disabled, its sessions ended
    ENABLE_USER = "enable_user"  # a disabled staff account enabled again
    RESET_SECOND_FACTOR = "reset_second_factor"  # TOTP removed: the user enrols again
    PASSWORD_LINK = "password_link"  # noqa: S105 (a name) a new one-time password link
    VIEW_WORKLIST = "view_worklist"  # the worklist showed patients' names, numbers or texts
    VIEW_APPOINTMENTS = "view_appointments"  # a day's appointments showed patients' names
    MANAGE_EXPERIMENT = "manage_experiment"  # a wording experiment created, started or stopped
    CHANGE_GOALS = "change_goals"  # a patient's goal opened or closed, or a score recorded
    CODE_COMMENT = "code_comment"  # a comment's themes and sentiment confirmed
    VIEW_COMMENT = "view_comment"  # a masked comment shown in the coding queue
    TRAIN_THEMES = "train_themes"  # retraining an organisation's theme suggestions asked for
    EDIT_CODEBOOK = "edit_codebook"  # an organisation added a code of its own
    MANAGE_EVENTS = "manage_events"  # an event subscription or the FHIR write-back changed
    EDIT_YOU_SAID = "edit_you_said"  # a "you said, we did" entry created or changed
    VIEW_QUOTES = "view_quotes"  # masked comments shown to choose quotes from
    APPROVE_QUOTE = "approve_quote"  # a masked quote approved for the public page
    WITHDRAW_QUOTE = "withdraw_quote"  # a published quote withdrawn


class AuditEvent(Base):
    """One thing someone did. Ids and counts only: never a name, a number or a text."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_actor_user_id_at", "actor_user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    action: Mapped[AuditAction] = mapped_column(state_enum(AuditAction, 32))
    #: The staff member, or the API token, who did it; neither for the system itself.
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    actor_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    #: What was seen or changed: "patient", "appointment", "staff_user", ...
    record_type: Mapped[str] = mapped_column(String(32), default="")
    record_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    #: The client address the request came from (after trusted proxies).
    address: Mapped[str | None] = mapped_column(String(64))
    #: Counts and codes that say more (rows imported, fields changed); never personal data.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


#: PostgreSQL refuses to change or remove an audit event, whoever asks.
APPEND_ONLY = DDL(  # type: ignore[no-untyped-call]
    """
    CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'the audit log is append-only';
    END;
    $$ LANGUAGE plpgsql;
    CREATE TRIGGER audit_events_append_only
        BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
    """
).execute_if(dialect="postgresql")
event.listen(AuditEvent.__table__, "after_create", APPEND_ONLY)
