"""Prometheus metrics: what the processes count, and the text `/metrics` answers.

Counted where it happens: messages by kind, channel and the status they reached (sent,
failed, delivered, …), how long the provider took to take a message, inbound messages
by outcome (stored, duplicate, refused), and how long each webhook took to answer. Read
when scraped (`render` takes them from the caller): queue depths and the age of the
oldest message that is due and not yet sent.

Under gunicorn and RQ the work is spread over processes. With `PROMETHEUS_MULTIPROC_DIR`
set (an empty directory, emptied at each deploy), every process writes its values to
files there and a scrape adds them up (prometheus-client's multiprocess mode); without
it, this process's own values are served. No label holds personal data: kinds,
channels, statuses, outcomes and endpoint names only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

#: The directory prometheus-client's multiprocess mode writes to, when set.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Seconds: a provider call and a webhook both answer in milliseconds when healthy.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    messages: Counter
    send_seconds: Histogram
    inbound: Counter
    webhook_seconds: Histogram


@cache
def metrics() -> Metrics:
    """The process's metrics, made on first use (never at import time)."""
    registry = CollectorRegistry(auto_describe=True)
    return Metrics(
        registry=registry,
        messages=Counter(
            "wesaid_messages",
            "Outbound messages by kind, channel and the status they reached.",
            ("kind", "channel", "status"),
            registry=registry,
        ),
        send_seconds=Histogram(
            "wesaid_send_seconds",
            "Seconds the provider took to accept (or refuse) one message.",
            ("channel",),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        inbound=Counter(
            "wesaid_inbound",
            "Inbound messages and status callbacks by outcome.",
            ("kind", "outcome"),
            registry=registry,
        ),
        webhook_seconds=Histogram(
            "wesaid_webhook_seconds",
            "Seconds a webhook took to answer, by endpoint.",
            ("endpoint",),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
    )


def count_message(kind: str, channel: str, status: str) -> None:
    """One outbound message reached `status`."""
    metrics().messages.labels(kind, channel, status).inc()


def observe_send(channel: str, seconds: float) -> None:
    metrics().send_seconds.labels(channel).observe(seconds)


def count_inbound(kind: str, outcome: str) -> None:
    """One inbound message (`kind` "message") or status callback ("status") was
    stored, was a duplicate, or was refused."""
    metrics().inbound.labels(kind, outcome).inc()


def observe_webhook(endpoint: str, seconds: float) -> None:
    metrics().webhook_seconds.labels(endpoint).observe(seconds)


@dataclass(frozen=True)
class Reading:
    """A value read at scrape time: a gauge with its labels."""

    name: str
    help: str
    labels: tuple[str, ...]
    values: tuple[tuple[tuple[str, ...], float], ...]


class _Readings(Collector):
    def __init__(self, readings: Iterable[Reading]) -> None:
        self._readings = list(readings)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for reading in self._readings:
            family = GaugeMetricFamily(reading.name, reading.help, labels=list(reading.labels))
            for labels, value in reading.values:
                family.add_metric(list(labels), value)
            yield family


def render(readings: Iterable[Reading]) -> bytes:
    """The metrics in Prometheus's text format: every process's counters (or this
    one's, without a multiprocess directory) and the `readings` taken now."""
    registry = CollectorRegistry(auto_describe=True)
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Registry(metrics().registry))
    registry.register(_Readings(readings))
    return generate_latest(registry)


class _Registry(Collector):
    """Another registry's metrics, served through this one."""

    def __init__(self, inner: CollectorRegistry) -> None:
        self._inner = inner

    def collect(self) -> Iterator[object]:  # type: ignore[override]
        yield from self._inner.collect()


def process_died(pid: int) -> None:
    """Forget a dead process's live values (gunicorn's `child_exit` calls it)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
