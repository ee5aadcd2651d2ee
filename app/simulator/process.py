"""The Twilio simulator in a process of its own, so that it does not share the
interpreter lock with the app it is talking to (the demo and the benchmarks)."""

from __future__ import annotations

import multiprocessing
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from typing import Any, Literal

from app.core.clock import SharedClock
from app.simulator.calls import Prompt
from app.simulator.population import Behaviour, generate_population
from app.simulator.server import TwilioSimulator
from app.simulator.web_visitor import WebVisitor, survey_link


class PopulationAgent:
    """The simulator's responder and callee: the population's behaviour behind both."""

    def __init__(self, behaviour: Behaviour, seed: int = 0) -> None:
        self.behaviour = behaviour
        self.web = WebVisitor(behaviour, seed)

    def reply(self, *, to: str, from_: str, body: str) -> str | None:
        link = survey_link(body)
        if link is not None:  # a survey link is answered on the web, not by text
            self.web.visit(to, link)
            return None
        return self.behaviour.reply_to(to, body)

    def answer_call(self, *, to: str, from_: str) -> str:
        return self.behaviour.answer_call(to)

    def press(self, *, to: str, prompt: Prompt) -> str | None:
        return self.behaviour.press(to, prompt.heard)


def _serve(
    conn: Connection,
    now_ts: Synchronized,  # type: ignore[type-arg]
    account_sid: str,
    auth_token: str,
    n_patients: int,
    seed: int,
    landline_share: float,
    app_shares: tuple[float, float],
    content_templates: dict[str, str],
    deliver_on_flush: bool,
    goals_since: datetime | None,
) -> None:
    personas = generate_population(
        n_patients, seed, landline_share=landline_share, app_shares=app_shares
    )
    clock = SharedClock(now_ts).now
    behaviour = Behaviour(personas, seed, goals_since=goals_since, clock=clock)
    agent = PopulationAgent(behaviour, seed)
    sim = TwilioSimulator(
        account_sid,
        auth_token,
        seed=seed,
        responder=agent,
        callee=agent,
        clock=clock,
        content_templates=content_templates,
        # Webhooks overlap, as Twilio's do, so the app's web threads are kept busy;
        # one patient's happen one at a time, in the same order on every run.
        delivery_threads=4,
        deliver_on_flush=deliver_on_flush,
    )
    # The create response already reports "queued", and "sent" changes nothing the app
    # acts on: only the carrier's final answers are called back.
    sim.faults.callback_statuses = frozenset({"delivered", "undelivered", "failed"})
    conn.send(sim.start())
    while True:
        command, argument = conn.recv()
        if command == "flush":
            conn.send(sim.flush(timeout=float(argument)))
        elif command == "inbound_url":
            sim.inbound_url = str(argument)
            conn.send(True)
        elif command == "stats":
            conn.send(
                {
                    "creates": len(sim.ledger),
                    "calls": len(sim.calls),
                    "duplicate_sends": sim.duplicate_sends(),
                }
            )
        elif command == "stop":
            sim.stop()
            conn.send(True)
            return


class SimulatorProcess:
    """A simulator serving a simulated population from a child process."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        n_patients: int,
        seed: int,
        now: Synchronized,  # type: ignore[type-arg]
        landline_share: float = 0.0,
        app_shares: tuple[float, float] = (0.0, 0.0),
        content_templates: dict[str, str] | None = None,
        deliver_on_flush: bool = False,
        goals_since: datetime | None = None,
        start_method: Literal["spawn", "fork"] = "spawn",
    ) -> None:
        """`deliver_on_flush`: nothing is delivered, called back or answered until
        `flush` (see `TwilioSimulator`). `goals_since`: the day the goals pathway's
        patients set their goals (see `Behaviour`); without it nobody answers a goal
        question. `start_method` "fork" starts it without importing everything again,
        for a caller that has no threads or connections yet."""
        context = (
            multiprocessing.get_context("fork")
            if start_method == "fork"
            else multiprocessing.get_context("spawn")
        )
        self._now = now
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(
                child,
                self._now,
                account_sid,
                auth_token,
                n_patients,
                seed,
                landline_share,
                app_shares,
                dict(content_templates or {}),
                deliver_on_flush,
                goals_since,
            ),
            name="twilio-simulator",
            daemon=True,
        )
        self._process.start()
        self.base_url: str = self._conn.recv()

    def _call(self, command: str, argument: Any = None) -> Any:
        self._conn.send((command, argument))
        return self._conn.recv()

    def set_inbound_url(self, url: str) -> None:
        self._call("inbound_url", url)

    def flush(self, timeout: float = 30.0) -> bool:
        return bool(self._call("flush", timeout))

    def stats(self) -> dict[str, int]:
        result: dict[str, int] = self._call("stats")
        return result

    def stop(self) -> None:
        if self._process.is_alive():
            self._call("stop")
        self._process.join(timeout=5)
