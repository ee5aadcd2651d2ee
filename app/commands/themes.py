"""`wesaid themes`: train a theme model and suggest themes for comments in a CSV file.

`train --model PATH --from FILE` and `suggest --model PATH` (or with neither --org nor
--model, the keyword baseline) work on files alone and touch no database, like `wesaid
rake`. Errors name the file, the line and the field, and exit with status 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.clinics.queries import find_organisation
from app.commands.common import fail
from app.core.errors import WeSaidError
from app.runtime import get_runtime
from app.themes.codebook import codebook, name_resolver
from app.themes.framework import framework
from app.themes.keywords import keyword_sentiment, keyword_themes
from app.themes.labelled import CommentRow, read_input, read_labelled
from app.themes.learning import train
from app.themes.model import Example, ThemeModel
from app.themes.service import suggest_texts
from app.themes.training import train_organisation

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_OUT = click.Path(dir_okay=False, path_type=Path)


@click.group("themes")
def themes_cli() -> None:
    """Themes in what patients write: train models and suggest codes."""


def _framework_name(written: str) -> str | None:
    theme = framework().by_name(written)
    return theme.name if theme else None


def _examples(rows: list[CommentRow]) -> list[Example]:
    return [Example(r.text, r.themes, r.sentiment, r.locale) for r in rows]


@themes_cli.command("train")
@click.option("--org", "org_slug", help="train the organisation's model (stored)")
@click.option("--model", "model_path", type=_OUT, help="write the model to this file instead")
@click.option(
    "--from", "labelled", type=_FILE, help="labelled CSV: id,text,themes[,sentiment,locale]"
)
def train_command(org_slug: str | None, model_path: Path | None, labelled: Path | None) -> None:
    """Train a theme model. With --org, from the organisation's confirmed codes (and
    --from's labelled comments too); with --model, from --from alone, without a
    database."""
    if (org_slug is None) == (model_path is None):
        raise click.UsageError("give exactly one of --org and --model")
    if model_path is not None:
        if labelled is None:
            raise click.UsageError("--model needs --from (the labelled comments)")
        try:
            rows = read_labelled(labelled, _framework_name)
            model = train(_examples(rows), [t.name for t in framework().themes])
        except (WeSaidError, ValueError) as exc:
            fail(str(exc))
        try:
            model_path.write_bytes(model.to_bytes())
        except OSError as exc:
            fail(f"--model: {exc.strerror or exc}")
        click.echo(f"{model_path}: {_summary(model.metrics)}")
        return
    assert org_slug is not None
    _train_org(org_slug, labelled)


@with_appcontext
def _train_org(org_slug: str, labelled: Path | None) -> None:
    organisation = find_organisation(org_slug)
    if organisation is None:
        fail(f"--org: no organisation {org_slug!r}")
    try:
        extra: list[Example] = []
        if labelled is not None:
            resolve = name_resolver(codebook(organisation.id))
            rows = read_labelled(labelled, lambda w: t.name if (t := resolve(w)) else None)
            extra = _examples(rows)
        stored = train_organisation(organisation.id, get_runtime().clock.now(), extra)
    except WeSaidError as exc:
        fail(str(exc))
    click.echo(f"{organisation.slug}: model version {stored.version}, {_summary(stored.metrics)}")


def _summary(metrics: dict[str, object]) -> str:
    parts = [f"{metrics.get('comments', 0):,} comments"]
    if "held_out_macro_f1" in metrics:
        parts.append(f"held-out macro-F1 {metrics['held_out_macro_f1']}")
    return ", ".join(parts)


@themes_cli.command("suggest")
@click.argument("input_path", metavar="INPUT.csv", type=_FILE)
@click.option("--org", "org_slug", help="use the organisation's latest model")
@click.option("--model", "model_path", type=_FILE, help="use a model file from `train --model`")
@click.option("--json", "json_path", required=True, type=_OUT, help="write the suggestions here")
def suggest_command(
    input_path: Path, org_slug: str | None, model_path: Path | None, json_path: Path
) -> None:
    """Suggest themes and a sentiment for each comment of INPUT.csv (id,text[,locale]).

    Writes a JSON list of {"id", "themes": [{"name", "score"}], "sentiment"}: the themes
    the coding queue would pre-tick, best first. With neither --org nor --model, the
    keyword baseline."""
    if org_slug is not None and model_path is not None:
        raise click.UsageError("give at most one of --org and --model")
    try:
        rows = read_input(input_path)
    except WeSaidError as exc:
        fail(str(exc))
    if org_slug is not None:
        out = _suggest_org(org_slug, rows)
    elif model_path is not None:
        try:
            model = ThemeModel.from_bytes(model_path.read_bytes())
        except (OSError, ValueError) as exc:
            fail(f"--model: {exc}")
        out = [
            _item(r.id, [(s.name, s.score) for s in p.themes], p.sentiment)
            for r, p in zip(
                rows, model.predict([r.text for r in rows], [r.locale for r in rows]), strict=True
            )
        ]
    else:
        names = {t.key: t.name for t in framework().themes}
        out = [
            _item(
                r.id,
                [(names[s.key], s.score) for s in keyword_themes(r.text, r.locale)],
                keyword_sentiment(r.text, r.locale),
            )
            for r in rows
        ]
    try:
        json_path.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError as exc:
        fail(f"--json: {exc.strerror or exc}")
    click.echo(f"{json_path}: suggestions for {len(out):,} comments")


@with_appcontext
def _suggest_org(org_slug: str, rows: list[CommentRow]) -> list[dict[str, object]]:
    organisation = find_organisation(org_slug)
    if organisation is None:
        fail(f"--org: no organisation {org_slug!r}")
    suggestions = suggest_texts(organisation.id, [(r.text, r.locale) for r in rows])
    return [
        _item(r.id, [(t.name, t.score) for t in s.themes], s.sentiment)
        for r, s in zip(rows, suggestions, strict=True)
    ]


def _item(
    comment_id: str, themes: list[tuple[str, float]], sentiment: int | None
) -> dict[str, object]:
    return {
        "id": comment_id,
        "themes": [{"name": name, "score": score} for name, score in themes],
        "sentiment": sentiment,
    }
