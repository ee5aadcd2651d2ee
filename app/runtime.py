"""The collaborators services receive: clock, job queue and channels.

`create_app` builds one `Runtime` and keeps it in `app.extensions["wesaid"]`; entry
points (routes, webhooks, CLI commands, jobs) take what they need from it and pass it
to services as arguments.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Flask, current_app

from app.core.clock import Clock, SystemClock
from app.messaging.channels.base import Channel
from app.queueing import JobQueue, connect


@dataclass
class Runtime:
    clock: Clock
    queue: JobQueue
    channels: dict[str, Channel]
    public_base_url: str
    sms_validity_seconds: int
    price_per_segment: Decimal
    #: Signs web-survey links (itsdangerous serializer keyed by SECRET_KEY).
    link_signer: Any = None
    #: Keys survey respondents' pseudonyms; derived from SECRET_KEY.
    pseudonym_secret: bytes = b""
    extras: dict[str, Any] = field(default_factory=dict)

    def channel(self, name: str) -> Channel:
        """The channel plug-in for `name`; KeyError if none is configured."""
        return self.channels[name]


def build_runtime(app: Flask) -> Runtime:
    """Compose the runtime from configuration (a test may pass CLOCK, JOB_QUEUE, CHANNELS)."""
    from app.messaging.channels.registry import build_channels

    cfg = app.config
    queue = cfg.get("JOB_QUEUE") or JobQueue(connect(cfg.get("REDIS_URL")))
    clock = cfg.get("CLOCK") or SystemClock()
    return Runtime(
        clock=clock,
        queue=queue,
        channels=cfg.get("CHANNELS") or build_channels(cfg),
        public_base_url=cfg["PUBLIC_BASE_URL"],
        sms_validity_seconds=int(cfg["SMS_VALIDITY_SECONDS"]),
        price_per_segment=Decimal(str(cfg["SMS_PRICE_PER_SEGMENT"])),
        link_signer=_link_signer(cfg["SECRET_KEY"], clock),
        pseudonym_secret=hmac.new(
            str(cfg["SECRET_KEY"]).encode(), b"wesaid.respondent", hashlib.sha256
        ).digest(),
    )


def _link_signer(secret_key: str, clock: Clock) -> Any:
    from app.surveys.links import link_signer

    return link_signer(secret_key, clock=clock)


def get_runtime(app: Flask | None = None) -> Runtime:
    """The runtime of `app`, or of the current app."""
    target = app if app is not None else current_app
    runtime: Runtime = target.extensions["wesaid"]
    return runtime
