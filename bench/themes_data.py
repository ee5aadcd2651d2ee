"""Prepare pxtextmining's labelled FFT comments as a labelled CSV for bench/themes.py.

    .venv/bin/python bench/themes_data.py v6framework_230831.csv OUT.csv

The pxtextmining project (NHS England / The Strategy Unit) published FFT comments from
two trusts coded with version 6 of the framework, `datasets/v6framework_230831.csv` in
github.com/The-Strategy-Unit/pxtextmining. Its repository is under the MIT licence, but
the data carry no licence of their own, so the file is not copied into this repository:
fetch it yourself and run this script. Version 6 names are mapped to version 7 where
version 7 merged or renamed them; codes version 7 dropped are left out, and a comment
left with no code is kept with none. Sentiment keeps the labellers' 1 (very positive)
to 5 (very negative).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from app.themes.framework import framework

#: Version 6 names that version 7 merged or renamed.
V6_TO_V7 = {
    "Number & deployment of staff": "Staffing levels & responsiveness",
    "Staff responsiveness": "Staffing levels & responsiveness",
    "Staff continuity": "Continuity of care",
    "Referals & continuity of care": "Continuity of care",
    "Environment & Facilities": "Environment, facilities & equipment",
    "Provision of medical equipment": "Environment, facilities & equipment",
}


def main() -> None:
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    names = {t.name for t in framework().themes}
    with source.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    written = 0
    with out.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "text", "themes", "sentiment", "locale"])
        for row in rows:
            text = (row.get("FFT answer") or "").strip()
            if not text:
                continue
            themes = []
            for column, value in row.items():
                if value != "1" or column is None:
                    continue
                name = V6_TO_V7.get(column, column)
                if name in names and name not in themes:
                    themes.append(name)
            sentiment = (row.get("Comment sentiment") or "").strip()
            writer.writerow(
                [
                    row["Comment ID"],
                    text,
                    ";".join(themes),
                    sentiment if sentiment in "12345" and sentiment else "",
                    "en",
                ]
            )
            written += 1
    print(f"{out}: {written:,} labelled comments")


if __name__ == "__main__":
    main()
