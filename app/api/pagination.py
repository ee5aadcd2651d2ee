"""Pages of a list route: `?cursor=&limit=`, answering `items` and `next_cursor`.

The cursor is opaque to clients: it encodes the id of the last row of the page, and the
next page is the rows after it in id order (a keyset, so a page never repeats or skips
a row because others were added meanwhile). `next_cursor` is null on the last page.
A cursor the API did not give answers 400 naming `cursor`.
"""

from __future__ import annotations

import base64
import binascii
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_LIMIT = 200
_PREFIX = "after:"


class PageQuery(BaseModel):
    """The query string of a list route."""

    model_config = ConfigDict(extra="ignore")

    cursor: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="`next_cursor` of the previous page; leave out for the first page",
    )
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT, description="Rows per page")

    @field_validator("cursor")
    @classmethod
    def _readable(cls, value: str | None) -> str | None:
        if value is not None:
            after_id_of(value)
        return value

    def after_id(self) -> int:
        """The id after which this page starts (0 for the first page)."""
        return after_id_of(self.cursor) if self.cursor else 0


def encode_cursor(last_id: int) -> str:
    """The cursor of the page after the row `last_id`."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{last_id}".encode()).decode().rstrip("=")


def after_id_of(cursor: str) -> int:
    """The id a cursor encodes; ValueError for anything the API did not give."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a cursor this API gave") from None
    match = re.fullmatch(rf"{_PREFIX}(\d{{1,18}})", text)
    if match is None:
        raise ValueError("not a cursor this API gave")
    return int(match.group(1))


def next_cursor(ids: list[int], limit: int) -> str | None:
    """The cursor after a page of `ids`, fetched with `limit + 1` rows asked for: None
    when there was no row beyond the page."""
    return encode_cursor(ids[limit - 1]) if len(ids) > limit else None
