"""What simulated patients write: digits in their own script, short free-text replies
and survey comments.

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

# What people write when asked what was good and what could be better: (pleased, not
# pleased) per locale. Synthetic test data like PHRASEBOOK, with the same limits.
COMMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        ("The staff were kind and explained everything", "Quick and friendly, thank you"),
        ("I waited a long time to be seen", "Nobody told me what would happen next"),
    ),
    "cy": (
        ("Roedd y staff yn garedig iawn", "Gwasanaeth cyflym a chyfeillgar"),
        ("Roedd rhaid aros yn hir", "Doedd neb wedi esbonio beth fyddai'n digwydd"),
    ),
    "pl": (
        ("Personel był bardzo miły", "Szybko i sprawnie, dziękuję"),
        ("Długo czekałem na wizytę", "Nikt mi niczego nie wyjaśnił"),
    ),
    "ro": (
        ("Personalul a fost foarte amabil", "Rapid și prietenos, mulțumesc"),
        ("Am așteptat mult timp", "Nimeni nu mi-a explicat nimic"),
    ),
    "ur": (
        ("عملہ بہت مہربان تھا", "جلدی اور اچھی سروس"),
        ("مجھے بہت دیر انتظار کرنا پڑا", "کسی نے کچھ نہیں بتایا"),
    ),
    "pa": (
        ("ਸਟਾਫ਼ ਬਹੁਤ ਚੰਗਾ ਸੀ", "ਵਧੀਆ ਸੇਵਾ, ਧੰਨਵਾਦ"),
        ("ਮੈਨੂੰ ਬਹੁਤ ਦੇਰ ਉਡੀਕ ਕਰਨੀ ਪਈ", "ਕਿਸੇ ਨੇ ਕੁਝ ਨਹੀਂ ਦੱਸਿਆ"),
    ),
    "bn": (
        ("কর্মীরা খুব ভালো ছিলেন", "দ্রুত এবং ভালো সেবা"),
        ("অনেকক্ষণ অপেক্ষা করতে হয়েছে", "কেউ কিছু বুঝিয়ে বলেনি"),
    ),
    "gu": (
        ("સ્ટાફ ખૂબ સારો હતો", "ઝડપી અને સારી સેવા"),
        ("મારે ઘણી રાહ જોવી પડી", "કોઈએ કંઈ સમજાવ્યું નહીં"),
    ),
    "ar": (
        ("كان الموظفون لطفاء جدا", "خدمة سريعة وجيدة"),
        ("انتظرت وقتا طويلا", "لم يشرح لي أحد شيئا"),
    ),
    "so": (
        ("Shaqaaluhu aad bay u wanaagsanaayeen", "Adeeg degdeg ah oo fiican"),
        ("Waqti dheer ayaan sugayay", "Qofna waxba iima sharxin"),
    ),
    "pt": (
        ("A equipa foi muito simpática", "Rápido e eficiente, obrigado"),
        ("Esperei muito tempo", "Ninguém me explicou nada"),
    ),
    "lt": (
        ("Personalas buvo labai malonus", "Greitai ir maloniai, ačiū"),
        ("Ilgai laukiau", "Niekas man nieko nepaaiškino"),
    ),
    "es": (
        ("El personal fue muy amable", "Rápido y eficaz, gracias"),
        ("Esperé mucho tiempo", "Nadie me explicó nada"),
    ),
    "zh_Hans": (
        ("工作人员非常友好", "服务又快又好"),
        ("我等了很久", "没有人给我解释"),
    ),
}
