"""The load of a chaos run: patients texting in, and every webhook the simulated
Twilio has for the app posted to it, open loop.

The simulator keeps the webhooks it would post (status callbacks and inbound texts,
less the share its faults drop, as Twilio drops some) for the run to fetch. The pump
gives each a moment of its own, a random delay after it arrived, so they reach the
app shuffled; one in ten goes a second time, later. Each is posted at its moment
whatever became of the others (open loop), signed as Twilio signs it. A post the app
does not take (refused, timed out, an error) is not retried, as Twilio does not retry
a status callback or an inbound text: the reconciler must find what it missed.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode, urlsplit

from chaos_services import Simulator
from twilio.request_validator import RequestValidator

#: Twilio waits 15 s for a webhook's answer.
WEBHOOK_TIMEOUT = 15.0
#: Seconds between two batches of texts.
TICK = 0.2
#: What patients text in unprompted: free text, which the app stores and flags for staff.
TEXTS = (
    "Thank you",
    "Is there parking at the clinic?",
    "Can I bring my daughter with me?",
    "Running ten minutes late sorry",
    "Who is this please",
    "ok thanks see you then",
)


class WebhookPump:
    """Fetches the simulator's webhooks and posts them, shuffled and some twice."""

    def __init__(
        self,
        sim: Simulator,
        auth_token: str,
        seed: int,
        duplicate_share: float,
        spread: float = 2.0,
        threads: int = 96,
    ) -> None:
        self._sim = sim
        self._validator = RequestValidator(auth_token)
        self._rng = random.Random(seed)
        self._duplicate_share = duplicate_share
        self._spread = spread
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook")
        self._due: list[tuple[float, int, dict[str, Any]]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._fetched_empty = False
        self._stopping = False
        #: (kind, outcome) → count; outcome "ok", "refused" (any answer but 200) or
        #: "unreachable"; and "repeat" for the second copies.
        self.counts: Counter[tuple[str, str]] = Counter()
        #: Inbound sids the app took (a 200 to one post at least).
        self.inbound_ok: set[str] = set()
        self.dropped_by_provider: dict[str, int] = {}
        #: The patients whose messages have had a status callback, first come first.
        self._reached: list[str] = []
        self._seen: set[str] = set()
        self._threads = [
            threading.Thread(target=self._fetch, daemon=True),
            threading.Thread(target=self._dispatch, daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=10)
        self._pool.shutdown(wait=True)

    @property
    def posted(self) -> int:
        with self._cond:
            return sum(n for (_, outcome), n in self.counts.items() if outcome != "repeat")

    def reached(self) -> list[str]:
        """The patients whose messages have gone so far (a status callback came)."""
        with self._cond:
            return list(self._reached)

    def idle(self) -> bool:
        """Nothing waiting at the simulator (at the last fetch), due or in flight."""
        with self._cond:
            return self._fetched_empty and not self._due and not self._in_flight

    def _fetch(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
            try:
                answer = self._sim.call("GET", "webhooks", max=2000, wait=0.5)
            except (OSError, RuntimeError):
                time.sleep(0.5)
                continue
            now = time.monotonic()
            with self._cond:
                self.dropped_by_provider = dict(answer["dropped"])
                self._fetched_empty = not answer["webhooks"]
                for item in answer["webhooks"]:
                    sid = item["form"].get("MessageSid", "")
                    if item["kind"] == "status" and sid not in self._seen:
                        self._seen.add(sid)
                        self._reached.append(item["form"].get("To", ""))
                    self._push(now + self._rng.uniform(0, self._spread), item)
                    if self._rng.random() < self._duplicate_share:
                        later = now + self._spread + self._rng.uniform(0, 3 * self._spread)
                        self._push(later, {**item, "repeat": True})
                self._cond.notify_all()

    def _push(self, due: float, item: dict[str, Any]) -> None:
        heapq.heappush(self._due, (due, next(self._order), item))

    def _dispatch(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._due and self._due[0][0] <= time.monotonic():
                        break
                    wait = self._due[0][0] - time.monotonic() if self._due else None
                    self._cond.wait(wait)
                if self._stopping:
                    return
                item = heapq.heappop(self._due)[2]
                self._in_flight += 1
            self._pool.submit(self._post, item)

    def _post(self, item: dict[str, Any]) -> None:
        url, form, kind = str(item["url"]), dict(item["form"]), str(item["kind"])
        try:
            outcome = _post(url, form, self._validator.compute_signature(url, form))
        except Exception:  # counted, whatever it was: the pump must not lose track
            outcome = "unreachable"
        with self._cond:
            self._in_flight -= 1
            self.counts[(kind, "repeat" if item.get("repeat") else outcome)] += 1
            if kind == "inbound" and outcome == "ok":
                self.inbound_ok.add(form.get("MessageSid", ""))
            self._cond.notify_all()


def _post(url: str, form: dict[str, str], signature: str) -> str:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
        "User-Agent": "TwilioProxy/1.1",
    }
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port or 80, timeout=WEBHOOK_TIMEOUT
    )
    try:
        connection.request("POST", path, body=urlencode(form), headers=headers)
        answer = connection.getresponse()
        answer.read()
        return "ok" if answer.status == 200 else "refused"
    except (OSError, http.client.HTTPException):
        return "unreachable"
    finally:
        connection.close()


class Replies:
    """Patients texting the clinic in: `total` texts, each from a patient whose reminder
    has gone (its first status callback came), in step with the reminders going out, so
    replies and sends overlap as they do when patients answer their reminders. Once
    `release` is called, what is left goes at most `rate` a second. Each text is stored
    at the simulator, which has its webhook posted."""

    def __init__(
        self,
        sim: Simulator,
        pump: WebhookPump,
        patients: list[str],
        sender: str,
        total: int,
        seed: int,
        rate: float = 200.0,
    ) -> None:
        self._sim = sim
        self._pump = pump
        self._patients = patients
        self._sender = sender
        self._total = total
        self._rate = rate
        self._rng = random.Random(seed)
        self.sent = 0
        self.done = threading.Event()
        self._released = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def release(self) -> None:
        self._released.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while self.sent < self._total and not self._stop.is_set():
            reached = self._pump.reached() or (self._patients if self._released.is_set() else [])
            share = 1.0 if self._released.is_set() else len(reached) / len(self._patients)
            due = min(self._total, int(self._total * share))
            count = min(due - self.sent, int(self._rate * TICK) + 1)
            if count > 0 and reached:
                texts = [
                    [self._rng.choice(reached), self._sender, self._rng.choice(TEXTS)]
                    for _ in range(count)
                ]
                self._sim.call("POST", "inbound", {"texts": texts})
                self.sent += count
            self._stop.wait(TICK)
        self.done.set()
