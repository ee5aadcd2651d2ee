"""What features plug into messaging at start-up.

Messaging knows no feature: it stores, sends, receives and routes. `create_app` fills
these registries once per process (`app.wiring`), as it builds the channels:

- a **composer** for each message kind composed at send time (a reminder, a survey
  invitation): the dispatcher looks it up by `MessageKind`;
- a **call script** for each kind that can go as a telephone call: the first step the
  call takes when it is answered;
- the **reply handlers**, in their one order of precedence: the inbox offers each
  stored reply to them in turn until one takes it;
- **superseded listeners**, told when a message is replaced by a copy on another
  channel (a survey closes the conversation the first copy opened);
- **failure listeners**, told when a message could not reach the patient and no
  other channel will try (the clinic's systems hear of it as an event);
- the **template sets**: the texts each feature sends, by name, which clinics may
  override and `wesaid templates check` lints.

Registering again under the same key replaces what was there, so building several
apps in one process (as the tests do) is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.core.channels import Channel
from app.core.clock import Clock
from app.messaging.kinds import MessageKind
from app.messaging.states import MessageState

if TYPE_CHECKING:
    from app.messaging.inbox import Conversation
    from app.messaging.models import OutboundMessage
    from app.messaging.speaker import Speaker
    from app.messaging.voice import VoiceStep


class Withheld(Exception):
    """The message must not go; it ends in `state` (and `error_code`) unsent."""

    def __init__(self, state: MessageState, error_code: int | None = None) -> None:
        super().__init__(state.value)
        self.state = state
        self.error_code = error_code


@dataclass(frozen=True)
class Outgoing:
    """What a composer knows of the message it composes, read once by the dispatcher."""

    message_id: int
    kind: MessageKind
    channel: Channel
    patient_id: int
    clinic_id: int
    appointment_id: int | None
    #: The patient's own locale, and the clinic's name, zone and default locale.
    patient_locale: str | None
    clinic_name: str
    timezone: str
    default_locale: str


@dataclass(frozen=True)
class ComposeContext:
    """What a composer may need of the app composing: the time, the public address
    links point at, and the key links and pseudonyms are derived from.

    `batch` is shared by every message of one batch: a kind's prefetch reads there, in
    a few queries, what its composer would otherwise read once per message."""

    now: datetime
    clock: Clock
    public_base_url: str
    secret_key: str
    batch: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Draft:
    """A composed message: its body, the locale it is in, and the values of the approved
    WhatsApp template that carries it outside the 24-hour window ({"2": date, ...};
    "1" is always the clinic's name)."""

    body: str
    locale: str
    template_values: Mapping[str, str] = field(default_factory=dict)


#: Composes one message at send time; raises Withheld when it must not go. May write
#: (a survey invitation opens its conversation) but never commits.
Composer = Callable[[Outgoing, ComposeContext], Draft]
#: Reads ahead, into `ComposeContext.batch`, what the kind's composer needs for a batch
#: of messages about to be composed together. Never writes.
Prefetch = Callable[[Sequence[Outgoing], ComposeContext], None]
#: Takes a stored reply if it is for this feature; True when it did. Never commits.
ReplyHandler = Callable[["Conversation"], bool]
#: Told that a message was replaced on another channel. Never commits.
SupersededListener = Callable[["OutboundMessage", datetime], None]
#: The first step of a call placed for a message of one kind, spoken by the speaker
#: given; None when there is nothing left to say (the call then says goodbye).
CallScript = Callable[["OutboundMessage", "Speaker", datetime], "VoiceStep | None"]


@dataclass(frozen=True)
class TemplateSet:
    """The texts one feature sends: name → gettext message id.

    `plurals` holds texts with a singular and a plural form. `samples(locale, count)`
    gives sample values for the placeholders only this feature's texts use, as the
    patient would read them, so that the template checks measure real lengths.
    """

    texts: Mapping[str, str]
    plurals: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    samples: Callable[[str, int], Mapping[str, object]] | None = None


_composers: dict[MessageKind, Composer] = {}
_prefetches: dict[MessageKind, Prefetch] = {}
_call_scripts: dict[MessageKind, CallScript] = {}
_reply_handlers: list[ReplyHandler] = []
_superseded: dict[str, SupersededListener] = {}
#: Told (message id, when) of a message that failed or was undelivered for good.
FailureListener = Callable[[int, datetime], object]
_failed: dict[str, FailureListener] = {}
_template_sets: dict[str, TemplateSet] = {}


def register_composer(
    kind: MessageKind, composer: Composer, prefetch: Prefetch | None = None
) -> None:
    """Compose messages of `kind` with `composer` at send time, after `prefetch` (if
    any) has read ahead for the batch they are sent in."""
    _composers[kind] = composer
    if prefetch is None:
        _prefetches.pop(kind, None)
    else:
        _prefetches[kind] = prefetch


def prefetch_for(kind: MessageKind) -> Prefetch | None:
    return _prefetches.get(kind)


def composer_for(kind: MessageKind) -> Composer | None:
    """The composer of `kind`; None for kinds whose body is written when they are made."""
    return _composers.get(kind)


def register_call_script(kind: MessageKind, script: CallScript) -> None:
    """Start calls placed for messages of `kind` with `script`."""
    _call_scripts[kind] = script


def call_script_for(kind: MessageKind) -> CallScript | None:
    return _call_scripts.get(kind)


def set_reply_handlers(handlers: Sequence[ReplyHandler]) -> None:
    """The reply handlers, first to last in their order of precedence."""
    _reply_handlers[:] = list(handlers)


def reply_handlers() -> tuple[ReplyHandler, ...]:
    return tuple(_reply_handlers)


def on_superseded(name: str, listener: SupersededListener) -> None:
    """Tell `listener` (registered under `name`) when a message is replaced."""
    _superseded[name] = listener


def superseded_listeners() -> tuple[SupersededListener, ...]:
    return tuple(_superseded.values())


def on_failed(name: str, listener: FailureListener) -> None:
    """Tell `listener` (registered under `name`) of every message that failed with no
    fallback. It runs in the caller's transaction and never commits."""
    _failed[name] = listener


def tell_failed(message_id: int, now: datetime) -> None:
    """Tell the failure listeners that message `message_id` failed for good."""
    for listener in _failed.values():
        listener(message_id, now)


def register_templates(name: str, template_set: TemplateSet) -> None:
    """Make `template_set` (registered under `name`) known to overrides and checks."""
    _template_sets[name] = template_set


def template_sets() -> Mapping[str, TemplateSet]:
    return dict(_template_sets)


def template_texts() -> dict[str, str]:
    """Every registered text: name → gettext message id."""
    texts: dict[str, str] = {}
    for template_set in _template_sets.values():
        texts |= template_set.texts
    return texts


def sample_values(locale: str, count: int = 1) -> dict[str, Any]:
    """What every registered set adds to the sample placeholder values for `locale`."""
    values: dict[str, Any] = {}
    for template_set in _template_sets.values():
        if template_set.samples is not None:
            values |= template_set.samples(locale, count)
    return values
