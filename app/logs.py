"""Logs as one JSON object per line, each carrying the request id or job id it belongs to.

Every WeSaid process (web, worker, clock) logs through `configure`: with the format
"json" (the default outside development) a line is `{"time", "level", "logger",
"message", "request_id", "job_id"}` plus the traceback of an exception; with "text" it
is one readable line with the same ids. The web layer sets the request id for each
request (`request_scope`); a job's id comes from RQ.

What is logged never holds personal data: messages name ids, counts and states, never
a phone number, a name or a message body, and link tokens are redacted before a line is
written (`access_log`). SQL errors carry no bound values (`hide_parameters`).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from rq import get_current_job

from app.access_log import LinkTokenFilter

#: The request being served in this context, if any.
_REQUEST_ID: ContextVar[str | None] = ContextVar("wesaid_request_id", default=None)
#: A request id a caller may send (`X-Request-Id`) is kept only if it looks like one.
_GIVEN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
FORMATS = ("json", "text")


def new_request_id(given: str | None = None) -> str:
    """`given` if it is a plausible request id (so a proxy's id carries through),
    otherwise a new random one."""
    if given and _GIVEN_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


@contextmanager
def request_scope(request_id: str) -> Iterator[str]:
    """Log lines in this block carry `request_id`."""
    token = _REQUEST_ID.set(request_id)
    try:
        yield request_id
    finally:
        _REQUEST_ID.reset(token)


def set_request_id(request_id: str | None) -> None:
    """For code that cannot wrap a block (a request's before and after hooks)."""
    _REQUEST_ID.set(request_id)


def current_request_id() -> str | None:
    return _REQUEST_ID.get()


class ContextFilter(logging.Filter):
    """Stamps each record with the current request id and RQ job id ("-" for none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _REQUEST_ID.get() or "-"
        job = get_current_job()
        record.job_id = job.id if job is not None else "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "job_id": getattr(record, "job_id", "-"),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s [req %(request_id)s job %(job_id)s] %(name)s: %(message)s"


def handler(fmt: str) -> logging.Handler:
    """A handler on standard error writing `fmt` ("json" or "text") lines, with the
    ids and link tokens redacted."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    found = logging.StreamHandler()
    found.addFilter(ContextFilter())
    found.addFilter(LinkTokenFilter())
    found.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    found.set_name("wesaid")
    return found


def configure(level: str | int, fmt: str, loggers: tuple[str, ...] = ("app", "workers")) -> None:
    """Send these loggers' records at `level` and above to one handler of `fmt`,
    replacing the one an earlier call put there (a process configures once; tests
    and the demo may build several apps)."""
    for name in loggers:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == "wesaid"]:
            logger.removeHandler(old)
        logger.addHandler(handler(fmt))
        logger.setLevel(level)
        logger.propagate = False
