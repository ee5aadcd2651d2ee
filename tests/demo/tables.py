"""The tables of a staff page as text, read the way a person reads them: each table by its
id, each body row as its cells' words (the headings a responsive table repeats in every
cell for small screens, hidden from view, are left out)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._in_body = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._hidden = 0  # depth inside a heading hidden from view

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and found.get("id"):
            self._table = found["id"]
            self.tables[str(self._table)] = []
        elif self._table is None:
            return
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif (
            tag == "span"
            and self._cell is not None
            and (self._hidden or found.get("aria-hidden") == "true")
        ):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if self._table is None:
            return
        if tag == "span" and self._hidden:
            self._hidden -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._hidden:
            self._cell.append(data)


def page_tables(page: str) -> dict[str, list[list[str]]]:
    """Every table of `page` that has an id: its body rows, each a list of cell texts."""
    parser = _Tables()
    parser.feed(page)
    parser.close()
    return parser.tables


def number(text: str) -> float:
    """A figure as a page writes it ("1,894", "-4.2%", "+0.2%", "0.29") as a number; a
    percentage as a proportion. Raises ValueError for anything else."""
    cleaned = text.replace(",", "").replace("\u2212", "-").strip()
    if cleaned.endswith("%"):
        return float(cleaned[:-1]) / 100
    return float(cleaned)


def counts(text: str) -> tuple[int, int]:
    """ "9 of 25" as (9, 25)."""
    responded, _of, invited = text.replace(",", "").split()
    return int(responded), int(invited)
