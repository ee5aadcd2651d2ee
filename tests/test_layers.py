"""The layers: imports go down only, and nothing dodges a cycle inside a function.

The import graph is read with grimp (no project code runs). Each row of LAYERS may
import the rows below it and never one above; packages in one row are independent of
each other. The README's architecture section draws the same rows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]

#: From the top down. Composition (`app` itself, `app.cli`, `app.wiring`, `app.demo`
#: and `workers`) sits above every row and may import anything.
LAYERS: tuple[tuple[str, ...], ...] = (
    # entry points
    ("app.api", "app.web", "app.webhooks", "app.public", "app.commands", "app.operations"),
    ("app.runtime", "app.web_assets"),  # what entry points take from the app
    ("app.casework",),  # the worklist and patient timelines: they read every feature below
    ("app.yousaid",),  # "you said, we did": reads themes and results
    # features that read the ones below
    (
        "app.surveys",
        "app.attendance",
        "app.privacy",
        "app.uploads",
        "app.diary",
        "app.goals",
        "app.themes",
    ),
    ("app.results", "app.replies", "app.experiments", "app.reports"),  # features
    ("app.events",),  # what the clinic's systems hear: webhooks and the FHIR write-back
    ("app.scheduling",),  # planning: reminders of appointments
    ("app.appointments",),  # planning: one service for every appointment change
    ("app.messaging",),
    ("app.patients",),  # tenancy
    ("app.clinics",),  # tenancy
    ("app.audit",),  # tenancy: who saw or changed what
    # infra
    ("app.extensions", "app.limits", "app.queueing", "app.config", "app.metrics", "app.logs"),
    ("app.access_log",),  # infra: the logs use its redaction
    ("app.db",),  # infra
    ("app.charts",),  # pure: SVG charts drawn from data
    ("app.core",),  # pure
)
COMPOSITION = ("app.cli", "app.wiring", "app.demo", "workers")
TOOLS = ("app.simulator",)
#: Modules that may import lazily (start-up time), saying why in a comment.
LAZY_ALLOWED = (
    "app/cli.py",
    "app/__init__.py",
    "app/simulator/",
    "app/core/pdf.py",  # WeasyPrint: over half a second, for the few PDFs made
    "app/themes/model.py",  # scikit-learn and SciPy: about a second, for suggestions
    "app/themes/learning.py",  # and for training
)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("app", "workers")


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[0] if parts[0] == "workers" else ".".join(parts[:2])


def test_every_package_has_a_place(graph: grimp.ImportGraph) -> None:
    placed = {p for row in LAYERS for p in row} | set(COMPOSITION) | set(TOOLS)
    packages = {_package(m) for m in graph.modules} - {"app"}
    assert packages <= placed, f"add to LAYERS: {sorted(packages - placed)}"


def test_imports_go_down_only(graph: grimp.ImportGraph) -> None:
    illegal = graph.find_illegal_dependencies_for_layers(
        layers=[grimp.Layer(*row, independent=True) for row in LAYERS]
    )
    found = sorted(
        f"{route.importer} -> {route.imported} ({', '.join(chain.middle or ()) or 'direct'})"
        for dependency in illegal
        for route in dependency.routes
        for chain in [route]
    )
    assert found == []


def test_no_layer_imports_composition_or_tools(graph: grimp.ImportGraph) -> None:
    layered = [p for row in LAYERS for p in row]
    found = []
    for module in graph.modules:
        if _package(module) not in layered:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if imported == "app" or _package(imported) in (*COMPOSITION, *TOOLS):
                found.append(f"{module} -> {imported}")
    assert sorted(found) == []


def test_the_simulator_is_imported_by_the_demo_only(graph: grimp.ImportGraph) -> None:
    importers = {
        _package(importer)
        for module in graph.find_children("app.simulator") | {"app.simulator"}
        for importer in graph.find_modules_that_directly_import(module)
    }
    assert importers <= {"app.simulator", "app.demo"}


def _function_level_imports(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    names = [inner.module or ""] if isinstance(inner, ast.ImportFrom) else []
                    names += [alias.name for alias in inner.names]
                    if any(name.startswith(("app", "workers")) for name in names):
                        lines.append(inner.lineno)
    return lines


def test_no_function_level_import_in_domain_code() -> None:
    found = []
    for folder in ("app", "workers"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(LAZY_ALLOWED):
                continue
            found += [f"{relative}:{line}" for line in _function_level_imports(path)]
    assert found == []


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    """The contract is not vacuous: a core module importing messaging breaks it."""
    package = tmp_path / "layered"
    for name in ("core", "messaging"):
        (package / name).mkdir(parents=True)
        (package / name / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "core" / "low.py").write_text("import layered.messaging.high\n")
    (package / "messaging" / "high.py").write_text("")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        graph = grimp.build_graph("layered", cache_dir=None)
    finally:
        sys.path.remove(str(tmp_path))
    illegal = graph.find_illegal_dependencies_for_layers(
        layers=["layered.messaging", "layered.core"]
    )
    assert [(d.importer, d.imported) for d in illegal] == [("layered.core", "layered.messaging")]
