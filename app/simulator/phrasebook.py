"""What simulated patients write: digits in their own script and short free-text replies.

Synthetic test data: the non-English phrases need a translator's review before any
use beyond the simulator.
"""

from __future__ import annotations


def _digit_run(zero: int) -> str:
    return "".join(chr(zero + i) for i in range(10))


# The ten digits of each locale that has its own digit set, 0 to 9.
DIGITS: dict[str, str] = {
    "ar": _digit_run(0x0660),  # Arabic-Indic
    "ur": _digit_run(0x06F0),  # Extended Arabic-Indic
    "bn": _digit_run(0x09E6),  # Bengali
    "pa": _digit_run(0x0A66),  # Gurmukhi
    "gu": _digit_run(0x0AE6),  # Gujarati
    "zh_Hans": _digit_run(0xFF10),  # full-width, from Chinese input methods
}

# Short free-text replies, one list per locale. Synthetic test data (see module docstring);
# none contains a digit or an opt-out word, so they stay free text for the parser.
PHRASEBOOK: dict[str, tuple[str, ...]] = {
    "en": ("I will be there, thanks", "Can I come a bit later?", "Who is this?"),
    "cy": ("Byddaf yno, diolch", "Diolch yn fawr"),
    "pl": ("Będę, dziękuję", "Kto pisze?"),
    "ro": ("Voi veni, mulțumesc", "Mulțumesc frumos"),
    "ur": ("میں آؤں گا، شکریہ", "شکریہ"),
    "pa": ("ਮੈਂ ਆਵਾਂਗਾ, ਧੰਨਵਾਦ", "ਧੰਨਵਾਦ ਜੀ"),
    "bn": ("আমি আসব, ধন্যবাদ", "ধন্যবাদ"),
    "gu": ("હું આવીશ, આભાર", "આભાર"),
    "ar": ("سأحضر، شكرا", "شكرا جزيلا"),
    "so": ("Waan imanayaa, mahadsanid", "Mahadsanid"),
    "pt": ("Vou estar lá, obrigado", "Obrigada"),
    "lt": ("Atvyksiu, ačiū", "Labai ačiū"),
    "es": ("Allí estaré, gracias", "Muchas gracias"),
    "zh_Hans": ("我会准时到，谢谢", "谢谢"),
}
