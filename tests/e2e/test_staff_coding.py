"""An experience lead codes comments in Chromium from the keyboard: the queue opens on
the first comment, masked, with its suggestions ticked; a number key sets the sentiment
and C confirms, and the next comment replaces it in place (htmx); S skips. Then the
themes page. Each page is checked by axe-core and saved as a screenshot."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.audit.service import SYSTEM
from app.clinics.roles import Role
from app.extensions import db
from app.themes.models import ThemeComment
from app.themes.service import confirm, suggest_for
from tests.e2e.staff import DESKTOP, check_page, open_section, sign_in, watch_policy
from tests.web.staff import StaffDesk
from tests.world import World
from tests.yousaid.seed import surveyed_month

if TYPE_CHECKING:
    from playwright.sync_api import Page

NOW = datetime(2026, 4, 2, 9, tzinfo=UTC)
WORDS = (
    "Dr Quartermain was rude, call me on 07400 999111",
    "Waited over two hours, the clinic was running very late",
    "The nurse was lovely and caring, and parking was easy",
    *("The staff were kind and friendly",) * 9,
)


def test_a_lead_codes_comments_from_the_keyboard(
    page: Page, base_url: str, desk: StaffDesk, world: World
) -> None:
    north = world.clinic("north")
    north.name = "North Street Physiotherapy"
    db.session.commit()
    surveyed_month(north, "2026-03", 14, 12, WORDS)
    comments = db.session.scalars(select(ThemeComment).order_by(ThemeComment.id)).all()
    first, second, third = comments[:3]
    lead = desk.member(Role.EXPERIENCE_LEAD, ["north"], name="Esi Mensah")
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, lead)

    open_section(page, "Coding queue")
    page.wait_for_url(f"{base_url}/staff/coding")
    item = page.locator("#coding-item")
    assert "[phone]" in item.inner_text()
    assert "07400 999111" not in page.content()
    assert page.get_by_label("Staff manner & personal attributes").is_checked()
    check_page(page, "staff-coding")
    assert refused == []

    # 5 sets "very negative", C confirms: the next comment comes in place.
    page.locator("body").press("5")
    assert page.get_by_label("5 Very negative").is_checked()
    page.locator("body").press("c")
    page.get_by_role("heading", name=f"Comment {second.id}").wait_for()
    assert page.url == f"{base_url}/staff/coding"  # no new page
    assert refused == []  # nothing of the old item is carried into the new one
    assert page.get_by_role("heading", name=f"Comment {second.id}").evaluate(
        "element => element === document.activeElement"
    )
    assert page.get_by_label("Timeliness of care").is_checked()
    db.session.expire_all()
    assert first.confirmed_at is not None
    assert first.sentiment == 5

    # S skips the second; the third is about staff and parking.
    page.keyboard.press("s")
    page.get_by_role("heading", name=f"Comment {third.id}").wait_for()
    assert page.get_by_label("Parking").is_checked()
    check_page(page, "staff-coding-next")
    db.session.expire_all()
    assert second.confirmed_at is None

    # The rest confirmed as suggested (as colleagues would), the themes page has a chart.
    for comment in comments[2:]:
        if comment.confirmed_at is None:
            suggested = suggest_for(comment.id)
            themes = [theme.theme_id for theme in suggested.themes]
            confirm(comment.id, themes, suggested.sentiment, SYSTEM, NOW)
    open_section(page, "Themes")
    page.wait_for_url(f"{base_url}/staff/themes")
    assert page.get_by_role("heading", level=1).inner_text() == "Themes"
    page.get_by_role("heading", name="Themes patients wrote about").wait_for()
    chart = page.locator(".wesaid-chart svg").inner_html()
    assert "Staff manner &amp; personal attributes" in chart
    check_page(page, "staff-themes")
    assert refused == []
