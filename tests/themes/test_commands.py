"""`wesaid themes` and `wesaid import pals`, and the coding service behind the queue."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from redis import Redis
from sqlalchemy import func, select

from app.audit.models import AuditAction, AuditEvent
from app.audit.service import SYSTEM
from app.clinics.models import Clinic
from app.commands.imports import import_pals
from app.commands.themes import themes_cli
from app.core.clock import FixedClock
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.privacy.retention import purge_texts
from app.queueing import QueueName
from app.runtime import get_runtime
from app.simulator.comments import generate_comments, write_labelled_csv
from app.themes import service, training
from app.themes.codebook import add_code, codebook
from app.themes.framework import framework
from app.themes.labelled import read_labelled
from app.themes.model import Example
from app.themes.models import PalsContact, ThemeComment
from app.themes.training import train_organisation
from tests.world import World
from workers.worker import InProcessWorker, bind

NAMES = {t.key: t.name for t in framework().themes}


def _labelled(tmp_path: Path, n: int = 300) -> Path:
    path = tmp_path / "labelled.csv"
    write_labelled_csv(path, generate_comments(n, seed=5), NAMES)
    return path


def _input(tmp_path: Path) -> Path:
    path = tmp_path / "input.csv"
    path.write_text(
        "id,text,locale\nA-1,The receptionist was rude,en\n"
        "B-2,Nie ma gdzie zaparkować,pl\nC-3,zzz,\n",
        encoding="utf-8",
    )
    return path


def test_train_and_suggest_with_a_model_file_alone(tmp_path: Path) -> None:
    model, out = tmp_path / "model.npz", tmp_path / "out.json"
    runner = CliRunner()
    trained = runner.invoke(
        themes_cli, ["train", "--model", str(model), "--from", str(_labelled(tmp_path))]
    )
    assert trained.exit_code == 0, trained.output
    assert "held-out macro-F1" in trained.output
    suggested = runner.invoke(
        themes_cli, ["suggest", str(_input(tmp_path)), "--model", str(model), "--json", str(out)]
    )
    assert suggested.exit_code == 0, suggested.output
    items = json.loads(out.read_text(encoding="utf-8"))
    assert [item["id"] for item in items] == ["A-1", "B-2", "C-3"]
    assert items[0]["themes"][0]["name"] == "Staff manner & personal attributes"
    assert items[1]["themes"][0]["name"] == "Parking"
    assert all(0 <= t["score"] <= 1 for item in items for t in item["themes"])
    assert items[0]["sentiment"] in (4, 5)


def test_suggest_with_the_keyword_baseline(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = CliRunner().invoke(themes_cli, ["suggest", str(_input(tmp_path)), "--json", str(out)])
    assert result.exit_code == 0, result.output
    items = json.loads(out.read_text(encoding="utf-8"))
    assert items[1] == {
        "id": "B-2",
        "themes": [{"name": "Parking", "score": 0.5}],
        "sentiment": None,
    }
    assert items[2]["themes"] == []


def test_bad_labelled_rows_are_named_and_nothing_is_trained(tmp_path: Path) -> None:
    path, model = tmp_path / "bad.csv", tmp_path / "model.npz"
    path.write_text(
        "id,text,themes,sentiment\n1,fine,Parking,2\n2,,Parking,\n"
        "3,x,Not a theme,1\n4,y,Parking,9\n1,z,,\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(themes_cli, ["train", "--model", str(model), "--from", str(path)])
    assert result.exit_code == 2
    for expected in (
        f"{path}:3: text: required",
        f"{path}:4: themes: unknown theme 'Not a theme'",
        f"{path}:5: sentiment: must be 1 (very positive) to 5 (very negative)",
        f"{path}:2: id: duplicate (also at 6)",
    ):
        assert expected in result.output
    assert not model.exists()


PALS = """date,clinic,type,text,themes,birth_year,sex,ethnic_category,imd_quintile
2026-02-10,north,complaint,Dr Patel was rude; call me on 07400 123456,\
Staff manner & personal attributes,1950,F,A,2
2026-02-11,,compliment,Lovely staff,,,,,
2026-02-12,south,pals,x,,,,,
2026-13-01,north,pals,x,,,,,
2026-02-12,north,letter,x,,,,,
2026-02-12,north,pals,x,Nonsense theme,,,,
2026-02-12,north,pals,x,,1800,Q,Y,7
2026-02-14,north,pals,Waited three hours for a call back,,,,,
"""


def test_import_pals_names_bad_rows_and_is_idempotent(
    runner: Any, world: World, tmp_path: Path
) -> None:
    world.clinic("north")
    path = tmp_path / "pals.csv"
    path.write_text(PALS, encoding="utf-8")
    result = runner.invoke(import_pals, [str(path), "--org", "trust"])
    assert result.exit_code == 1
    for expected in (
        f"{path}:4: clinic: no such clinic in this organisation",
        f"{path}:5: date: expected an ISO date (YYYY-MM-DD)",
        f"{path}:6: type: must be pals, complaint or compliment",
        f"{path}:7: themes: unknown theme 'Nonsense theme'",
        f"{path}:8: birth_year: must be between 1900 and 2026",
        f"{path}:8: sex: must be F, M, X or U",
        f"{path}:8: ethnic_category: must be an NHS ethnic category code",
        f"{path}:8: imd_quintile: must be 1 (most deprived) to 5",
    ):
        assert expected in result.output
    assert "PALS contacts: 3 created, 0 updated, 0 unchanged, 5 bad rows" in result.output
    strict = runner.invoke(import_pals, [str(path), "--org", "trust", "--strict"])
    assert strict.exit_code == 1
    again = runner.invoke(import_pals, [str(path), "--org", "trust"])
    assert "0 created, 0 updated, 3 unchanged" in again.output
    assert db.session.scalar(select(func.count()).select_from(PalsContact)) == 3
    coded = db.session.scalars(
        select(ThemeComment).where(ThemeComment.confirmed_at.is_not(None))
    ).all()
    assert len(coded) == 1  # the themes the file gave


def test_the_coding_queue_masks_suggests_confirms_and_learns(
    runner: Any, world: World, clock: FixedClock, tmp_path: Path
) -> None:
    north = world.clinic("north")
    path = tmp_path / "pals.csv"
    path.write_text(PALS, encoding="utf-8")
    runner.invoke(import_pals, [str(path), "--org", "trust"])
    organisation_id = north.organisation_id
    nxt = service.queue(organisation_id)
    assert nxt is not None
    assert nxt.masked == "Lovely staff"
    assert nxt.suggestion.by == "keywords"
    assert "Staff manner & personal attributes" in [t.name for t in nxt.suggestion.themes]
    north_view = service.queue(organisation_id, clinic_ids=[north.id])
    assert north_view is not None
    assert north_view.clinic_id == north.id
    service.confirm(nxt.id, [t.theme_id for t in nxt.suggestion.themes], 1, SYSTEM, clock.now())
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.CODE_COMMENT)
    ).all()
    assert [e.record_ids for e in events] == [[nxt.id]]
    # The organisation's model learns from its codes (and a labelled file) and then suggests.
    rows = read_labelled(_labelled(tmp_path, 200), lambda name: name)
    extra = [Example(r.text, r.themes, r.sentiment, r.locale) for r in rows]
    stored = train_organisation(organisation_id, clock.now(), extra)
    assert stored.version == 1
    assert stored.comments == 202
    suggestion = service.suggest_texts(organisation_id, [("the receptionist was rude", "en")])[0]
    assert suggestion.by == "model:1"
    assert suggestion.themes[0].name == "Staff manner & personal attributes"


def test_masked_text_in_the_queue_hides_the_phone_number(
    runner: Any, world: World, tmp_path: Path, clock: FixedClock
) -> None:
    world.clinic("north")
    path = tmp_path / "pals.csv"
    path.write_text(
        PALS.replace("2026-02-11,,compliment,Lovely staff,,,,,\n", ""), encoding="utf-8"
    )
    runner.invoke(import_pals, [str(path), "--org", "trust"])
    comment = db.session.scalars(select(ThemeComment).order_by(ThemeComment.id)).first()
    assert comment is not None
    assert service.masked_text(comment) == "Dr [name] was rude; call me on [phone]"
    assert isinstance(db.session.get(Clinic, comment.clinic_id), Clinic)


def test_train_and_suggest_for_an_organisation(runner: Any, world: World, tmp_path: Path) -> None:
    world.clinic("north")
    out = tmp_path / "out.json"
    missing = runner.invoke(themes_cli, ["train", "--org", "nowhere"])
    assert missing.exit_code == 2
    assert "--org: no organisation 'nowhere'" in missing.output
    trained = runner.invoke(
        themes_cli, ["train", "--org", "trust", "--from", str(_labelled(tmp_path))]
    )
    assert trained.exit_code == 0, trained.output
    assert "trust: model version 1, 300 comments" in trained.output
    suggested = runner.invoke(
        themes_cli, ["suggest", str(_input(tmp_path)), "--org", "trust", "--json", str(out)]
    )
    assert suggested.exit_code == 0, suggested.output
    items = json.loads(out.read_text(encoding="utf-8"))
    assert items[0]["themes"][0]["name"] == "Staff manner & personal attributes"
    both = runner.invoke(
        themes_cli,
        ["suggest", str(_input(tmp_path)), "--org", "trust", "--model", "x", "--json", str(out)],
    )
    assert both.exit_code == 2


def test_the_retention_purge_blanks_old_pals_texts(
    runner: Any, world: World, tmp_path: Path
) -> None:
    north = world.clinic("north")
    path = tmp_path / "pals.csv"
    path.write_text(PALS, encoding="utf-8")
    runner.invoke(import_pals, [str(path), "--org", "trust"])
    counts = purge_texts([north.id], datetime(2026, 2, 12, tzinfo=UTC))
    assert counts["pals_texts"] == 2  # the north complaint and the organisation's compliment
    texts = db.session.scalars(select(PalsContact.text).order_by(PalsContact.id)).all()
    assert texts == [None, None, "Waited three hours for a call back"]


def test_a_worker_trains_the_model_when_asked(
    app: Flask, runner: Any, world: World, redis_conn: Redis, tmp_path: Path
) -> None:
    north = world.clinic("north")
    path = tmp_path / "pals.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(PALS.splitlines()[0].split(","))
        for k, c in enumerate(generate_comments(80, seed=2)):
            themes = ";".join(NAMES[key] for key in c.themes)
            writer.writerow(
                [f"2026-02-{1 + k % 20:02d}", "north", "complaint", c.text, themes, "", "", "", ""]
            )
    imported = runner.invoke(import_pals, [str(path), "--org", "trust"])
    assert "80 created" in imported.output, imported.output
    training.request_training(north.organisation_id, get_runtime(app).queue)
    bind(app)
    queue = get_runtime(app).queue.queue(QueueName.IMPORTS)
    InProcessWorker([queue], connection=redis_conn).work(burst=True, logging_level="WARNING")
    assert queue.failed_job_registry.count == 0
    latest = training.latest_model(north.organisation_id)
    assert latest is not None
    assert latest[0] == 1


def test_a_comment_outside_the_coders_clinics_is_not_found(
    runner: Any, world: World, tmp_path: Path, clock: FixedClock
) -> None:
    north = world.clinic("north")
    south = world.clinic("south")
    path = tmp_path / "pals.csv"
    path.write_text(PALS, encoding="utf-8")
    runner.invoke(import_pals, [str(path), "--org", "trust"])
    nxt = service.queue(north.organisation_id, clinic_ids=[north.id])
    assert nxt is not None
    with pytest.raises(NotFound):
        service.confirm(nxt.id, [], 3, SYSTEM, clock.now(), clinic_ids=[south.id])
    with pytest.raises(Invalid, match="sentiment"):
        service.confirm(nxt.id, [], 7, SYSTEM, clock.now(), clinic_ids=[north.id])
    theirs = service.queue(north.organisation_id, clinic_ids=[south.id])
    assert theirs is not None
    assert theirs.clinic_id == south.id


def test_an_organisation_adds_a_code_of_its_own(
    runner: Any, world: World, tmp_path: Path, clock: FixedClock
) -> None:
    north = world.clinic("north")
    org = north.organisation_id
    theme = add_code(org, "  Waiting room  signs ", "Environment", SYSTEM, clock.now())
    assert theme.name == "Waiting room signs"
    assert theme.key == f"org-{org}-waiting-room-signs"
    assert codebook(org)[-1].id == theme.id
    assert len(codebook(org)) == 33
    with pytest.raises(Invalid, match="already has"):
        add_code(org, "waiting room signs", "", SYSTEM, clock.now())
    with pytest.raises(Invalid, match="already has"):
        add_code(org, "Parking", "", SYSTEM, clock.now())
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.EDIT_CODEBOOK)
    ).all()
    assert [e.record_ids for e in events] == [[theme.id]]
    path = tmp_path / "pals.csv"
    path.write_text(
        PALS.splitlines()[0] + "\n2026-02-10,north,pals,Signs unclear,Waiting room signs,,,,\n",
        encoding="utf-8",
    )
    result = runner.invoke(import_pals, [str(path), "--org", "trust"])
    assert result.exit_code == 0, result.output
