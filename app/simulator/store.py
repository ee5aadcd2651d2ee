"""The simulator's stores: records shaped like Twilio's, with its list filters and paging.

Messages and calls share the store and the list query; they differ in the date filter
the list takes (DateSent for messages, StartTime for calls) and the collection name.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from urllib.parse import urlencode

from app.core.sms import measure

API_VERSION = "2010-04-01"
PRICE_PER_SEGMENT = "0.04000"

#: The date filter of each list as the SDK names it; "<" and ">" may follow the name.
MESSAGE_DATE = "DateSent"
CALL_DATE = "StartTime"
_DATE_OPS = ("", "<", ">")
#: Filters the Messages list understands, as the SDK names them in the query string.
DATE_FILTERS = tuple(MESSAGE_DATE + op for op in _DATE_OPS)


def new_sid(prefix: str) -> str:
    """A Twilio-style sid: two letters and 32 lower-case hex digits."""
    return prefix + secrets.token_hex(16)


def rfc2822(moment: datetime | None) -> str | None:
    """Format an instant as Twilio does in JSON: 'Thu, 30 Jul 2015 20:12:31 +0000'."""
    if moment is None:
        return None
    return format_datetime(moment.astimezone(UTC))


@dataclass
class SimMessage:
    """One message as the simulated provider holds it."""

    sid: str
    account_sid: str
    to: str
    from_number: str | None
    body: str
    direction: str  # "outbound-api" or "inbound"
    status: str
    created_at: datetime
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    sent_at: datetime | None = None
    updated_at: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None
    price: str | None = None
    #: Counted once from the first body, so a redacted message keeps its count.
    num_segments: int | None = None

    def __post_init__(self) -> None:
        if self.num_segments is None:
            self.num_segments = measure(self.body).segments

    @property
    def listed_at(self) -> datetime:
        """The instant the list's date filters compare."""
        return self.sent_at or self.created_at

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def to_json(self) -> dict[str, Any]:
        """The resource exactly as Twilio's REST API renders it."""
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.created_at),
            "date_sent": rfc2822(self.sent_at),
            "date_updated": rfc2822(self.updated_at or self.created_at),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_number,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(self.num_segments),
            "price": self.price,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": self.uri.removesuffix(".json") + "/Media.json"},
            "to": self.to,
            "uri": self.uri,
        }


class FilterError(ValueError):
    """A list filter the API cannot read."""


class Record(Protocol):
    """What the stores and list filters need of a message or a call."""

    __dataclass_fields__: ClassVar[dict[str, Any]]
    sid: str
    to: str
    from_number: str | None
    status: str

    @property
    def listed_at(self) -> datetime: ...


R = TypeVar("R", bound=Record)


@dataclass(frozen=True)
class ListQuery:
    """The filters and paging of one list request."""

    to: str | None = None
    from_number: str | None = None
    #: (operator, value) pairs; the operator is "", "<" or ">" after `date_name`.
    date_filters: tuple[tuple[str, str], ...] = ()
    page: int = 0
    page_size: int = 50
    page_token: str | None = None
    status: str | None = None
    date_name: str = MESSAGE_DATE

    @classmethod
    def from_params(cls, params: Mapping[str, str], date_name: str = MESSAGE_DATE) -> ListQuery:
        """Read the query string; raises FilterError on a malformed value."""
        try:
            page = int(params.get("Page", "0"))
            size = int(params.get("PageSize", "50"))
        except ValueError as exc:
            raise FilterError("Page and PageSize must be integers") from exc
        if page < 0 or not 1 <= size <= 1000:
            raise FilterError("PageSize must be between 1 and 1000")
        dates = tuple(
            (op, params[date_name + op]) for op in _DATE_OPS if params.get(date_name + op)
        )
        for _, value in dates:
            _parse_date(value)
        return cls(
            to=params.get("To") or None,
            from_number=params.get("From") or None,
            date_filters=dates,
            page=page,
            page_size=size,
            page_token=params.get("PageToken") or None,
            status=params.get("Status") or None,
            date_name=date_name,
        )

    def matches(self, record: Record) -> bool:
        if self.to is not None and record.to != self.to:
            return False
        if self.from_number is not None and record.from_number != self.from_number:
            return False
        if self.status is not None and record.status != self.status:
            return False
        moment = record.listed_at
        return all(_date_matches(op, value, moment) for op, value in self.date_filters)

    def params(self) -> dict[str, str]:
        """The filters as query parameters, for the paging links."""
        pairs = (("To", self.to), ("From", self.from_number), ("Status", self.status))
        out = {k: v for k, v in pairs if v}
        out.update({self.date_name + op: value for op, value in self.date_filters})
        return out


def _parse_date(value: str) -> date | datetime:
    try:
        if "T" in value:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise FilterError("dates are YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ") from exc


def _date_matches(op: str, value: str, moment: datetime) -> bool:
    # A bare date compares by calendar day (UTC), a timestamp to the second.
    bound = _parse_date(value)
    if isinstance(bound, datetime):
        return _compare(op, moment, bound)
    return _compare(op, moment.date(), bound)


def _compare(op: str, left: date, right: date) -> bool:
    if op == "<":
        return left <= right
    if op == ">":
        return left >= right
    return left == right


class RecordStore(Generic[R]):
    """Every record of one kind the simulated account holds, newest first, safe across
    threads. Readers get copies, so they never see a half-made update.

    The sids sent to each number are kept in order too, so that listing one number's
    records, or paging on from a page token, does not read every record held.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_sid: dict[str, R] = {}
        #: Each recipient's sids, oldest first, and where each sid stands in its list.
        self._by_to: dict[str, list[str]] = {}
        self._place: dict[str, int] = {}

    def add(self, record: R) -> None:
        """Keep a copy: the caller's object is not shared with the delivery thread."""
        with self._lock:
            if record.sid not in self._by_sid:
                sids = self._by_to.setdefault(record.to, [])
                self._place[record.sid] = len(sids)
                sids.append(record.sid)
            self._by_sid[record.sid] = replace(record)

    def find(self, sid: str) -> R | None:
        with self._lock:
            found = self._by_sid.get(sid)
            return replace(found) if found else None

    def update(self, sid: str, **changes: Any) -> R | None:
        """Apply `changes` to one record; None if the sid is unknown."""
        with self._lock:
            found = self._by_sid.get(sid)
            if found is None:
                return None
            for name, value in changes.items():
                setattr(found, name, value)
            return replace(found)

    def remove(self, sid: str) -> bool:
        """Forget one record (a deletion); False if the sid is unknown."""
        with self._lock:
            return self._by_sid.pop(sid, None) is not None

    def all(self) -> list[R]:
        """Copies of every record, newest first (Twilio's list order)."""
        with self._lock:
            ordered = list(reversed(self._by_sid.values()))
            return [replace(m) for m in ordered]

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_sid)

    def page(self, query: ListQuery) -> tuple[list[R], bool]:
        """One page of matches, and whether more follow.

        A page token names the last sid of the previous page, so records created while
        a client pages through do not shift what it sees (they sort before the token).
        """
        with self._lock:
            order = self._by_to.get(query.to, []) if query.to is not None else list(self._by_sid)
            newest = len(order) - 1
            skip = query.page * query.page_size
            after = (query.page_token or "").removeprefix("PA")
            if after and query.to is not None and after in self._place:
                newest, skip = self._place[after] - 1, 0
            elif after and after in self._by_sid and query.to is None:
                newest, skip = order.index(after) - 1, 0
            found: list[R] = []
            for index in range(newest, -1, -1):
                record = self._by_sid.get(order[index])
                if record is None or not query.matches(record):
                    continue
                if skip:
                    skip -= 1
                    continue
                found.append(record)
                if len(found) > query.page_size:
                    break
            return [replace(r) for r in found[: query.page_size]], len(found) > query.page_size


class MessageStore(RecordStore[SimMessage]):
    """Every message the simulated account holds."""


def page_payload(
    account_sid: str,
    query: ListQuery,
    found: list[Any],
    more: bool,
    collection: str = "Messages",
) -> dict[str, object]:
    """A list page of `collection` ("Messages" or "Calls") as Twilio renders it; the
    next link carries a page token."""
    base = f"/{API_VERSION}/Accounts/{account_sid}/{collection}.json"
    filters = query.params()

    def link(**extra: str | int) -> str:
        pairs = {**filters, "PageSize": query.page_size, **extra}
        return base + "?" + urlencode(pairs)

    start = query.page * query.page_size
    next_uri = link(Page=query.page + 1, PageToken="PA" + found[-1].sid) if more else None
    previous = link(Page=query.page - 1) if query.page > 0 else None
    return {
        collection.lower(): [m.to_json() for m in found],
        "page": query.page,
        "page_size": query.page_size,
        "start": start,
        "end": start + max(len(found) - 1, 0),
        "uri": link(Page=query.page),
        "first_page_uri": link(Page=0),
        "next_page_uri": next_uri,
        "previous_page_uri": previous,
    }
