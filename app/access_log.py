"""Request logs without survey or goal link tokens, or the identifiers the API reads by.

A survey link (`/s/<token>`) or goal link (`/g/<token>`) is the patient's only
credential for their form, so the token must not reach a log that more people read
than the care team. Nor may the clinic system's identifier of a patient or an
appointment that the API reads by (`/api/v1/clinics/<slug>/patients/<id>`).
`LinkTokenFilter` rewrites a log record's text with every link token and such
identifier replaced by a fixed marker. It is put on werkzeug's request log (the
development server) by `init_app`, and on gunicorn's access log by `gunicorn.conf.py`.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

#: What a link's token becomes in a log line.
MARKER = "[redacted]"
# The token is one path segment; it stops at a separator, a query or a quote.
_LINK = re.compile(r"/([sg])/[^\s/?#\"']+")
_RECORD = re.compile(r"(/api/v1/clinics/[^\s/?#\"']+/(?:patients|appointments)/)[^\s/?#\"']+")
#: The loggers of the request logs of the servers we run under.
WERKZEUG_LOGGER = "werkzeug"
GUNICORN_ACCESS_LOGGER = "gunicorn.access"


def redact_links(text: str) -> str:
    """`text` with the token of every survey and goal link (`/s/<token>`, `/g/<token>`),
    and the identifier in every API read of a patient or appointment, replaced by MARKER."""
    text = _LINK.sub(lambda found: f"/{found.group(1)}/{MARKER}", text)
    return _RECORD.sub(lambda found: f"{found.group(1)}{MARKER}", text)


class LinkTokenFilter(logging.Filter):
    """Rewrites each record's message with link tokens redacted; drops no record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_links(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


def install(logger_name: str) -> None:
    """Put a LinkTokenFilter on the logger `logger_name`, once."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, LinkTokenFilter) for existing in logger.filters):
        logger.addFilter(LinkTokenFilter())


def init_app(_app: Flask) -> None:
    """Redact link tokens in werkzeug's request log (`flask run`, the demo's server)."""
    install(WERKZEUG_LOGGER)
