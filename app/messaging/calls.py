"""Telephone calls: who is speaking to whom, and the first step of an answered call.

A call placed for an outbound message fetches its first step when the patient answers
(`start_call`): the script the message's kind registered (`app.messaging.registry`)
speaks in the patient's language, if Twilio has a voice for it, else the next language
of their chain that has one. A message that is gone, or has nothing left to say, gets a
polite goodbye: Twilio reads any error status to the caller as a failure.
"""

from __future__ import annotations

import logging
from datetime import datetime

from app.clinics.models import Clinic
from app.core.channels import Channel
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.registry import call_script_for
from app.messaging.speaker import Speaker, speaker_for
from app.messaging.voice import GOODBYE, NOT_HEARD, SAY_LANGUAGES, VoiceStep, say_language
from app.patients.models import Patient

log = logging.getLogger(__name__)


def call_speaker(patient_id: int, clinic_id: int) -> Speaker | None:
    """How to speak to the patient on the telephone; None if either is unknown."""
    patient = db.session.get(Patient, patient_id)
    clinic = db.session.get(Clinic, clinic_id)
    if patient is None or clinic is None:
        return None
    return speaker_for(patient, clinic, languages=SAY_LANGUAGES)


def step_for(speaker: Speaker) -> VoiceStep:
    """An empty step in the speaker's voice."""
    return VoiceStep(say_language(speaker.locale))


def goodbye(speaker: Speaker | None = None) -> VoiceStep:
    """Thank, say goodbye and hang up (in English when the patient is unknown)."""
    if speaker is None:
        return VoiceStep(say_language("en")).say(GOODBYE).end()
    return step_for(speaker).say(speaker.say(GOODBYE)).end()


def not_heard(speaker: Speaker) -> str:
    """ "Sorry, we did not get that", before a question is asked again."""
    return speaker.say(NOT_HEARD)


def start_call(message_id: int, now: datetime) -> VoiceStep:
    """The first step of the call placed for message `message_id`."""
    message = db.session.get(OutboundMessage, message_id)
    speaker = call_speaker(message.patient_id, message.clinic_id) if message else None
    if message is None or speaker is None or message.channel != Channel.VOICE:
        log.warning("voice: no call for message %s", message_id)
        return goodbye()
    script = call_script_for(MessageKind(message.kind))
    step = script(message, speaker, now) if script is not None else None
    return step if step is not None else goodbye(speaker)
