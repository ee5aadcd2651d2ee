"""`make chaos` in short: the same harness (bench/chaos.py) on the production processes
(gunicorn, `wesaid clock`, two `wesaid worker`s under a supervisor), a simulated Twilio
in a process of its own, a Redis and, where it can start one, a PostgreSQL of the
run's own. Two thousand due reminders go out while patients text in and every webhook
is posted, shuffled, some twice and some never; meanwhile a worker is killed while the
provider holds its create (between the provider call and the database update), busy
workers are killed, Redis and PostgreSQL are restarted, and the provider answers some
creates with 429 or 500. The clock and the reconcilers run with short thresholds (a
few seconds instead of minutes) so that what they settle is settled within the test.
"""

from __future__ import annotations

from pathlib import Path

import chaos
import pytest
from chaos_plan import FINAL_STATUSES, ChaosPlan, Timings
from chaos_services import OwnRedis
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL

PLAN = ChaosPlan(
    messages=2000,
    inbound=3000,
    callback_statuses=FINAL_STATUSES,  # one callback a message: fewer webhooks to post
    kills=3,
    held_kills=1,
    redis_restarts=1,
    app_restarts=0,
    postgres_restarts=1,
    chaos_seconds=16,
    postgres_restart_at=0.15,  # the Redis restart is half-way
    hang_share=0.0,  # a hang holds a worker 10 s: too long for a short run
    drain_seconds=60,
    database=f"{make_url(PG_URL).database}_chaos",
    database_server=PG_URL,
    timings=Timings(
        clock=1,
        reconcile=2,
        claim_stale=6,
        sending_stale=8,
        inbound_stale=6,
        list_lag=2,
        status_poll=4,
    ),
)


@pytest.mark.slow
@pytest.mark.skipif(not OwnRedis.available(), reason="needs redis-server for a Redis of its own")
def test_every_message_goes_once_and_every_reply_is_kept_under_faults(tmp_path: Path) -> None:
    line, verdict = chaos.run(PLAN, tmp_path)
    found = {key: line[key] for key in ("sent_twice", "lost", "status_matches_truth")}
    assert found == {"sent_twice": 0, "lost": 0, "status_matches_truth": 1.0}, verdict.examples
    assert line["sent_once"] == line["outbound_rows"] == line["due"] == PLAN.messages
    assert line["replies_stored"] == line["replies_received"] == PLAN.replies
    assert (line["replies_stored_twice"], line["replies_unknown_to_provider"]) == (0, 0)
    # Some replies never reached the app (dropped by the provider, or posted while
    # PostgreSQL was down): the reconciler imported them from the provider's list.
    assert line["replies_missed_by_webhook"] > 0
    assert line["kills_mid_send"] == line["mid_send_reconciled"] == 1
    assert line["kills"] >= 2
    assert line["redis_restarts"] == 1
    assert line["clock_log"]["ok"], line["clock_log"]
    assert line["settled"]
    assert line["ok"]
