"""The collaborators services receive: clock, job queue and channels.

`create_app` builds one `Runtime` and keeps it in `app.extensions["wesaid"]`; entry
points (routes, webhooks, CLI commands, jobs) take what they need from it and pass it
to services as arguments. No domain package imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Flask, current_app

from app.core.channels import ChannelPlugin
from app.core.clock import Clock, SystemClock
from app.messaging.channels.registry import build_channels
from app.messaging.dispatcher import SendSettings
from app.messaging.pacing import Pacer
from app.queueing import JobQueue, connect


@dataclass
class Runtime:
    clock: Clock
    queue: JobQueue
    channels: dict[str, ChannelPlugin]
    public_base_url: str
    sms_validity_seconds: int
    price_per_segment: Decimal
    #: The app's SECRET_KEY: survey links and respondents' pseudonyms derive from it.
    secret_key: str = ""
    #: Paces each sender (WESAID_SENDER_RATES); None when no kind of sender is paced.
    pacer: Pacer | None = None
    #: How long one send job may call the provider (half the sweep's sending threshold).
    send_budget_seconds: float = 60.0
    extras: dict[str, Any] = field(default_factory=dict)

    def channel(self, name: str) -> ChannelPlugin:
        """The channel plug-in for `name`; KeyError if none is configured."""
        return self.channels[name]

    @property
    def send_settings(self) -> SendSettings:
        """What the dispatcher needs to send a message."""
        return SendSettings(
            self.public_base_url,
            self.sms_validity_seconds,
            self.secret_key,
            self.pacer,
            self.send_budget_seconds,
        )


def build_runtime(app: Flask) -> Runtime:
    """Compose the runtime from configuration (a test may pass CLOCK, JOB_QUEUE, CHANNELS)."""
    cfg = app.config
    queue = cfg.get("JOB_QUEUE") or JobQueue(
        connect(cfg.get("REDIS_URL")), wake_seconds=float(cfg.get("INBOUND_STALE_SECONDS", 30.0))
    )
    clock = cfg.get("CLOCK") or SystemClock()
    rates = cfg.get("SENDER_RATES") or {}
    return Runtime(
        clock=clock,
        queue=queue,
        channels=cfg.get("CHANNELS") or build_channels(cfg),
        public_base_url=cfg["PUBLIC_BASE_URL"],
        sms_validity_seconds=int(cfg["SMS_VALIDITY_SECONDS"]),
        price_per_segment=Decimal(str(cfg["SMS_PRICE_PER_SEGMENT"])),
        secret_key=str(cfg["SECRET_KEY"]),
        pacer=Pacer(queue.connection, rates) if rates else None,
        send_budget_seconds=float(cfg.get("SENDING_STALE_SECONDS", 120.0)) / 2,
    )


def get_runtime(app: Flask | None = None) -> Runtime:
    """The runtime of `app`, or of the current app."""
    target = app if app is not None else current_app
    runtime: Runtime = target.extensions["wesaid"]
    return runtime
