"""The inbox: every message a patient sends us, stored first, then routed.

A webhook makes the message durable (`store_inbound`, idempotent by the provider's sid)
and a job routes it (`process_inbound`). Routing offers the reply to the registered
reply handlers in their order of precedence (`app.messaging.registry`; the order is set
in `app.wiring`); the first that takes it answers. A reply nobody takes is flagged for
staff, attached to no appointment. The clinic is found from the number the message was
sent to, never from what the patient typed.

A key press on a telephone call is an inbound message too (channel `voice`, its own
idempotency key as sid): it is routed the same way, and the answers come back as text
to say on the call instead of messages to send.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from app.clinics.models import Clinic
from app.clinics.queries import sender_clinic
from app.core.channels import Channel
from app.core.clock import Clock
from app.core.inputs import storable_text
from app.core.sms import measure
from app.extensions import db
from app.messaging import compose
from app.messaging.kinds import MessageKind
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.registry import reply_handlers
from app.messaging.speaker import Speaker, speaker_for
from app.messaging.states import InboundState, MessageState
from app.messaging.voice import SAY_LANGUAGES
from app.patients.models import Patient

#: An automatic answer that could not go within this long is dropped.
REPLY_LIFETIME = timedelta(hours=12)
#: The stored length of a sender or recipient address.
ADDRESS_LENGTH = 40


def bare_number(address: str) -> str:
    """A number without its channel prefix ("whatsapp:+44…" → "+44…")."""
    return address.split(":", 1)[1] if address.startswith(("whatsapp:", "sms:")) else address


class Stored(NamedTuple):
    """What `store_inbound` did: the row's id, whether this call made it, and the
    patient it was matched to (if any), whose group routes it (`reply_group`)."""

    id: int
    created: bool
    patient_id: int | None


def store_inbound(
    *,
    provider_sid: str,
    from_number: str,
    to_number: str,
    body: str,
    messaging_service_sid: str | None,
    channel: Channel,
    now: datetime,
    appointment_id: int | None = None,
) -> Stored:
    """Make an inbound message durable; a known sid is a no-op (created False).

    The clinic is found from the number the message was sent to, never from its text.
    `appointment_id` is known only when the patient answered about one (a key press on a
    reminder call). `provider_sid` must be a sid (`core.inputs.provider_sid`); anything in
    the addresses or the body that a database cannot store is replaced, so the message is
    always kept. One statement finds the clinic and the patient and inserts the row
    unless its sid is known (a webhook's whole work in the database). Commits.
    """
    sender = _address(from_number)
    recipient = _address(to_number)
    clinic_id = sender_clinic(recipient, messaging_service_sid).scalar_subquery()
    patient_id = (
        select(Patient.id)
        .where(Patient.clinic_id == clinic_id, Patient.phone == sender)
        .order_by(Patient.id)
        .limit(1)
        .scalar_subquery()
    )
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    insert_row = (
        dialect.insert(InboundMessage)
        .values(
            provider_sid=provider_sid,
            clinic_id=clinic_id,
            patient_id=patient_id,
            appointment_id=appointment_id,
            channel=channel,
            from_number=sender,
            to_number=recipient,
            body=storable_text(body),
            state=InboundState.RECEIVED,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=[InboundMessage.provider_sid])
        .returning(InboundMessage.id, InboundMessage.patient_id)
    )
    row = db.session.execute(insert_row).first()
    if row is not None:
        db.session.commit()
        return Stored(row.id, True, row.patient_id)
    # Stored before, or by another request at this very moment (which has committed:
    # the insert waited for it).
    db.session.rollback()
    known = db.session.execute(
        select(InboundMessage.id, InboundMessage.patient_id).where(
            InboundMessage.provider_sid == provider_sid
        )
    ).one()
    return Stored(known.id, False, known.patient_id)


#: Replies are routed by groups of patients (`reply_group`), a job at a time for each
#: group (`workers.jobs.route_replies`): a patient's replies are routed in order, and
#: as many workers as there are groups can route at once.
REPLY_GROUPS = 4


def reply_group(patient_id: int | None) -> int:
    """The group whose job routes a reply from this patient (0 for an unknown sender)."""
    return (patient_id or 0) % REPLY_GROUPS


def waiting_replies(group: int, limit: int, skip: Collection[int] = ()) -> list[int]:
    """Up to `limit` of `group`'s received replies, oldest first, leaving out `skip`."""
    query = (
        select(InboundMessage.id)
        .where(
            InboundMessage.state == InboundState.RECEIVED,
            func.coalesce(InboundMessage.patient_id, 0) % REPLY_GROUPS == group,
        )
        .order_by(InboundMessage.id)
        .limit(limit)
    )
    if skip:
        query = query.where(InboundMessage.id.not_in(list(skip)))
    return list(db.session.scalars(query))


def _address(raw: str) -> str:
    """A number as stored: without its channel prefix, NULs or anything past 40
    characters (no number is that long: such a message matches no patient)."""
    return storable_text(bare_number(raw))[:ADDRESS_LENGTH]


@dataclass
class Conversation:
    """One stored reply being routed: who sent it, to which clinic, and the answers."""

    inbound: InboundMessage
    clinic: Clinic
    #: The first patient of the clinic with this number, and all of them.
    patient: Patient
    patients: list[Patient]
    now: datetime
    clock: Clock
    speaker: Speaker
    replies: list[OutboundMessage] = field(default_factory=list)
    #: On a telephone call: what to say, in order, instead of messages to send.
    spoken: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        return self.inbound.body or ""

    @property
    def channel(self) -> Channel:
        return Channel(self.inbound.channel)

    @property
    def patient_ids(self) -> list[int]:
        return [p.id for p in self.patients]

    def flag(self, reason: str) -> None:
        """Leave the reply for staff, saying why."""
        self.inbound.state = InboundState.FLAGGED
        self.inbound.flag_reason = reason

    def answer(
        self, kind: MessageKind, template: str, appointment_id: int | None = None, **values: object
    ) -> None:
        """Answer with `template` in the patient's language and the clinic's wording."""
        self.answer_with(kind, self.speaker.compose(template, **values), appointment_id)

    def answer_with(
        self,
        kind: MessageKind,
        composed: compose.Composed,
        appointment_id: int | None,
        survey_session_id: int | None = None,
    ) -> None:
        """Answer with a text already composed: on a call it is said, otherwise it is
        queued as a message (claimed, so the job that routed the reply sends it)."""
        if self.channel is Channel.VOICE:
            self.spoken.append(composed.body)
            return
        reply = OutboundMessage(
            survey_session_id=survey_session_id,
            clinic_id=self.clinic.id,
            patient_id=self.patient.id,
            appointment_id=appointment_id,
            reply_to_id=self.inbound.id,
            kind=kind,
            rule="",
            plan_version=1,
            channel=self.inbound.channel,
            state=MessageState.CLAIMED,
            due_at=self.now,
            claimed_at=self.now,
            expires_at=self.now + REPLY_LIFETIME,
            locale=composed.locale,
            body=composed.body,
            created_at=self.now,
            updated_at=self.now,
        )
        db.session.add(reply)
        db.session.flush()
        self.replies.append(reply)

    def answer_text(
        self,
        kind: MessageKind,
        text: str,
        locale: str,
        appointment_id: int | None = None,
        survey_session_id: int | None = None,
    ) -> None:
        """Answer with a finished text in `locale`."""
        composed = compose.Composed(text, locale, measure(text))
        self.answer_with(kind, composed, appointment_id, survey_session_id)


@dataclass(frozen=True)
class Processed:
    """What routing one reply produced: the ids of the messages queued in answer (already
    claimed), or, for a key press on a call, the texts to say."""

    reply_ids: list[int] = field(default_factory=list)
    spoken: list[str] = field(default_factory=list)


def process_inbound(inbound_id: int, clock: Clock) -> Processed:
    """Understand and act on one stored reply. Commits.

    Processing a message twice does nothing the second time.
    """
    inbound = db.session.get(InboundMessage, inbound_id, with_for_update=True)
    if inbound is None or inbound.state is not InboundState.RECEIVED:
        db.session.rollback()
        return Processed()
    conversation = _conversation(inbound, clock)
    if conversation is not None:
        _route(conversation)
    if inbound.state is InboundState.RECEIVED:
        inbound.state = InboundState.PROCESSED
    inbound.processed_at = clock.now()
    # Read before the commit, which expires them: after it each would be loaded again.
    reply_ids = [reply.id for reply in conversation.replies] if conversation else []
    db.session.commit()
    if conversation is None:
        return Processed()
    return Processed(reply_ids, conversation.spoken)


def _route(conversation: Conversation) -> None:
    for handler in reply_handlers():
        if handler(conversation):
            return
    conversation.flag("not_understood")


def _conversation(inbound: InboundMessage, clock: Clock) -> Conversation | None:
    clinic = db.session.get(Clinic, inbound.clinic_id) if inbound.clinic_id else None
    if clinic is None:
        inbound.state, inbound.flag_reason = InboundState.FLAGGED, "unknown_clinic"
        return None
    patients = list(
        db.session.scalars(
            select(Patient)
            .where(Patient.clinic_id == clinic.id, Patient.phone == inbound.from_number)
            .order_by(Patient.id)
        )
    )
    if not patients:
        inbound.state, inbound.flag_reason = InboundState.FLAGGED, "unknown_sender"
        return None
    patient = patients[0]
    inbound.patient_id = patient.id
    languages = SAY_LANGUAGES if inbound.channel == Channel.VOICE else None
    speaker = speaker_for(patient, clinic, languages=languages)
    return Conversation(inbound, clinic, patient, patients, clock.now(), clock, speaker)
