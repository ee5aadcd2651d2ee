"""The NHS.UK design system in the app's Jinja environment.

Pages extend `layouts/nhsuk_base.html` and call the component macros of
`nhsuk-frontend-jinja` (`{% from "nhsuk/components/radios/macro.jinja" import radios %}`);
its version goes with the `nhsuk-frontend` CSS and JS built into `app/static/nhsuk/`
by `make assets`. `init_app` makes the macros loadable:

- the package's templates are found after the app's own, under `nhsuk/`;
- its `.jinja` files are autoescaped like `.html` (a patient's answer is shown back to
  them through these macros);
- the macros read options that callers leave out (`params.label.text` with no label),
  which needs Jinja's `ChainableUndefined`. That is confined to the macros: an undefined
  value made in one of them chains silently, while one made in the app's own templates
  fails on chained access as Jinja's default does, so a typo there is still caught by
  a test that renders the page.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

from flask import Flask
from jinja2 import BaseLoader, ChainableUndefined, ChoiceLoader, PackageLoader
from jinja2.exceptions import UndefinedError
from jinja2.utils import missing

from app.core.locales import RTL_LOCALES

#: The Python package of the design system's macros, and where its templates live in it.
MACRO_PACKAGE = "nhsuk_frontend_jinja"
MACRO_PREFIX = "nhsuk/"
_EXTENSION = "wesaid.web_assets"


def init_app(app: Flask) -> None:
    """Make the design system's macros loadable from `app`'s templates. Idempotent."""
    if _EXTENSION in app.extensions:
        return
    env = app.jinja_env
    loaders: list[BaseLoader] = [env.loader] if env.loader is not None else []
    env.loader = ChoiceLoader([*loaders, PackageLoader(MACRO_PACKAGE)])
    flask_autoescape = app.select_jinja_autoescape
    env.autoescape = lambda name: flask_autoescape(name) or str(name).endswith(".jinja")
    env.undefined = MacroUndefined
    # Lets a page leave out `html_dir`: the layout finds it from `html_lang`.
    env.globals["rtl_languages"] = sorted(RTL_LOCALES)
    app.extensions[_EXTENSION] = True


def _made_in_macro_template() -> bool:
    """Whether the nearest template frame on the stack belongs to the design system."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            return str(template.name or "").startswith(MACRO_PREFIX)
        frame = frame.f_back
    return False


class MacroUndefined(ChainableUndefined):
    """`ChainableUndefined` when made in a design-system macro, Jinja's default elsewhere."""

    __slots__ = ("_chainable",)

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[UndefinedError] = UndefinedError,
    ) -> None:
        self._chainable = _made_in_macro_template()
        super().__init__(hint, obj, name, exc)

    def __getattr__(self, name: str) -> Any:
        if (name[:2] == "__" and name[-2:] == "__") or name == "_chainable":
            raise AttributeError(name)
        if self._chainable:
            return self
        return self._fail_with_undefined_error()

    def __getitem__(self, key: Any) -> Any:
        if self._chainable:
            return self
        return self._fail_with_undefined_error()
