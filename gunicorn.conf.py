"""gunicorn settings for the web process (`Procfile`: `gunicorn --config gunicorn.conf.py`).

The access log goes to standard output with every survey link token replaced by a fixed
marker (`app.access_log`): a link is the patient's only credential for their form. The
app's own log lines follow WESAID_LOG_FORMAT (JSON in production, `app.logs`). With
PROMETHEUS_MULTIPROC_DIR set, each worker's metrics are written there and a dead
worker's live values are dropped (`app.metrics`).
The app itself refuses to start here without the production settings unless
WESAID_ENV says otherwise (`app.config`).
"""

from __future__ import annotations

import os
from typing import Any

from app import logs, metrics
from app.access_log import GUNICORN_ACCESS_LOGGER, install
from app.config import load_config

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads overlap a request's waits on PostgreSQL and Redis with another's work, so a
# burst of webhooks queues less; WEB_THREADS=1 gives gunicorn's plain sync workers.
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = 30
accesslog = "-"

# gunicorn keeps the logger object and replaces only its handlers, so the filter stays.
install(GUNICORN_ACCESS_LOGGER)


def post_worker_init(_worker: Any) -> None:
    config = load_config()
    logs.configure(config["LOG_LEVEL"], config["LOG_FORMAT"])


def child_exit(_server: Any, worker: Any) -> None:
    metrics.process_died(worker.pid)
