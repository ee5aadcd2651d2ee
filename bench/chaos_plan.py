"""What a chaos run does and how hard (bench/chaos.py): the defaults of `make chaos`."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The statuses after which a message changes no more.
FINAL_STATUSES = ("delivered", "undelivered", "failed")


@dataclass(frozen=True)
class Timings:
    """How soon the clock and the reconcilers take something for lost (the app's
    WESAID_* settings). Production waits longer (reconcile every 60 s; claims and sends
    stale after 120 s; the list trusted after 60 s; a missing final status polled after
    30 minutes), which would not fit in a run; the rules are the same. The last missing
    statuses are polled up to `status_poll` + `reconcile` seconds after their message
    went, which is how long a run waits at its end once nothing else is open."""

    clock: float = 5
    reconcile: float = 15
    claim_stale: float = 60
    sending_stale: float = 60
    inbound_stale: float = 30
    list_lag: float = 20
    status_poll: float = 30

    def env(self) -> dict[str, str]:
        return {
            "WESAID_CLOCK_INTERVAL_SECONDS": f"{self.clock:g}",
            "WESAID_RECONCILE_INTERVAL_SECONDS": f"{self.reconcile:g}",
            "WESAID_CLAIM_STALE_SECONDS": f"{self.claim_stale:g}",
            "WESAID_SENDING_STALE_SECONDS": f"{self.sending_stale:g}",
            "WESAID_INBOUND_STALE_SECONDS": f"{self.inbound_stale:g}",
            "WESAID_RECONCILE_LIST_LAG_SECONDS": f"{self.list_lag:g}",
            "WESAID_STATUS_POLL_SECONDS": f"{self.status_poll:g}",
        }


@dataclass(frozen=True)
class ChaosPlan:
    messages: int = 20000
    #: Webhooks posted to the app: status callbacks and replies, repeats included.
    inbound: int = 100000
    kills: int = 50
    #: Of the kills, those while the provider holds the worker's create.
    held_kills: int = 3
    redis_restarts: int = 5
    app_restarts: int = 1
    postgres_restarts: int = 1
    #: The faults are spread over this long, from the first sweep (the replies follow
    #: the reminders as they go out).
    chaos_seconds: float = 300
    #: When the app and PostgreSQL restart, as shares of `chaos_seconds` (the Redis
    #: restarts are at 0.1, 0.3, 0.5, 0.7 and 0.9 of it with five).
    app_restart_at: float = 0.4
    postgres_restart_at: float = 0.8
    workers: int = 2
    web_workers: int = 2
    duplicate_share: float = 0.1
    #: Webhooks the provider never posts (inbound texts and status callbacks).
    drop_share: float = 0.01
    rate_limit_share: float = 0.02
    server_error_share: float = 0.005
    hang_share: float = 0.0005
    undelivered_share: float = 0.02
    seed: int = 1
    #: How long after the last fault everything may take to settle (a run that settles
    #: ends at once; this is how long a failing one goes on).
    drain_seconds: float = 900
    database: str = "wesaid_chaos"
    #: The server the database is made on when the run cannot start a PostgreSQL of
    #: its own (default: DATABASE_URL's, else the local one); no restart then.
    database_server: str | None = None
    redis_db: int = 11
    timings: Timings = field(default_factory=Timings)

    #: The statuses that get a callback: by default each change Twilio reports.
    callback_statuses: tuple[str, ...] = ("queued", "sent", *FINAL_STATUSES)

    @property
    def replies(self) -> int:
        """Texts patients send: what is left of `inbound` once each message has its
        status callbacks (one for each status it passes, the final one included)."""
        per_message = 1 + sum(1 for s in self.callback_statuses if s not in FINAL_STATUSES)
        unique = round(self.inbound / (1 + self.duplicate_share))
        return max(0, unique - per_message * self.messages)
