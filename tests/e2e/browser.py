"""Driving the web pages in Debian's Chromium through Playwright, and checking them
with axe-core.

Chromium must be installed at /usr/bin/chromium (never a downloaded browser) and
axe-core at node_modules/axe-core (`npm ci`, which `make pytest` runs): without either
the browser tests fail, they do not skip.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright.sync_api import Page, ViewportSize

    HAVE_PLAYWRIGHT = True
except ImportError:  # reported by the `browser` fixture as a failure, not a skip
    HAVE_PLAYWRIGHT = False

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: A small phone screen.
PHONE_SCREEN: ViewportSize = {"width": 375, "height": 740}
#: The smallest comfortable touch target, in CSS pixels.
MIN_TARGET = 44
#: How long an action or a page load may take before the test fails: long enough for a
#: loaded 2-core machine (a page that loads waits nothing like this), short enough that a
#: page that never comes fails within the suite's time.
TIMEOUT_MS = 15000
#: axe-core impacts that fail a test; "moderate" and "minor" ones are reported only.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def link_in(body: str) -> str:
    """The survey link in an invitation's text."""
    match = re.search(r"http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_.-]+", body)
    assert match is not None, "the invitation carries no link"
    return match.group(0)


def watch_policy(page: Page) -> list[str]:
    """Content-Security-Policy refusals reported on the console, collected as they come."""
    refusals: list[str] = []

    def note(message: Any) -> None:
        if "Content Security Policy" in message.text:
            refusals.append(message.text)

    page.on("console", note)
    return refusals


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """What axe-core finds wrong with the page as it stands.

    The pages' Content-Security-Policy (`default-src 'self'`) refuses an inline script,
    and Playwright's `add_script_tag` adds axe as one, so the browser blocks it. The
    script is run through the driver instead (`page.evaluate`), which the page's policy
    does not govern; the page itself is left as it is.
    """
    if not AXE_SCRIPT.exists():
        pytest.fail(f"axe-core is missing at {AXE_SCRIPT}: run `npm ci` (make pytest does)")
    page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8") + "\n;true")
    violations: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document)).violations"
    )
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and element, for an assertion message."""
    return "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at {node['target']}"
        for v in violations
        for node in v["nodes"]
    )


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
