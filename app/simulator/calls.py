"""Calls in the simulator: the Call resource, and playing the app's TwiML to a callee.

A created call rings the callee, who answers or not (busy, no-answer). An answered call
fetches its TwiML from the call's Url with a signed POST, as Twilio does, and follows
it: `<Say>` and `<Pause>` take time, `<Gather>` asks the callee for keys and posts them
to its action, a Gather with no keys falls through to the next verb, `<Redirect>`
fetches the next document, `<Hangup>` or the end of a document ends the call. Every
request is a POST (the `Method` given at create is not honoured).

What the callee heard and pressed is kept in the call's transcript for tests.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urljoin

from app.simulator.delivery import WebhookPoster
from app.simulator.store import API_VERSION, RecordStore, new_sid, rfc2822

#: How the callee may take a call; "answered" plays the TwiML.
ANSWER_OUTCOMES = frozenset({"answered", "busy", "no-answer", "failed"})
#: Documents one call may fetch before the simulator hangs up (a redirect loop).
MAX_DOCUMENTS = 40
#: Roughly how fast text-to-speech reads: characters per second.
SPEECH_RATE = 14.0
#: Seconds Twilio waits in a Gather without a timeout attribute.
DEFAULT_GATHER_TIMEOUT = 5


@dataclass(frozen=True)
class CallEvent:
    """One thing that happened on a call: "say", "press", "timeout", "hangup",
    "error" or "unsupported"."""

    kind: str
    text: str = ""
    language: str | None = None


@dataclass(frozen=True)
class Prompt:
    """What the callee has to go on when a Gather waits for keys."""

    #: Everything said inside the Gather.
    text: str
    #: Everything said since the call was answered or the last key press, Gather included.
    heard: str
    language: str | None
    num_digits: int | None


class Callee(Protocol):
    """Who picks up the simulator's calls."""

    def answer_call(self, *, to: str, from_: str) -> str:
        """One of ANSWER_OUTCOMES."""
        ...

    def press(self, *, to: str, prompt: Prompt) -> str | None:
        """The keys pressed for a Gather, or None for none."""
        ...


@dataclass
class SimCall:
    """One call as the simulated provider holds it."""

    sid: str
    account_sid: str
    to: str
    from_number: str | None
    status: str
    created_at: datetime
    url: str
    status_callback: str | None = None
    #: Progress events with a callback: initiated, ringing, answered, completed.
    callback_events: tuple[str, ...] = ("completed",)
    ring_timeout: int = 60
    direction: str = "outbound-api"
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    updated_at: datetime | None = None
    transcript: tuple[CallEvent, ...] = ()

    @property
    def listed_at(self) -> datetime:
        return self.start_time or self.created_at

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}.json"

    def to_json(self) -> dict[str, Any]:
        """The resource as Twilio's REST API renders it."""
        base = self.uri.removesuffix(".json")
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": rfc2822(self.created_at),
            "date_updated": rfc2822(self.updated_at or self.created_at),
            "direction": self.direction,
            "duration": None if self.duration is None else str(self.duration),
            "end_time": rfc2822(self.end_time),
            "forwarded_from": None,
            "from": self.from_number,
            "from_formatted": self.from_number,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": rfc2822(self.start_time),
            "status": self.status,
            "subresource_uris": {"notifications": f"{base}/Notifications.json"},
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": self.uri,
        }


def call_form(call: SimCall, status: str) -> dict[str, str]:
    """The fields Twilio sends with every request about a call."""
    return {
        "AccountSid": call.account_sid,
        "ApiVersion": API_VERSION,
        "CallSid": call.sid,
        "CallStatus": status,
        "Called": call.to,
        "Caller": call.from_number or "",
        "Direction": call.direction,
        "From": call.from_number or "",
        "To": call.to,
    }


def progress_form(call: SimCall, status: str, sequence: int, at: datetime) -> dict[str, str]:
    """A call progress (status) callback; a completed call reports its duration."""
    form = call_form(call, status)
    form |= {
        "CallbackSource": "call-progress-events",
        "SequenceNumber": str(sequence),
        "Timestamp": rfc2822(at) or "",
    }
    if status == "completed" and call.duration is not None:
        form["CallDuration"] = str(call.duration)
        form["Duration"] = str(max(1, math.ceil(call.duration / 60)))
    return form


@dataclass
class CallPlayer:
    """Plays the TwiML of one answered call to its callee."""

    call: SimCall
    poster: WebhookPoster
    callee: Callee | None
    events: list[CallEvent] = field(default_factory=list)
    seconds: float = 0.0
    _heard: list[str] = field(default_factory=list)

    def play(self) -> None:
        """Follow the call's documents until it hangs up or runs out of TwiML."""
        step: tuple[str, str | None] | None = (self.call.url, None)
        for _ in range(MAX_DOCUMENTS):
            if step is None:
                return
            url, digits = step
            document = self._fetch(url, digits)
            step = self._follow(document, url) if document is not None else None
        if step is not None:
            self.events.append(CallEvent("error", "too many redirects"))

    def _fetch(self, url: str, digits: str | None) -> ET.Element | None:
        form = call_form(self.call, "in-progress")
        if digits is not None:
            form |= {"Digits": digits, "FinishedOnKey": ""}
        status, text = self.poster.fetch("voice", url, form)
        if status != 200:
            self.events.append(CallEvent("error", f"http {status}"))
            return None
        try:
            # Loopback only: the TwiML comes from the app under test, not from strangers.
            root = ET.fromstring(text)  # noqa: S314
        except ET.ParseError:
            self.events.append(CallEvent("error", "not TwiML"))
            return None
        if root.tag != "Response":
            self.events.append(CallEvent("error", "not TwiML"))
            return None
        return root

    def _follow(self, document: ET.Element, url: str) -> tuple[str, str | None] | None:
        """Run one document's verbs; the next (url, digits) to fetch, or None at the end."""
        for verb in document:
            if verb.tag == "Say":
                self._say(verb)
            elif verb.tag == "Pause":
                self.seconds += _number(verb.get("length"), 1)
            elif verb.tag == "Gather":
                pressed = self._gather(verb, url)
                if pressed is not None:
                    return pressed
            elif verb.tag == "Redirect":
                return urljoin(url, (verb.text or "").strip()), None
            elif verb.tag in ("Hangup", "Reject"):
                self.events.append(CallEvent("hangup"))
                return None
            else:
                self.events.append(CallEvent("unsupported", verb.tag))
        return None

    def _say(self, verb: ET.Element) -> None:
        text = (verb.text or "").strip()
        self.events.append(CallEvent("say", text, verb.get("language")))
        self._heard.append(text)
        self.seconds += len(text) / SPEECH_RATE

    def _gather(self, verb: ET.Element, url: str) -> tuple[str, str | None] | None:
        said: list[str] = []
        for child in verb:
            if child.tag == "Say":
                self._say(child)
                said.append((child.text or "").strip())
        action = urljoin(url, verb.get("action") or url)
        digits = verb.get("numDigits")
        prompt = Prompt(
            text=" ".join(said),
            heard=" ".join(self._heard),
            language=next((c.get("language") for c in verb if c.tag == "Say"), None),
            num_digits=int(digits) if digits and digits.isdigit() else None,
        )
        keys = self.callee.press(to=self.call.to, prompt=prompt) if self.callee else None
        if keys:
            self.events.append(CallEvent("press", keys))
            self._heard.clear()
            self.seconds += 1 + len(keys)
            return action, keys
        self.events.append(CallEvent("timeout"))
        self.seconds += _number(verb.get("timeout"), DEFAULT_GATHER_TIMEOUT)
        if verb.get("actionOnEmptyResult") == "true":
            return action, ""
        return None


def _number(raw: str | None, default: float) -> float:
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


def answer(callee: Callee | None, forced: str | None, call: SimCall) -> str:
    """How the call is taken: a forced outcome, else the callee's choice; a call with
    nobody to take it is answered and then hears its TwiML without pressing a key."""
    if forced is not None:
        return forced
    if callee is None:
        return "answered"
    outcome = callee.answer_call(to=call.to, from_=call.from_number or "")
    return outcome if outcome in ANSWER_OUTCOMES else "no-answer"


#: Posts one status callback of a call: (url, form).
StatusPoster = Callable[[str, dict[str, str]], None]


class Switchboard:
    """The simulator's calls: where they are kept, who takes them, and playing them.

    `place` runs on the simulator's delivery thread: it rings, plays the whole call and
    posts the progress callbacks the create asked for.
    """

    def __init__(
        self, poster: WebhookPoster, now: Callable[[], datetime], post_status: StatusPoster
    ) -> None:
        self.calls: RecordStore[SimCall] = RecordStore()
        self.callee: Callee | None = None
        self._poster = poster
        self._now = now
        self._post_status = post_status

    def open(self, form: Mapping[str, str], account_sid: str, now: datetime) -> SimCall:
        """Keep a new, queued call made from a create's (already checked) form."""
        call = SimCall(
            sid=new_sid("CA"),
            account_sid=account_sid,
            to=form.get("To", ""),
            from_number=form.get("From"),
            status="queued",
            created_at=now,
            url=form.get("Url", ""),
            status_callback=form.get("StatusCallback") or None,
            callback_events=tuple((form.get("StatusCallbackEvent") or "completed").split()),
        )
        self.calls.add(call)
        return call

    def place(self, sid: str, forced: str | None = None) -> None:
        """Ring the call `sid`; `forced` overrides how the callee takes it."""
        call = self.calls.find(sid)
        if call is None:
            return
        sequence = iter(range(100))
        for event, status in (("initiated", "initiated"), ("ringing", "ringing")):
            self._report(call, event, status, next(sequence))
        outcome = answer(self.callee, forced, call)
        now = self._now()
        if outcome != "answered":
            ended = self.calls.update(sid, status=outcome, updated_at=now)
            if ended is not None:
                self._report(ended, "completed", outcome, next(sequence))
            return
        started = self.calls.update(sid, status="in-progress", start_time=now, updated_at=now)
        if started is None:
            return
        self._report(started, "answered", "in-progress", next(sequence))
        player = CallPlayer(started, self._poster, self.callee)
        player.play()
        seconds = max(1, math.ceil(player.seconds))
        ended = self.calls.update(
            sid,
            status="completed",
            duration=seconds,
            end_time=now + timedelta(seconds=seconds),
            updated_at=self._now(),
            transcript=tuple(player.events),
        )
        if ended is not None:
            self._report(ended, "completed", "completed", next(sequence))

    def _report(self, call: SimCall, event: str, status: str, sequence: int) -> None:
        if call.status_callback and event in call.callback_events:
            self._post_status(
                call.status_callback, progress_form(call, status, sequence, self._now())
            )
