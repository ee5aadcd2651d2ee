"""A loopback Twilio: the Messages REST API, signed webhooks, faults on demand.

The real `twilio` SDK talks to it over HTTP, so code under test takes the production
path. Every create is written to a ledger, whatever its fate, so tests can count sends.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from app.simulator.api import ApiResponse, SimulatorHTTPServer, error
from app.simulator.delivery import (
    Scheduler,
    WebhookPoster,
    WebhookRecord,
    inbound_form,
    status_form,
)
from app.simulator.faults import (
    ERROR_MESSAGES,
    FAILED_CODES,
    STORED_OUTCOMES,
    CreateOutcome,
    Faults,
    LedgerEntry,
    refusal_code,
)
from app.simulator.store import (
    PRICE_PER_SEGMENT,
    FilterError,
    ListQuery,
    MessageStore,
    SimMessage,
    new_sid,
    page_payload,
)


class Responder(Protocol):
    """A simulated patient population: who answers a delivered text, and with what."""

    def reply(self, *, to: str, from_: str, body: str) -> str | None:
        """The text the patient at `to` sends back to `from_`, or None for silence."""
        ...


#: Called with (patient number, body, sid) once a message is delivered.
DeliveredHook = Callable[[str, str, str], None]


class TwilioSimulator:
    """The simulated account. Start it, point the SDK at `start()`'s URL, stop it."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        inbound_url: str | None = None,
        seed: int = 0,
        responder: Responder | None = None,
        service_numbers: Mapping[str, str] | None = None,
        on_delivered: DeliveredHook | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.inbound_url = inbound_url
        self.responder = responder
        self.on_delivered = on_delivered
        #: Messaging Service sid → the number it sends from and receives on.
        self.service_numbers = dict(service_numbers or {})
        self.faults = Faults()
        self.messages = MessageStore()
        self.ledger: list[LedgerEntry] = []
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._scheduler = Scheduler()
        self._poster = WebhookPoster(auth_token)
        self._http: SimulatorHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in background threads; returns the base URL, e.g. http://127.0.0.1:PORT."""
        self._stopping.clear()
        self._http = SimulatorHTTPServer((host, port), self)
        # A short poll interval keeps stop() quick; shutdown waits for the next poll.
        threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sim-http",
            daemon=True,
        ).start()
        self._scheduler.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving; stalled requests give up and pending webhooks are dropped."""
        self._stopping.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        self._scheduler.stop()
        self._poster.close()

    @property
    def base_url(self) -> str:
        if self._http is None:
            raise RuntimeError("the simulator is not started")
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until every scheduled status change and webhook has happened (or was
        dropped); False if `timeout` passed first."""
        return self._scheduler.flush(timeout)

    def stall(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    # -- what tests read -------------------------------------------------------------

    @property
    def webhook_log(self) -> list[WebhookRecord]:
        """Every webhook posted or dropped: kind, URL path and the app's status code."""
        return list(self._poster.log)

    def creates_to(self, number: str, *, stored_only: bool = False) -> int:
        """How many create requests named `number` (only those the provider kept, if
        `stored_only`)."""
        with self._lock:
            return sum(
                1
                for e in self.ledger
                if e.to == number and (not stored_only or e.outcome in STORED_OUTCOMES)
            )

    def duplicate_sends(self) -> int:
        """Extra stored creates of one logical message: same To and same StatusCallback.

        The callback URL carries the sender's own message id, so two stored creates that
        share it are the same message sent twice. Refused creates (429, 400) and creates
        without a callback are not counted.
        """
        with self._lock:
            keys = Counter(
                (e.to, e.status_callback)
                for e in self.ledger
                if e.status_callback and e.outcome in STORED_OUTCOMES
            )
        return sum(n - 1 for n in keys.values())

    # -- the REST API ----------------------------------------------------------------

    def create_message(self, form: Mapping[str, str]) -> ApiResponse:
        """Create as Twilio does, after applying any fault that is due."""
        to, body = form.get("To", ""), form.get("Body")
        sender = form.get("From") or form.get("MessagingServiceSid", "")
        callback = form.get("StatusCallback") or None
        if self._take("rate_limit_next"):
            self._write_ledger(form, None, CreateOutcome.RATE_LIMITED, 20429)
            return error(429, 20429)
        service = form.get("MessagingServiceSid")
        code = refusal_code(to, form.get("From"), service, body, self.service_numbers)
        code = code or self.faults.reject_numbers.get(to)
        if code is not None:
            self._write_ledger(form, None, CreateOutcome.REJECTED, code)
            return error(400, code)
        message = self._store_outbound(to, sender, body or "", callback)
        return self._answer_create(form, message)

    def list_messages(self, params: Mapping[str, str]) -> ApiResponse:
        """One page of Twilio's list, newest first, with its paging links."""
        try:
            query = ListQuery.from_params(params)
        except FilterError as exc:
            return error(400, 20001, str(exc))
        found, more = self.messages.page(query)
        return ApiResponse(200, page_payload(self.account_sid, query, found, more))

    def fetch_message(self, sid: str) -> ApiResponse:
        message = self.messages.find(sid)
        return ApiResponse(200, message.to_json()) if message else error(404, 20404)

    def update_message(self, sid: str, form: Mapping[str, str]) -> ApiResponse:
        """Redaction only: Body must be the empty string."""
        if form.get("Body") != "":
            return error(400, 20001, "Only redaction (an empty Body) is supported")
        message = self.messages.update(sid, body="", updated_at=self._now())
        return ApiResponse(200, message.to_json()) if message else error(404, 20404)

    def inject_inbound(self, from_: str, to: str, body: str) -> str:
        """A text the patient at `from_` starts; stored, and posted to `inbound_url`."""
        service = next((mg for mg, n in self.service_numbers.items() if n == to), None)
        return self._receive(from_, to, body, service)

    # -- creating --------------------------------------------------------------------

    def _store_outbound(self, to: str, sender: str, body: str, callback: str | None) -> SimMessage:
        via_service = sender.startswith("MG")
        message = SimMessage(
            sid=new_sid("SM"),
            account_sid=self.account_sid,
            to=to,
            from_number=self.service_numbers[sender] if via_service else sender,
            body=body,
            direction="outbound-api",
            status="accepted" if via_service else "queued",
            created_at=self._now(),
            messaging_service_sid=sender if via_service else None,
            status_callback=callback,
        )
        self.messages.add(message)
        self._schedule_lifecycle(message)
        return message

    def _answer_create(self, form: Mapping[str, str], message: SimMessage) -> ApiResponse:
        created = ApiResponse(201, message.to_json())
        if self._take("server_error_next"):
            self._write_ledger(form, message.sid, CreateOutcome.SERVER_ERROR, 20500)
            return error(500, 20500)
        if self._take("hang_next"):
            self._write_ledger(form, message.sid, CreateOutcome.HUNG)
            return ApiResponse(201, created.payload, self.faults.hang_seconds)
        self._write_ledger(form, message.sid, CreateOutcome.ACCEPTED)
        return created

    def _take(self, counter: str) -> bool:
        """Use up one firing of a countdown fault, if any is left."""
        with self._lock:
            left: int = getattr(self.faults, counter)
            if left <= 0:
                return False
            setattr(self.faults, counter, left - 1)
            return True

    def _write_ledger(
        self,
        form: Mapping[str, str],
        sid: str | None,
        outcome: CreateOutcome,
        code: int | None = None,
    ) -> None:
        validity = form.get("ValidityPeriod", "")
        entry = LedgerEntry(
            sid=sid,
            to=form.get("To", ""),
            from_=form.get("From") or form.get("MessagingServiceSid", ""),
            body=form.get("Body", ""),
            status_callback=form.get("StatusCallback") or None,
            at=self._now(),
            outcome=outcome,
            error_code=code,
            validity_period=int(validity) if validity.isdigit() else None,
        )
        with self._lock:
            self.ledger.append(entry)

    # -- delivery --------------------------------------------------------------------

    def _schedule_lifecycle(self, message: SimMessage) -> None:
        """Queue the status changes of one accepted message, and its callbacks."""
        steps = self._steps(message.to)
        at = 0.0
        times = []
        for status, code in steps:
            at += self._uniform(self.faults.status_delay)
            times.append(at)
            self._scheduler.after(at, self._advance_action(message, status, code))
        if message.status_callback:
            self._schedule_callbacks(message, steps, times)

    def _steps(self, to: str) -> list[tuple[str, int | None]]:
        code = self.faults.undelivered_numbers.get(to)
        if code is None:
            return [("queued", None), ("sent", None), ("delivered", None)]
        if code in FAILED_CODES:
            return [("queued", None), ("failed", code)]
        return [("queued", None), ("sent", None), ("undelivered", code)]

    def _schedule_callbacks(
        self, message: SimMessage, steps: list[tuple[str, int | None]], times: list[float]
    ) -> None:
        url = message.status_callback or ""
        order = list(steps)
        if self.faults.reorder:
            self._shuffle(order)
        for (status, code), at in zip(order, times, strict=True):
            if status not in self.faults.callback_statuses:
                continue
            form = status_form(message, status, code)
            copies = 2 if self._chance(self.faults.duplicate_callbacks) else 1
            for copy in range(copies):
                delay = at + copy * self._uniform(self.faults.status_delay)
                if self._chance(self.faults.drop_callbacks):
                    self._scheduler.after(delay, lambda: self._poster.drop("status", url))
                else:
                    self._scheduler.after(delay, _post_action(self._poster, "status", url, form))

    def _advance_action(
        self, message: SimMessage, status: str, code: int | None
    ) -> Callable[[], None]:
        def advance() -> None:
            now = self._now()
            changes: dict[str, object] = {"status": status, "updated_at": now}
            if status == "sent":
                segments = message.num_segments or 1
                changes |= {"sent_at": now, "price": f"-{float(PRICE_PER_SEGMENT) * segments:.5f}"}
            if code is not None:
                changes |= {"error_code": code, "error_message": ERROR_MESSAGES.get(code)}
            self.messages.update(message.sid, **changes)
            if status == "delivered":
                self._delivered(message)

        return advance

    def _delivered(self, message: SimMessage) -> None:
        if self.on_delivered is not None:
            self.on_delivered(message.to, message.body, message.sid)
        if self.responder is None or message.from_number is None:
            return
        text = self.responder.reply(to=message.to, from_=message.from_number, body=message.body)
        if text is not None:
            patient, clinic = message.to, message.from_number
            service = message.messaging_service_sid

            def answer() -> None:
                self._receive(patient, clinic, text, service)

            self._scheduler.after(self._uniform(self.faults.reply_delay), answer)

    def _receive(self, from_: str, to: str, body: str, service: str | None) -> str:
        now = self._now()
        message = SimMessage(
            sid=new_sid("SM"),
            account_sid=self.account_sid,
            to=to,
            from_number=from_,
            body=body,
            direction="inbound",
            status="received",
            created_at=now,
            sent_at=now,
            messaging_service_sid=service,
        )
        self.messages.add(message)
        if self.inbound_url:
            url = self.inbound_url
            if self._chance(self.faults.drop_inbound):
                self._scheduler.after(0.0, lambda: self._poster.drop("inbound", url))
            else:
                form = inbound_form(message)
                self._scheduler.after(0.0, _post_action(self._poster, "inbound", url, form))
        return message.sid

    # -- randomness and time ---------------------------------------------------------

    def _now(self) -> datetime:
        # Twilio's timestamps have whole seconds; keeping ours alike makes filters agree.
        return self._clock().astimezone(UTC).replace(microsecond=0)

    def _uniform(self, bounds: tuple[float, float]) -> float:
        with self._lock:
            return self._rng.uniform(*bounds)

    def _chance(self, probability: float) -> bool:
        with self._lock:
            return probability > 0 and self._rng.random() < probability

    def _shuffle(self, items: list[tuple[str, int | None]]) -> None:
        with self._lock:
            self._rng.shuffle(items)


def _post_action(
    poster: WebhookPoster, kind: str, url: str, form: dict[str, str]
) -> Callable[[], None]:
    def post() -> None:
        poster.post(kind, url, form)

    return post
