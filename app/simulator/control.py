"""The simulator as a process of its own, driven over HTTP by a harness in another one.

`python -m app.simulator.control --account-sid AC… --auth-token … --inbound-url URL`
serves the simulated Twilio API and prints its base URL as the first line of its
output; SIGTERM stops it. Besides Twilio's routes it answers `/_control/<name>` (same
credentials, JSON in and out):

| name | method | does |
| --- | --- | --- |
| `faults` | POST | sets `Faults` fields by name: `{"rate_limit_share": 0.02, ...}` |
| `hold` | POST | holds the next `{"count": n}` message creates unanswered (0: none) |
| `held` | GET | the requests held now; `?wait=S` waits up to S seconds for one |
| `release` | POST | lets the held requests go on: the simulator takes them as usual |
| `inbound` | POST | patients text in: `{"texts": [[from, to, body], ...]}`; their sids |
| `webhooks` | GET | takes the webhooks due to the app, oldest first (`?max=N&wait=S`) |
| `flush` | POST | waits for every scheduled status change (`{"timeout": S}`) |
| `truth` | GET | every message create and its fate, and every message held now |

The webhooks (status callbacks and inbound texts, after the faults that drop them)
are kept for the harness to post instead of being posted here, so that it decides
when and in what order they reach the app, and how often.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from app.simulator.api import ApiResponse, error
from app.simulator.delivery import WebhookPoster
from app.simulator.server import TwilioSimulator


class WebhookFeed(WebhookPoster):
    """Keeps each webhook the simulator would post, signed later by whoever posts it."""

    def __init__(self, auth_token: str) -> None:
        super().__init__(auth_token)
        self._ready: deque[dict[str, Any]] = deque()
        self._arrived = threading.Condition()
        self.dropped: dict[str, int] = {}

    def fetch(self, kind: str, url: str, form: Mapping[str, str]) -> tuple[int | None, str]:
        with self._arrived:
            self._ready.append({"kind": kind, "url": url, "form": dict(form)})
            self._arrived.notify_all()
        return 200, ""

    def drop(self, kind: str, url: str) -> None:
        with self._arrived:
            self.dropped[kind] = self.dropped.get(kind, 0) + 1

    def take(self, most: int, wait: float) -> list[dict[str, Any]]:
        """Up to `most` webhooks, oldest first, waiting up to `wait` s for the first."""
        with self._arrived:
            self._arrived.wait_for(lambda: bool(self._ready), timeout=wait)
            return [self._ready.popleft() for _ in range(min(most, len(self._ready)))]


def _coerced(current: object, value: Any) -> object:
    if isinstance(current, bool):
        return bool(value)
    if isinstance(current, int | float):
        return type(current)(value)
    if isinstance(current, tuple):
        return tuple(value)
    if isinstance(current, frozenset):
        return frozenset(value)
    if isinstance(current, dict):
        return {str(k): v for k, v in dict(value).items()}
    return value


class Control:
    """The control routes of one simulator (see the module docstring)."""

    def __init__(self, sim: TwilioSimulator, feed: WebhookFeed) -> None:
        self.sim = sim
        self.feed = feed

    def handle(
        self, method: str, name: str, params: Mapping[str, str], body: dict[str, Any]
    ) -> ApiResponse:
        routes = {
            ("POST", "faults"): self._faults,
            ("POST", "hold"): self._hold,
            ("GET", "held"): self._held,
            ("POST", "release"): self._release,
            ("POST", "inbound"): self._inbound,
            ("GET", "webhooks"): self._webhooks,
            ("POST", "flush"): self._flush,
            ("GET", "truth"): self._truth,
        }
        route = routes.get((method, name))
        if route is None:
            return error(404, 20404)
        try:
            return ApiResponse(200, route({**params, **body}))
        except (KeyError, TypeError, ValueError) as exc:
            return error(400, 20001, f"{type(exc).__name__}: {exc}")

    def _faults(self, given: dict[str, Any]) -> dict[str, Any]:
        names = {f.name for f in fields(self.sim.faults)}
        unknown = sorted(set(given) - names)
        if unknown:
            raise KeyError(f"no such faults: {', '.join(unknown)}")
        for name, value in given.items():
            setattr(self.sim.faults, name, _coerced(getattr(self.sim.faults, name), value))
        return {"set": sorted(given)}

    def _hold(self, given: dict[str, Any]) -> dict[str, Any]:
        self.sim.holds.hold_next(int(given.get("count", 1)))
        return {}

    def _held(self, given: dict[str, Any]) -> dict[str, Any]:
        held = self.sim.holds.held(float(given.get("wait", 0)))
        return {"held": [{"to": h.to, "status_callback": h.status_callback} for h in held]}

    def _release(self, _given: dict[str, Any]) -> dict[str, Any]:
        return {"released": self.sim.holds.release()}

    def _inbound(self, given: dict[str, Any]) -> dict[str, Any]:
        texts = given["texts"]
        return {"sids": [self.sim.inject_inbound(str(f), str(t), str(b)) for f, t, b in texts]}

    def _webhooks(self, given: dict[str, Any]) -> dict[str, Any]:
        taken = self.feed.take(int(given.get("max", 1000)), float(given.get("wait", 0)))
        return {"webhooks": taken, "dropped": dict(self.feed.dropped)}

    def _flush(self, given: dict[str, Any]) -> dict[str, Any]:
        return {"flushed": self.sim.flush(float(given.get("timeout", 10)))}

    def _truth(self, _given: dict[str, Any]) -> dict[str, Any]:
        creates = [
            {
                "sid": e.sid,
                "to": e.to,
                "callback": e.status_callback,
                "outcome": e.outcome.value,
                "at": e.at.isoformat(),
            }
            for e in list(self.sim.ledger)
            if e.kind == "message"
        ]
        messages = [
            {"sid": m.sid, "direction": m.direction, "status": m.status, "error": m.error_code}
            for m in self.sim.messages.all()
        ]
        return {"creates": creates, "messages": messages}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--inbound-url", required=True, help="where inbound texts are due")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    feed = WebhookFeed(args.auth_token)
    sim = TwilioSimulator(
        args.account_sid, args.auth_token, inbound_url=args.inbound_url, seed=args.seed, poster=feed
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(sim.start(port=args.port, control=Control(sim, feed)), flush=True)
    stop.wait()
    sim.stop()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
