"""Property-based tests of every entry point: never a 500, never a partial write.

Hypothesis draws hostile values (NUL characters, digits of other scripts, numbers past
any column's range, very long text, dates past year 9999) and the tests send them
through the real routes, importers and form. The number of examples is a setting:
`HYPOTHESIS_PROFILE=thorough` tries many more than the default run of `make test`.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=int(os.environ.get("WESAID_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
