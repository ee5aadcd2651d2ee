"""Fixtures of the browser tests: Debian's Chromium, a phone-sized page, the app served."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.e2e.browser import CHROMIUM, HAVE_PLAYWRIGHT, PHONE_SCREEN, TIMEOUT_MS
from tests.public.web_survey import serve_survey_pages

if HAVE_PLAYWRIGHT:
    from playwright.sync_api import Browser, Page, sync_playwright


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not HAVE_PLAYWRIGHT:
        pytest.fail("Playwright is not installed: pip install playwright (into .venv)")
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install Debian's chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE_SCREEN, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """The app with its survey pages, served over HTTP on a free loopback port."""
    serve_survey_pages(app)
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
