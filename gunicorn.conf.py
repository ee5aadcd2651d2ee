"""gunicorn settings for the web process (`Procfile`: `gunicorn --config gunicorn.conf.py`).

The access log goes to standard output with every survey link token replaced by a fixed
marker (`app.access_log`): a link is the patient's only credential for their form.
The app itself refuses to start here without the production settings unless
WESAID_ENV says otherwise (`app.config`).
"""

from __future__ import annotations

import os

from app.access_log import GUNICORN_ACCESS_LOGGER, install

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = 30
accesslog = "-"

# gunicorn keeps the logger object and replaces only its handlers, so the filter stays.
install(GUNICORN_ACCESS_LOGGER)
