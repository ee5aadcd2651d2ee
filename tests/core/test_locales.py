import pytest

from app.core.locales import (
    RTL_LOCALES,
    SUPPORTED_LOCALES,
    canonical,
    fallback_chain,
    is_supported,
)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("en-GB", "en"),
        ("en_GB", "en"),
        ("en_GB.UTF-8", "en"),
        (" pl ", "pl"),
        ("cy_GB", "cy"),
        ("ro-RO", "ro"),
        ("ur-PK", "ur"),
        ("bn-BD", "bn"),
        ("gu_IN", "gu"),
        ("ar_SA", "ar"),
        ("so_SO", "so"),
        ("pt-BR", "pt"),
        ("lt-LT", "lt"),
        ("es-419", "es"),
        ("zh", "zh_Hans"),
        ("zh-CN", "zh_Hans"),
        ("zh_CN", "zh_Hans"),
        ("zh-SG", "zh_Hans"),
        ("zh_Hans", "zh_Hans"),
        ("zh-hans", "zh_Hans"),
        ("zh-Hans-CN", "zh_Hans"),
        ("zh-Hant", None),
        ("zh-TW", None),
        ("zh_HK", None),
        ("zh_Hant_HK", None),
        ("pa", "pa"),
        ("pa-Guru", "pa"),
        ("pa_IN", "pa"),
        ("pa-Guru-IN", "pa"),
        ("pa-Arab", None),
        ("pa_PK", None),
        ("fr", None),
        ("english", None),
        ("", None),
        ("   ", None),
        ("-", None),
    ],
)
def test_canonical(code: str, expected: str | None) -> None:
    assert canonical(code) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", True),
        ("zh_Hans", True),
        ("pa", True),
        ("zh-Hans", False),
        ("en-GB", False),
        ("EN", False),
        ("fr", False),
        ("", False),
    ],
)
def test_is_supported_is_exact(code: str, expected: bool) -> None:
    assert is_supported(code) is expected


@pytest.mark.parametrize("code", SUPPORTED_LOCALES)
def test_every_project_code_is_its_own_canonical_form(code: str) -> None:
    assert is_supported(code)
    assert canonical(code) == code


@pytest.mark.parametrize("code", SUPPORTED_LOCALES)
def test_only_arabic_and_urdu_are_right_to_left(code: str) -> None:
    assert (code in RTL_LOCALES) is (code in {"ar", "ur"})


@pytest.mark.parametrize(
    ("patient", "clinic", "expected"),
    [
        ("pl", "en", ("pl", "en")),
        ("pl", "cy", ("pl", "cy", "en")),
        ("cy", "cy", ("cy", "en")),
        ("en-GB", "cy", ("en", "cy")),
        (None, "cy", ("cy", "en")),
        ("", "cy", ("cy", "en")),
        (None, "en", ("en",)),
        ("pt-BR", "en", ("pt", "en")),
        ("ar", "ur", ("ar", "ur", "en")),
        ("so", "zh-CN", ("so", "zh_Hans", "en")),
        ("fr", "cy", ("cy", "en")),
        ("fr-CA", "fr", ("en",)),
        ("ar", "not a locale", ("ar", "en")),
        # A script we have no catalogue for falls back to the script we do have.
        ("zh-TW", "en", ("zh_Hans", "en")),
        ("pa-Arab", "ur", ("pa", "ur", "en")),
    ],
)
def test_fallback_chain(patient: str | None, clinic: str, expected: tuple[str, ...]) -> None:
    assert fallback_chain(patient, clinic) == expected


@pytest.mark.parametrize(
    ("patient", "clinic"),
    [("zh-Hans-CN", "zh_Hans"), ("EN", "en_GB"), ("xx", "yy"), (None, ""), ("pa_IN", "pa")],
)
def test_fallback_chain_is_unique_supported_and_ends_in_english(
    patient: str | None, clinic: str
) -> None:
    chain = fallback_chain(patient, clinic)
    assert chain[-1] == "en"
    assert len(set(chain)) == len(chain)
    assert all(is_supported(code) for code in chain)
