"""Timed work for the simulator: one background thread, and signed webhook posts."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from twilio.request_validator import RequestValidator

from app.simulator.draws import keyed_rng
from app.simulator.posting import PostFailed, is_plain_http, post_form
from app.simulator.store import API_VERSION, SimMessage

log = logging.getLogger(__name__)

#: Twilio gives up on a webhook quickly; so does the simulator (connect, read).
WEBHOOK_TIMEOUT = (2.0, 5.0)


class Scheduler:
    """Runs actions at their due time, in time order, on background threads.

    With one thread (the default) actions scheduled for the same instant run in the
    order they were scheduled. With several, due actions start in that order but may
    overlap, as Twilio's own webhooks do; only actions that share a key (a patient's
    number) never overlap: they run one at a time, in due order. An action may schedule
    more actions; `flush` waits for those too.

    A held scheduler (`held=True`) runs nothing until `flush`: the caller steps the
    carrier, and nothing it sends in between is delivered behind its back. Time is then
    simulated rather than waited for: an action falls due its delay after the action
    that scheduled it (or after the previous flush), so each key's actions run in an
    order that depends on the delays alone and not on how the threads are timed.
    """

    def __init__(self, threads: int = 1, *, held: bool = False) -> None:
        if threads < 1:
            raise ValueError("a scheduler needs at least one thread")
        #: Each key's actions, soonest first: (due, order, action).
        self._by_key: dict[str, list[tuple[float, int, Callable[[], None]]]] = {}
        #: The first action of every key that is not running: (due, order, key). Stale
        #: entries (the key is busy, or its first action changed) are skipped.
        self._ready: list[tuple[float, int, str]] = []
        self._busy: set[str] = set()
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._unfinished = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._size = threads
        self._held = held
        self._flushing = 0
        #: Simulated time (held): when actions scheduled from outside fall due from, and
        #: the latest due time of any action started so far.
        self._epoch = 0.0
        self._latest = 0.0
        self._running = threading.local()

    def start(self) -> None:
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._run, name=f"sim-delivery-{i}", daemon=True)
            for i in range(self._size)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop the thread; actions not yet due are dropped."""
        with self._cond:
            self._stopping = True
            self._by_key.clear()
            self._ready.clear()
            self._unfinished = 0
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5.0)

    def after(self, delay: float, action: Callable[[], None], key: str | None = None) -> None:
        """Run `action` once, `delay` seconds from now, never alongside another action
        with the same `key`."""
        with self._cond:
            order = next(self._order)
            if self._held:
                scheduler_at: float | None = getattr(self._running, "due", None)
                due = (self._epoch if scheduler_at is None else scheduler_at) + max(0.0, delay)
            else:
                due = time.monotonic() + max(0.0, delay)
            slot = key if key is not None else f"\x00{order}"
            entries = self._by_key.setdefault(slot, [])
            heapq.heappush(entries, (due, order, action))
            if slot not in self._busy and entries[0][1] == order:
                heapq.heappush(self._ready, (due, order, slot))
            self._unfinished += 1
            self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until every scheduled action has run; False if `timeout` passed first.

        A held scheduler runs its actions now, and holds what is scheduled afterwards
        again (including what a flush that timed out left undone).
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                while self._unfinished:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._cond.wait(left)
                return True
            finally:
                self._flushing -= 1
                self._epoch = max(self._epoch, self._latest)

    def _run(self) -> None:
        while True:
            taken = self._next_due()
            if taken is None:
                return
            slot, due, action = taken
            self._running.due = due
            try:
                action()
            except Exception as exc:
                # One bad action must not stop the rest. Only the type is logged: a
                # message or traceback could quote a number or a body.
                log.error("simulator action failed: %s", type(exc).__name__)
            finally:
                self._running.due = None
            with self._cond:
                self._busy.discard(slot)
                entries = self._by_key.get(slot)
                if entries:
                    heapq.heappush(self._ready, (entries[0][0], entries[0][1], slot))
                self._unfinished = max(0, self._unfinished - 1)
                self._cond.notify_all()

    def _next_due(self) -> tuple[str, float, Callable[[], None]] | None:
        with self._cond:
            while not self._stopping:
                wait = None
                if not self._held or self._flushing:
                    taken, wait = self._take()
                    if taken is not None:
                        return taken
                self._cond.wait(wait)
            return None

    def _take(self) -> tuple[tuple[str, float, Callable[[], None]] | None, float | None]:
        """The soonest action whose key is free, if it is due (it is taken: its key is
        busy until it ends); else None and how long until it is due (None: until
        something changes). Call with the condition held."""
        while self._ready:
            due, order, slot = self._ready[0]
            entries = self._by_key.get(slot)
            if slot in self._busy or not entries or entries[0][1] != order:
                heapq.heappop(self._ready)
                continue
            if not self._held:
                left = due - time.monotonic()
                if left > 0:
                    return None, left
            heapq.heappop(self._ready)
            action = heapq.heappop(entries)[2]
            if not entries:
                del self._by_key[slot]
            self._busy.add(slot)
            self._latest = max(self._latest, due)
            return (slot, due, action), None
        return None, None


@dataclass(frozen=True)
class WebhookRecord:
    """One webhook the simulator posted (or chose to drop). Holds no number and no body."""

    kind: str  # "status", "inbound" or "voice" (a call fetching its TwiML)
    path: str
    #: The app's HTTP status; None when it could not be reached or the post was dropped.
    status_code: int | None
    dropped: bool = False


class WebhookPoster:
    """Posts form-encoded webhooks signed with X-Twilio-Signature, as Twilio does."""

    def __init__(self, auth_token: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._session = requests.Session()
        self._lock = threading.Lock()
        self.log: list[WebhookRecord] = []

    def sign(self, url: str, form: Mapping[str, str]) -> str:
        """The signature Twilio would put on a POST of `form` to `url`."""
        return str(self._validator.compute_signature(url, dict(form)))

    def post(self, kind: str, url: str, form: Mapping[str, str]) -> int | None:
        """POST `form` to `url`; the app's status code, or None if it was unreachable."""
        return self.fetch(kind, url, form)[0]

    def fetch(self, kind: str, url: str, form: Mapping[str, str]) -> tuple[int | None, str]:
        """POST `form` to `url`; the app's status code (None if it was unreachable) and
        the body of its answer (a call's TwiML)."""
        headers = {"X-Twilio-Signature": self.sign(url, form), "User-Agent": "TwilioProxy/1.1"}
        code: int | None
        if is_plain_http(url):
            try:
                code, text = post_form(url, form, headers, WEBHOOK_TIMEOUT)
            except PostFailed:
                code, text = None, ""
        else:
            code, text = self._post_with_requests(url, form, headers)
        self._record(WebhookRecord(kind, urlsplit(url).path, code))
        return code, text

    def _post_with_requests(
        self, url: str, form: Mapping[str, str], headers: dict[str, str]
    ) -> tuple[int | None, str]:
        prepared = requests.Request("POST", url, data=dict(form), headers=headers).prepare()
        # requests rewrites %7E as ~; Twilio requests the URL byte for byte as it signed it.
        prepared.url = url
        try:
            response = self._session.send(prepared, timeout=WEBHOOK_TIMEOUT)
        except requests.RequestException:
            return None, ""
        return response.status_code, response.text

    def drop(self, kind: str, url: str) -> None:
        """Record a webhook the simulator decided never to send."""
        self._record(WebhookRecord(kind, urlsplit(url).path, None, dropped=True))

    def close(self) -> None:
        self._session.close()

    def _record(self, record: WebhookRecord) -> None:
        with self._lock:
            self.log.append(record)


def status_form(message: SimMessage, status: str, code: int | None) -> dict[str, str]:
    form = {
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": message.account_sid,
        "From": message.from_number or "",
        "To": message.to,
        "ApiVersion": API_VERSION,
    }
    if message.messaging_service_sid:
        form["MessagingServiceSid"] = message.messaging_service_sid
    if code is not None:
        form["ErrorCode"] = str(code)
    return form


def inbound_form(message: SimMessage) -> dict[str, str]:
    """The webhook of an incoming message; WhatsApp adds the sender's WaId."""
    form = {
        "MessageSid": message.sid,
        "SmsMessageSid": message.sid,
        "SmsSid": message.sid,
        "AccountSid": message.account_sid,
        "From": message.from_number or "",
        "To": message.to,
        "Body": message.body,
        "NumMedia": "0",
        "NumSegments": str(message.num_segments),
        "SmsStatus": "received",
        "ApiVersion": API_VERSION,
    }
    if message.messaging_service_sid:
        form["MessagingServiceSid"] = message.messaging_service_sid
    sender = message.from_number or ""
    if sender.startswith("whatsapp:+"):
        form["WaId"] = sender.removeprefix("whatsapp:+")
    return form


class Dice:
    """The simulator's random draws, each keyed by the event it decides (see `draws`):
    the same seed and event give the same draw, in whatever order threads ask."""

    def __init__(self, seed: int) -> None:
        self._seed = seed

    def uniform(self, bounds: tuple[float, float], *event: str) -> float:
        return keyed_rng(self._seed, "uniform", *event).uniform(*bounds)

    def chance(self, probability: float, *event: str) -> bool:
        if probability <= 0:
            return False
        return keyed_rng(self._seed, "chance", *event).random() < probability

    def shuffle(self, items: list[Any], *event: str) -> None:
        keyed_rng(self._seed, "shuffle", *event).shuffle(items)
