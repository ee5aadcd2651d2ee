"""Timed work for the simulator: one background thread, and signed webhook posts."""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from twilio.request_validator import RequestValidator

from app.simulator.store import API_VERSION, SimMessage

log = logging.getLogger(__name__)

#: Twilio gives up on a webhook quickly; so does the simulator (connect, read).
WEBHOOK_TIMEOUT = (2.0, 5.0)


class Scheduler:
    """Runs actions at their due time, in time order, on background threads.

    With one thread (the default) actions scheduled for the same instant run in the
    order they were scheduled. With several, due actions start in that order but may
    overlap, as Twilio's own webhooks do. An action may schedule more actions; `flush`
    waits for those too.
    """

    def __init__(self, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError("a scheduler needs at least one thread")
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._unfinished = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._size = threads

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
            self._queue.clear()
            self._unfinished = 0
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5.0)

    def after(self, delay: float, action: Callable[[], None]) -> None:
        """Run `action` once, `delay` seconds from now."""
        with self._cond:
            due = time.monotonic() + max(0.0, delay)
            heapq.heappush(self._queue, (due, next(self._order), action))
            self._unfinished += 1
            self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until every scheduled action has run; False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._unfinished:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _run(self) -> None:
        while True:
            action = self._next_due()
            if action is None:
                return
            try:
                action()
            except Exception as exc:
                # One bad action must not stop the rest. Only the type is logged: a
                # message or traceback could quote a number or a body.
                log.error("simulator action failed: %s", type(exc).__name__)
            with self._cond:
                self._unfinished = max(0, self._unfinished - 1)
                self._cond.notify_all()

    def _next_due(self) -> Callable[[], None] | None:
        with self._cond:
            while not self._stopping:
                if self._queue:
                    wait = self._queue[0][0] - time.monotonic()
                    if wait <= 0:
                        return heapq.heappop(self._queue)[2]
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None


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
        prepared = requests.Request("POST", url, data=dict(form), headers=headers).prepare()
        # requests rewrites %7E as ~; Twilio requests the URL byte for byte as it signed it.
        prepared.url = url
        try:
            response = self._session.send(prepared, timeout=WEBHOOK_TIMEOUT)
            code: int | None = response.status_code
            text = response.text
        except requests.RequestException:
            code, text = None, ""
        self._record(WebhookRecord(kind, urlsplit(url).path, code))
        return code, text

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
    """The simulator's random draws: one seeded generator, safe across threads."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def uniform(self, bounds: tuple[float, float]) -> float:
        with self._lock:
            return self._rng.uniform(*bounds)

    def chance(self, probability: float) -> bool:
        with self._lock:
            return probability > 0 and self._rng.random() < probability

    def shuffle(self, items: list[Any]) -> None:
        with self._lock:
            self._rng.shuffle(items)
