"""What a chaos run found: the database compared with the simulated provider's own
records (the truth), and the clock's log read back.

For each outbound row, the creates the provider stored for it are found by the row's
id in the StatusCallback URL (`?m=<id>`). Sent twice: more than one. Lost: none,
or a row that never reached a final state. Its status matches when the row holds the
provider's sid and the state the provider's last status stands for. A reply is
stored when the inbox holds its sid exactly once.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine

#: Rows still on their way: a run is not over while any is left.
OPEN_STATES = ("pending", "claimed", "sending", "unknown")
#: The provider's last status → the state the row should end in.
STATE_FOR_STATUS = {
    "queued": "accepted",
    "accepted": "accepted",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
}
STORED = frozenset({"accepted", "server_error", "hung"})
_REPORT_FIELD = re.compile(r"(\w+)=(\w+)")


def open_work(engine: Engine) -> dict[str, int]:
    """Outbound rows in each open state, and replies stored but not yet routed."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT state, count(*) FROM outbound_messages "
                "WHERE state IN ('pending', 'claimed', 'sending', 'unknown') GROUP BY state"
            )
        ).all()
        received = conn.scalar(
            text("SELECT count(*) FROM inbound_messages WHERE state = 'received'")
        )
    found = {str(state): int(count) for state, count in rows}
    found["received"] = int(received or 0)
    return found


def _message_id(callback: str | None) -> int | None:
    if not callback:
        return None
    values = parse_qs(urlsplit(callback).query).get("m")
    return int(values[0]) if values and values[0].isdigit() else None


@dataclass
class Verdict:
    """The comparison; `line` is the run's JSON figures."""

    line: dict[str, Any]
    #: Per problem, a few of the message ids it concerns (for the report).
    examples: dict[str, list[int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        line = self.line
        return bool(
            line["sent_twice"] == 0
            and line["lost"] == 0
            and line["status_matches_truth"] == 1.0
            and line["replies_stored"] == line["replies_received"]
            and line["replies_stored_twice"] == 0
            and line["mid_send_reconciled"] == line["kills_mid_send"]
        )


def compare(engine: Engine, truth: dict[str, Any], held: list[int]) -> Verdict:
    """The database against the provider's records; `held` are the rows whose worker
    was killed while the provider held their create."""
    creates: dict[int, list[dict[str, Any]]] = {}
    for create in truth["creates"]:
        message_id = _message_id(create["callback"])
        if message_id is not None and create["outcome"] in STORED:
            creates.setdefault(message_id, []).append(create)
    status = {m["sid"]: m for m in truth["messages"] if m["direction"] != "inbound"}
    replies = {m["sid"] for m in truth["messages"] if m["direction"] == "inbound"}
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, kind, state, provider_sid FROM outbound_messages ORDER BY id")
        ).all()
        inbox = Counter(
            str(sid) for (sid,) in conn.execute(text("SELECT provider_sid FROM inbound_messages"))
        )
    examples: dict[str, list[int]] = {}

    def note(problem: str, message_id: int) -> None:
        examples.setdefault(problem, [])
        if len(examples[problem]) < 10:
            examples[problem].append(message_id)

    once = twice = lost = matches = 0
    kinds: Counter[str] = Counter()
    for message_id, kind, state, sid in rows:
        kinds[str(kind)] += 1
        stored = creates.get(message_id, [])
        if len(stored) > 1:
            twice += 1
            note("sent_twice", message_id)
            continue
        if not stored or state in OPEN_STATES:
            lost += 1
            note("lost", message_id)
            continue
        once += 1
        found = status.get(stored[0]["sid"])
        wanted = STATE_FOR_STATUS.get(found["status"]) if found else None
        if sid == stored[0]["sid"] and state == wanted:
            matches += 1
        else:
            note("status_differs", message_id)
    by_id = {row[0]: row for row in rows}
    reconciled = [
        m
        for m in held
        if m in by_id
        and len(creates.get(m, [])) == 1
        and by_id[m][3] == creates[m][0]["sid"]
        and by_id[m][2] not in OPEN_STATES
    ]
    line = {
        "due": kinds.get("reminder", 0),
        "outbound_rows": len(rows),
        "sent_once": once,
        "sent_twice": twice,
        "lost": lost,
        "replies_received": len(replies),
        "replies_stored": sum(1 for sid in replies if inbox.get(sid) == 1),
        "replies_stored_twice": sum(1 for n in inbox.values() if n > 1),
        "replies_unknown_to_provider": sum(1 for sid in inbox if sid not in replies),
        "status_matches_truth": round(matches / once, 6) if once else 0.0,
        "kills_mid_send": len(held),
        "mid_send_reconciled": len(reconciled),
    }
    return Verdict(line, examples)


def read_clock_log(lines: list[dict[str, Any] | None], redis_restarts: int) -> dict[str, Any]:
    """What the clock said each sweep did: every line JSON with the fields of
    `app.logs`, a sweep line for every sweep that did something, and a sweep that
    saw Redis's lost jobs after each restart."""
    fields = {"time", "level", "logger", "message"}
    sweeps: list[dict[str, int]] = []
    for line in lines:
        if line is None or not str(line.get("message", "")).startswith("sweep: "):
            continue
        report = dict(_REPORT_FIELD.findall(str(line["message"])))
        sweeps.append(
            {k: int(v == "True") if v in ("True", "False") else int(v) for k, v in report.items()}
        )
    found = {
        "lines": len(lines),
        "not_json": sum(1 for line in lines if line is None or not fields <= set(line)),
        "sweeps_logged": len(sweeps),
        "claimed": sum(s.get("claimed", 0) for s in sweeps),
        "requeued": sum(s.get("requeued", 0) for s in sweeps),
        "marked_unknown": sum(s.get("unknown", 0) for s in sweeps),
        "redis_resets": sum(s.get("redis_reset", 0) for s in sweeps),
    }
    # The first sweep ever also finds no mark in Redis.
    found["ok"] = (
        found["not_json"] == 0 and found["claimed"] > 0 and found["redis_resets"] >= redis_restarts
    )
    return found


def post_mortem(engine: Engine, truth: dict[str, Any], ids: list[int]) -> list[dict[str, Any]]:
    """What the database and the provider hold for each of `ids`, for the report."""
    if not ids:
        return []
    columns = (
        "id, kind, state, provider_sid, attempts, error_code, due_at, claimed_at, sending_at, "
        "accepted_at, delivered_at, updated_at"
    )
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT {columns} FROM outbound_messages WHERE id IN :ids").bindparams(  # noqa: S608
                bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        ).mappings()
        found = {int(row["id"]): {k: str(v) for k, v in row.items()} for row in rows}
    statuses = {m["sid"]: m for m in truth["messages"]}
    report = []
    for message_id in ids:
        creates = [
            {**c, "status_now": statuses.get(c["sid"] or "", {}).get("status")}
            for c in truth["creates"]
            if _message_id(c["callback"]) == message_id
        ]
        report.append({"row": found.get(message_id), "creates": creates})
    return report
