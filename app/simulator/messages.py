"""Messages in the simulator: their statuses and callbacks, replies and inbound texts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from app.simulator.delivery import Dice, Scheduler, WebhookPoster, inbound_form, status_form
from app.simulator.draws import Occurrences, fingerprint
from app.simulator.faults import ERROR_MESSAGES, FAILED_CODES, Faults, carrier_error
from app.simulator.store import PRICE_PER_SEGMENT, MessageStore, SimMessage, new_sid
from app.simulator.whatsapp import OUTSIDE_WINDOW, Windows, bare, is_whatsapp


class Responder(Protocol):
    """A simulated patient population: who answers a delivered text, and with what."""

    def reply(self, *, to: str, from_: str, body: str) -> str | None:
        """The text the patient at `to` sends back to `from_`, or None for silence."""
        ...


#: Called with (patient number, body, sid) once a message is delivered.
DeliveredHook = Callable[[str, str, str], None]


class Hooks(Protocol):
    """The simulator's settings a courier reads when it acts (tests change them)."""

    responder: Responder | None
    on_delivered: DeliveredHook | None
    inbound_url: str | None
    service_numbers: dict[str, str]
    faults: Faults


#: What identifies one message for its random draws: (direction, patient's number,
#: fingerprint of the rest, how many such messages came before).
Event = tuple[str, ...]


class Courier:
    """Carries the simulator's messages on its delivery thread.

    Outbound messages move queued → sent → delivered (or undelivered, failed) with
    signed status callbacks, subject to the faults; a delivered one may get the
    responder's reply, which comes back on the same channel. A text to a landline is
    undelivered with 30006; free WhatsApp text outside the window fails with 63016.

    Everything that happens to one patient's messages is scheduled under their number,
    so it happens one thing at a time, and every draw (delays, faults) is keyed by the
    message it decides rather than by when it was made.
    """

    def __init__(
        self,
        account_sid: str,
        hooks: Hooks,
        scheduler: Scheduler,
        poster: WebhookPoster,
        dice: Dice,
        now: Callable[[], datetime],
    ) -> None:
        self.account_sid = account_sid
        self.messages = MessageStore()
        self.windows = Windows()
        self._hooks = hooks
        self._scheduler = scheduler
        self._poster = poster
        self._dice = dice
        self._now = now
        self._occurrences = Occurrences()

    def _event(self, direction: str, patient: str, *rest: str) -> Event:
        """The identity of a message: its direction, patient, content and occurrence."""
        content = fingerprint("\x1f".join(rest))
        return (direction, patient, content, self._occurrences.next(direction, patient, content))

    def send(
        self, to: str, sender: str, body: str, callback: str | None, fails_with: int | None
    ) -> SimMessage:
        """Keep an accepted outbound message and schedule its life: statuses, callbacks
        and, once delivered, the patient's reply. `fails_with` forces a failure code."""
        via_service = sender.startswith("MG")
        from_number = self._hooks.service_numbers[sender] if via_service else sender
        if via_service and is_whatsapp(to):
            from_number = "whatsapp:" + from_number
        message = SimMessage(
            sid=new_sid("SM"),
            account_sid=self.account_sid,
            to=to,
            from_number=from_number,
            body=body,
            direction="outbound-api",
            status="accepted" if via_service else "queued",
            created_at=self._now(),
            messaging_service_sid=sender if via_service else None,
            status_callback=callback,
        )
        self.messages.add(message)
        # Not the callback: it carries the sender's own id, which need not be the same
        # from one run to the next for the same message.
        event = self._event("out", bare(to), from_number or "", body)
        self._schedule_lifecycle(message, fails_with, event)
        return message

    def _schedule_lifecycle(
        self, message: SimMessage, fails_with: int | None, event: Event
    ) -> None:
        """Queue the status changes of one accepted message, and its callbacks."""
        steps = self._steps(message.to, fails_with)
        at = 0.0
        times = []
        patient = bare(message.to)
        for status, code in steps:
            at += self._dice.uniform(self._hooks.faults.status_delay, *event, "step", status)
            times.append(at)
            self._scheduler.after(
                at, self._advance_action(message, status, code, event), key=patient
            )
        if message.status_callback:
            self._schedule_callbacks(message, steps, times, event)

    def _steps(self, to: str, fails_with: int | None) -> list[tuple[str, int | None]]:
        code = fails_with or self._hooks.faults.undelivered_numbers.get(bare(to))
        if code is None and not is_whatsapp(to):
            code = carrier_error(to)
        if code is None:
            return [("queued", None), ("sent", None), ("delivered", None)]
        if code in FAILED_CODES or code == OUTSIDE_WINDOW:
            return [("queued", None), ("failed", code)]
        return [("queued", None), ("sent", None), ("undelivered", code)]

    def _schedule_callbacks(
        self,
        message: SimMessage,
        steps: list[tuple[str, int | None]],
        times: list[float],
        event: Event,
    ) -> None:
        url = message.status_callback or ""
        faults = self._hooks.faults
        patient = bare(message.to)
        order = list(steps)
        if faults.reorder:
            self._dice.shuffle(order, *event, "reorder")
        for (status, code), at in zip(order, times, strict=True):
            if status not in faults.callback_statuses:
                continue
            form = status_form(message, status, code)
            twice = self._dice.chance(faults.duplicate_callbacks, *event, "duplicate", status)
            for copy in range(2 if twice else 1):
                nth = (*event, status, str(copy))
                delay = at + (self._dice.uniform(faults.status_delay, *nth, "delay") if copy else 0)
                if self._dice.chance(faults.drop_callbacks, *nth, "drop"):
                    action = _drop_action(self._poster, "status", url)
                else:
                    action = _post_action(self._poster, "status", url, form)
                self._scheduler.after(delay, action, key=patient)

    def _advance_action(
        self, message: SimMessage, status: str, code: int | None, event: Event
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
                self._delivered(message, event)

        return advance

    def _delivered(self, message: SimMessage, event: Event) -> None:
        if self._hooks.on_delivered is not None:
            self._hooks.on_delivered(bare(message.to), message.body, message.sid)
        if self._hooks.responder is None or message.from_number is None:
            return
        text = self._hooks.responder.reply(
            to=bare(message.to), from_=bare(message.from_number), body=message.body
        )
        if text is not None:  # a WhatsApp reply comes back on WhatsApp
            patient, clinic = message.to, message.from_number
            service = message.messaging_service_sid

            def answer() -> None:
                self.receive(patient, clinic, text, service)

            delay = self._dice.uniform(self._hooks.faults.reply_delay, *event, "reply")
            self._scheduler.after(delay, answer, key=bare(patient))

    def receive(self, from_: str, to: str, body: str, service: str | None) -> str:
        """Keep a message the patient at `from_` sent, and post it to the inbound URL."""
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
        if is_whatsapp(from_):
            self.windows.patient_wrote(from_, now)
        if self._hooks.inbound_url:
            url = self._hooks.inbound_url
            patient = bare(from_)
            event = self._event("in", patient, to, body)
            if self._dice.chance(self._hooks.faults.drop_inbound, *event, "drop"):
                action = _drop_action(self._poster, "inbound", url)
            else:
                action = _post_action(self._poster, "inbound", url, inbound_form(message))
            self._scheduler.after(0.0, action, key=patient)
        return message.sid


def _post_action(
    poster: WebhookPoster, kind: str, url: str, form: dict[str, str]
) -> Callable[[], None]:
    def post() -> None:
        poster.post(kind, url, form)

    return post


def _drop_action(poster: WebhookPoster, kind: str, url: str) -> Callable[[], None]:
    def drop() -> None:
        poster.drop(kind, url)

    return drop
