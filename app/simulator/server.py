"""A loopback Twilio: the Messages and Calls REST API, signed webhooks, faults on demand.

The real `twilio` SDK talks to it over HTTP, so code under test takes the production
path. Every create is written to a ledger, whatever its fate, so tests can count sends.
Messages are SMS or, with `whatsapp:` addresses, WhatsApp (see `whatsapp`); a text to a
landline is undelivered with error 30006. Calls ring a callee and play the app's TwiML
(see `calls`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from app.simulator.api import ApiResponse, ControlApi, SimulatorHTTPServer, error
from app.simulator.calls import Callee, SimCall, Switchboard
from app.simulator.delivery import Dice, Scheduler, WebhookPoster, WebhookRecord
from app.simulator.draws import Occurrences
from app.simulator.faults import (
    CreateOutcome,
    Faults,
    HoldGate,
    Ledger,
    LedgerEntry,
    call_refusal_code,
    message_refusal,
)
from app.simulator.messages import Courier, DeliveredHook, Responder
from app.simulator.store import (
    CALL_DATE,
    FilterError,
    ListQuery,
    MessageStore,
    RecordStore,
    page_payload,
)
from app.simulator.whatsapp import OUTSIDE_WINDOW, Windows, bare, is_whatsapp

#: Call statuses after which a call has ended and its record may be deleted.
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
#: Message statuses after which a message may be deleted (a text received is final).
FINAL_MESSAGE_STATUSES = frozenset(
    {"delivered", "undelivered", "failed", "received", "read", "canceled"}
)


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
        callee: Callee | None = None,
        content_templates: Mapping[str, str] | None = None,
        delivery_threads: int = 1,
        deliver_on_flush: bool = False,
        poster: WebhookPoster | None = None,
    ) -> None:
        """`deliver_on_flush` holds every status change, callback, reply and call until
        `flush` (see `Scheduler`): a caller that alternates sending and flushing gets
        the same webhooks in the same order per patient on every run. `poster` posts
        the webhooks (default: signed HTTP posts to the app)."""
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.inbound_url = inbound_url
        self.responder = responder
        self.on_delivered = on_delivered
        #: Messaging Service sid → the number it sends from and receives on.
        self.service_numbers = dict(service_numbers or {})
        #: Approved WhatsApp templates: Content SID → text with {{1}}, {{2}} … slots.
        self.content_templates = dict(content_templates or {})
        self.faults = Faults()
        self.ledger = Ledger()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._dice = Dice(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        #: Create requests held unanswered on demand (see `HoldGate`).
        self.holds = HoldGate(self._stopping)
        self._scheduler = Scheduler(delivery_threads, held=deliver_on_flush)
        self._occurrences = Occurrences()
        self._poster = poster or WebhookPoster(auth_token)
        self._http: SimulatorHTTPServer | None = None
        self.courier = Courier(
            account_sid, self, self._scheduler, self._poster, self._dice, self._now
        )
        self.switchboard = Switchboard(self._poster, self._now, self._post_call_status)
        self.switchboard.callee = callee

    # -- lifecycle -------------------------------------------------------------------

    def start(
        self, host: str = "127.0.0.1", port: int = 0, control: ControlApi | None = None
    ) -> str:
        """Serve in background threads; returns the base URL, e.g. http://127.0.0.1:PORT.
        `control`, if given, answers the control routes (`/_control/…`)."""
        self._stopping.clear()
        self._http = SimulatorHTTPServer((host, port), self, control)
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

    @property
    def messages(self) -> MessageStore:
        return self.courier.messages

    @property
    def windows(self) -> Windows:
        """When each patient last wrote on WhatsApp (the 24-hour windows)."""
        return self.courier.windows

    @property
    def calls(self) -> RecordStore[SimCall]:
        return self.switchboard.calls

    @property
    def callee(self) -> Callee | None:
        """Who takes the calls; None answers every call and presses nothing."""
        return self.switchboard.callee

    @callee.setter
    def callee(self, callee: Callee | None) -> None:
        self.switchboard.callee = callee

    # -- what tests read -------------------------------------------------------------

    @property
    def webhook_log(self) -> list[WebhookRecord]:
        """Every webhook posted or dropped: kind, URL path and the app's status code."""
        return list(self._poster.log)

    def creates_to(self, number: str, *, stored_only: bool = False) -> int:
        """How many create requests (messages on any channel, and calls) named `number`
        (only those the provider kept, if `stored_only`)."""
        return self.ledger.creates_to(number, stored_only=stored_only)

    def duplicate_sends(self) -> int:
        """Extra stored creates of one logical message: same To and same StatusCallback.

        The callback URL carries the sender's own message id, so two stored creates that
        share it are the same message sent twice. Refused creates (429, 400) and creates
        without a callback are not counted.
        """
        return self.ledger.duplicate_sends()

    # -- the REST API ----------------------------------------------------------------

    def create_message(self, form: Mapping[str, str]) -> ApiResponse:
        """Create as Twilio does, after applying any fault that is due.

        A WhatsApp template (ContentSid) is rendered with its ContentVariables. Free
        WhatsApp text outside the patient's 24-hour window is accepted, then fails 63016.
        """
        to = form.get("To", "")
        sender = form.get("From") or form.get("MessagingServiceSid", "")
        callback = form.get("StatusCallback") or None
        strain = None if self.holds.pass_through(form) else self._strain(form)
        if self._take("rate_limit_next") or strain is CreateOutcome.RATE_LIMITED:
            self._write_ledger(form, None, CreateOutcome.RATE_LIMITED, 20429)
            return error(429, 20429)
        code, body = message_refusal(form, self.content_templates, self.service_numbers)
        code = code or self.faults.reject_numbers.get(bare(to))
        if code is not None:
            self._write_ledger(form, None, CreateOutcome.REJECTED, code)
            return error(400, code)
        late = is_whatsapp(to) and not form.get("ContentSid")
        late = late and not self.windows.is_open(to, self._now())
        message = self.courier.send(to, sender, body, callback, OUTSIDE_WINDOW if late else None)
        return self._answer_create(form, message.sid, message.to_json(), strain=strain)

    def create_call(self, form: Mapping[str, str]) -> ApiResponse:
        """Create a call as Twilio does, after applying any fault that is due. It rings
        on the delivery thread once the create is answered."""
        if self._take("rate_limit_next"):
            self._write_ledger(form, None, CreateOutcome.RATE_LIMITED, 20429, kind="call")
            return error(429, 20429)
        to, from_ = form.get("To", ""), form.get("From")
        code = call_refusal_code(to, from_, form.get("Url"))
        code = code or self.faults.reject_numbers.get(to)
        if code is not None:
            self._write_ledger(form, None, CreateOutcome.REJECTED, code, kind="call")
            return error(400, code)
        call = self.switchboard.open(form, self.account_sid, self._now())
        forced = self.faults.call_outcomes.get(to)
        # The Url and callback carry the caller's own ids: the call is told apart from
        # others to the same number by its place in the sequence (placed one at a time).
        event = ("call", to, from_ or "", self._occurrences.next("call", to, from_ or ""))
        delay = self._dice.uniform(self.faults.status_delay, *event, "ring")
        self._scheduler.after(delay, lambda: self.switchboard.place(call.sid, forced), key=to)
        return self._answer_create(form, call.sid, call.to_json(), kind="call")

    def list_calls(self, params: Mapping[str, str]) -> ApiResponse:
        """One page of the calls, newest first; StartTime filters the start (or, for a
        call not yet answered, the creation)."""
        try:
            query = ListQuery.from_params(params, CALL_DATE)
        except FilterError as exc:
            return error(400, 20001, str(exc))
        found, more = self.calls.page(query)
        return ApiResponse(200, page_payload(self.account_sid, query, found, more, "Calls"))

    def fetch_call(self, sid: str) -> ApiResponse:
        call = self.calls.find(sid)
        return ApiResponse(200, call.to_json()) if call else error(404, 20404)

    def delete_call(self, sid: str) -> ApiResponse:
        """Delete a call's record as Twilio does: 204 and no body; 404 (20404) for a
        call it does not hold (deleted already); 422 (20009) for a call still under way,
        which can be deleted once it has ended."""
        return _delete(self.calls, sid, FINAL_CALL_STATUSES)

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
        """Redaction as Twilio does it: an update with an empty Body blanks the text
        (200, the message as it is now) and keeps everything else, its segment count
        included. A Body that is not empty, or a Body with a Status, is refused (400,
        30400); cancelling (Status=canceled) is only for scheduled messages, which the
        simulator never holds (400, 30409). An unknown sid is 404 (20404)."""
        if self.messages.find(sid) is None:
            return error(404, 20404)
        if "Status" in form:
            code = 30400 if "Body" in form or form["Status"] != "canceled" else 30409
            return error(400, code)
        if form.get("Body") != "":
            return error(400, 30400)
        message = self.messages.update(sid, body="", updated_at=self._now())
        return ApiResponse(200, message.to_json()) if message else error(404, 20404)

    def delete_message(self, sid: str) -> ApiResponse:
        """Delete a message from the account's logs as Twilio does, its numbers with its
        text: 204 and no body; 404 (20404) for one it does not hold (deleted already);
        422 (20009) for one still on its way, which can be deleted once it is final."""
        return _delete(self.messages, sid, FINAL_MESSAGE_STATUSES)

    def inject_inbound(self, from_: str, to: str, body: str) -> str:
        """A text the patient at `from_` starts; stored, and posted to `inbound_url`."""
        service = next((mg for mg, n in self.service_numbers.items() if n == bare(to)), None)
        return self.courier.receive(from_, to, body, service)

    # -- creating --------------------------------------------------------------------

    def _answer_create(
        self,
        form: Mapping[str, str],
        sid: str,
        payload: dict[str, Any],
        kind: str = "message",
        strain: CreateOutcome | None = None,
    ) -> ApiResponse:
        if self._take("server_error_next") or strain is CreateOutcome.SERVER_ERROR:
            self._write_ledger(form, sid, CreateOutcome.SERVER_ERROR, 20500, kind=kind)
            return error(500, 20500)
        if self._take("hang_next") or strain is CreateOutcome.HUNG:
            self._write_ledger(form, sid, CreateOutcome.HUNG, kind=kind)
            return ApiResponse(201, payload, self.faults.hang_seconds)
        self._write_ledger(form, sid, CreateOutcome.ACCEPTED, kind=kind)
        return ApiResponse(201, payload)

    def _strain(self, form: Mapping[str, str]) -> CreateOutcome | None:
        """The fault a strained provider gives this create, drawn by its shares (see
        `Faults`) and keyed by the request and how many like it came before, so a
        retry draws afresh and a rerun with the same seed draws the same."""
        faults = self.faults
        shares = (
            (CreateOutcome.RATE_LIMITED, faults.rate_limit_share),
            (CreateOutcome.SERVER_ERROR, faults.server_error_share),
            (CreateOutcome.HUNG, faults.hang_share),
        )
        if not any(share > 0 for _, share in shares):
            return None
        identity = ("create", form.get("To", ""), form.get("StatusCallback") or "")
        event = (*identity, self._occurrences.next(*identity))
        draw = self._dice.uniform((0.0, 1.0), *event, "strain")
        for outcome, share in shares:
            if draw < share:
                return outcome
            draw -= share
        return None

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
        kind: str = "message",
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
            kind=kind,
            content_sid=form.get("ContentSid") or None,
        )
        self.ledger.record(entry)

    def _post_call_status(self, url: str, form: dict[str, str]) -> None:
        """Post one call progress callback now, dropped or doubled as the faults say."""
        fields = ("To", "CallStatus", "SequenceNumber")
        identity = ("call-status", *(form.get(name, "") for name in fields))
        event = (*identity, self._occurrences.next(*identity))
        copies = 2 if self._dice.chance(self.faults.duplicate_callbacks, *event, "duplicate") else 1
        for copy in range(copies):
            if self._dice.chance(self.faults.drop_callbacks, *event, str(copy), "drop"):
                self._poster.drop("status", url)
            else:
                self._poster.post("status", url, form)

    # -- randomness and time ---------------------------------------------------------

    def _now(self) -> datetime:
        # Twilio's timestamps have whole seconds; keeping ours alike makes filters agree.
        return self._clock().astimezone(UTC).replace(microsecond=0)


def _delete(store: RecordStore[Any], sid: str, final: frozenset[str]) -> ApiResponse:
    """Delete a record once its status is `final`, as Twilio does (204, no body)."""
    record = store.find(sid)
    if record is None:
        return error(404, 20404)
    if record.status not in final:
        return error(422, 20009)
    if not store.remove(sid):
        return error(404, 20404)
    return ApiResponse(204, {})
