"""Reply words per locale: opt-out, opt-in, help, yes, no, confirm, skip and don't know.

DRAFT: every non-English list here was written by the development team and needs review
by a qualified translator (and ideally by patients who speak the language) before it is
relied on. Romanised spellings are included for Urdu, Punjabi, Bengali and Gujarati
because many UK patients text those languages in Latin letters.

Words are written as people would type them, in lower case. `app.core.parsing`
normalises both these words and incoming messages the same way (case, accents on Latin
letters, Arabic letter variants, apostrophes and hyphens), so "pomin" matches "pomiń"
and "dont know" matches "don't know". A word matches only as the whole message.

Keys are project locale codes (`app.core.locales.SUPPORTED_LOCALES`); English is always
consulted alongside the patient's locale. The catalogues in `translations/` ask patients
for yes, no and skip words from these lists (TAK, NIE, POMIŃ...), so a word removed here
may still be printed in a text: `tests/test_translations.py` checks the two agree.
"""

from __future__ import annotations

# Twilio's own opt-out keywords: Twilio blocks the sender for the patient when one of
# these is the whole message, whatever we do, so we must record the opt-out too.
TWILIO_OPT_OUT_WORDS: frozenset[str] = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)

# Opt-out words are accepted from every locale whatever the patient's recorded language:
# a missed opt-out is worse than a misread reply.
OPT_OUT_WORDS: dict[str, frozenset[str]] = {
    "en": TWILIO_OPT_OUT_WORDS | {"opt out"},
    "cy": frozenset({"stopio", "dad-danysgrifio"}),
    "pl": frozenset({"stop", "rezygnuję", "rezygnacja", "nie wysyłaj"}),
    "ro": frozenset({"stop", "dezabonare"}),
    "ur": frozenset({"بند کریں", "روکیں"}),
    "pa": frozenset({"ਬੰਦ ਕਰੋ", "ਰੋਕੋ"}),
    "bn": frozenset({"বন্ধ", "বন্ধ করুন"}),
    "gu": frozenset({"બંધ", "બંધ કરો"}),
    "ar": frozenset({"توقف", "إيقاف", "إلغاء الاشتراك"}),
    "so": frozenset({"jooji", "joogso"}),
    # "cancelar" is left out on purpose: it most often means "cancel my appointment".
    "pt": frozenset({"parar", "sair"}),
    "lt": frozenset({"stop", "atsisakyti", "atsisakau"}),
    "es": frozenset({"baja", "parar"}),
    "zh_Hans": frozenset({"退订", "停止", "取消订阅"}),
}

# Twilio also resubscribes on YES, but YES is an everyday answer here, so it is not listed.
OPT_IN_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"start", "unstop"}),
    "cy": frozenset({"dechrau"}),
    "pl": frozenset({"wznów"}),
    "ro": frozenset({"reabonare"}),
    "ur": frozenset({"شروع", "شروع کریں"}),
    "pa": frozenset({"ਸ਼ੁਰੂ", "ਸ਼ੁਰੂ ਕਰੋ"}),
    "bn": frozenset({"শুরু", "শুরু করুন"}),
    "gu": frozenset({"શરૂ", "શરૂ કરો"}),
    "ar": frozenset({"ابدأ", "اشتراك"}),
    "so": frozenset({"bilow"}),
    "pt": frozenset({"começar", "retomar"}),
    "lt": frozenset({"pradėti"}),
    "es": frozenset({"empezar", "reanudar"}),
    "zh_Hans": frozenset({"开始", "订阅"}),
}

HELP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"help", "info"}),
    "cy": frozenset({"cymorth", "gwybodaeth"}),
    "pl": frozenset({"pomoc"}),
    "ro": frozenset({"ajutor"}),
    "ur": frozenset({"مدد"}),
    "pa": frozenset({"ਮਦਦ"}),
    "bn": frozenset({"সাহায্য"}),
    "gu": frozenset({"મદદ"}),
    "ar": frozenset({"مساعدة"}),
    "so": frozenset({"caawin", "caawimaad"}),
    "pt": frozenset({"ajuda"}),
    "lt": frozenset({"pagalba"}),
    "es": frozenset({"ayuda"}),
    "zh_Hans": frozenset({"帮助"}),
}

YES_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"yes", "y", "yeah", "yep", "yup", "yes please", "correct", "sure"}),
    # Welsh answers by echoing the verb; these are the commonest short forms.
    "cy": frozenset({"ie", "ia", "do", "ydw", "ydy", "ydi", "oes"}),
    "pl": frozenset({"tak", "tak jest"}),
    "ro": frozenset({"da"}),
    "ur": frozenset({"ہاں", "جی", "جی ہاں", "haan", "han", "ji"}),
    "pa": frozenset({"ਹਾਂ", "ਹਾਂ ਜੀ", "ਜੀ", "haan", "han", "ji"}),
    "bn": frozenset({"হ্যাঁ", "হ্যা", "হাঁ", "haan"}),
    "gu": frozenset({"હા", "હાં", "haa", "ha"}),
    "ar": frozenset({"نعم", "أجل", "أيوه"}),
    "so": frozenset({"haa", "haye"}),
    "pt": frozenset({"sim", "claro"}),
    "lt": frozenset({"taip"}),
    "es": frozenset({"sí", "claro"}),
    "zh_Hans": frozenset({"是", "是的", "对", "对的", "好", "好的"}),
}

NO_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"no", "n", "nope", "nah", "no thanks", "no thank you"}),
    "cy": frozenset({"na", "naddo", "nage", "nac oes", "nac ydw", "dim"}),
    "pl": frozenset({"nie"}),
    "ro": frozenset({"nu"}),
    "ur": frozenset({"نہیں", "جی نہیں", "نہ", "nahi", "nahin", "na"}),
    "pa": frozenset({"ਨਹੀਂ", "ਨਾ", "ਜੀ ਨਹੀਂ", "nahi", "nahin", "na"}),
    "bn": frozenset({"না", "na"}),
    "gu": frozenset({"ના", "નહીં", "na", "nahi"}),
    "ar": frozenset({"لا", "كلا"}),
    "so": frozenset({"maya"}),
    "pt": frozenset({"não"}),
    "lt": frozenset({"ne"}),
    "es": frozenset({"no"}),
    "zh_Hans": frozenset({"否", "不", "不是", "不要", "没有"}),
}

# Accepted as "1" (confirm) in a reminder menu, on top of the yes words.
CONFIRM_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"ok", "okay", "confirm", "confirmed", "i confirm"}),
    "cy": frozenset({"cadarnhau", "iawn"}),
    "pl": frozenset({"potwierdzam", "ok"}),
    "ro": frozenset({"confirm", "confirmare"}),
    "ur": frozenset({"تصدیق", "ٹھیک ہے"}),
    "pa": frozenset({"ਪੁਸ਼ਟੀ", "ਠੀਕ ਹੈ"}),
    "bn": frozenset({"নিশ্চিত", "ঠিক আছে"}),
    "gu": frozenset({"પુષ્ટિ", "બરાબર"}),
    "ar": frozenset({"تأكيد", "أؤكد"}),
    "so": frozenset({"xaqiiji"}),
    "pt": frozenset({"confirmo", "confirmar"}),
    "lt": frozenset({"patvirtinu", "gerai"}),
    "es": frozenset({"confirmo", "confirmar", "vale"}),
    "zh_Hans": frozenset({"确认", "可以"}),
}

SKIP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"skip", "pass", "skip it"}),
    "cy": frozenset({"hepgor", "pasio"}),
    "pl": frozenset({"pomiń", "pas", "dalej"}),
    "ro": frozenset({"sari", "omite", "omiteți", "sari peste", "săriți peste"}),
    "ur": frozenset({"چھوڑیں", "چھوڑ دیں", "آگے"}),
    "pa": frozenset({"ਛੱਡੋ", "ਛੱਡ ਦਿਓ", "ਅੱਗੇ"}),
    "bn": frozenset({"বাদ দিন", "বাদ", "এড়িয়ে যান"}),
    "gu": frozenset({"છોડો", "છોડી દો", "આગળ"}),
    "ar": frozenset({"تخطي", "تجاوز"}),
    "so": frozenset({"ka bood", "gudub", "iska dhaaf"}),
    "pt": frozenset({"pular", "saltar", "passar"}),
    "lt": frozenset({"praleisti", "praleidžiu", "praleiskite"}),
    "es": frozenset({"saltar", "omitir", "paso", "pasar"}),
    "zh_Hans": frozenset({"跳过", "略过", "下一个"}),
}

DONT_KNOW_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        {"don't know", "dk", "not sure", "dunno", "idk", "i don't know", "no idea", "unsure"}
    ),
    "cy": frozenset(
        {"dim syniad", "ddim yn gwybod", "wn i ddim", "dwi ddim yn gwybod", "sai'n gwybod"}
    ),
    "pl": frozenset({"nie wiem", "nie jestem pewien", "nie jestem pewna"}),
    "ro": frozenset({"nu știu", "nu sunt sigur", "nu sunt sigură", "habar n-am"}),
    "ur": frozenset(
        {"پتہ نہیں", "پتا نہیں", "معلوم نہیں", "مجھے نہیں معلوم", "مجھے نہیں پتا", "pata nahi"}
    ),
    "pa": frozenset({"ਪਤਾ ਨਹੀਂ", "ਨਹੀਂ ਪਤਾ", "ਮੈਨੂੰ ਨਹੀਂ ਪਤਾ", "pata nahi"}),
    "bn": frozenset({"জানি না", "আমি জানি না", "jani na"}),
    "gu": frozenset({"ખબર નથી", "મને ખબર નથી", "khabar nathi"}),
    "ar": frozenset({"لا أعرف", "لا أعلم", "لا أدري", "مش عارف"}),
    "so": frozenset({"ma aqaan", "garan maayo", "ma garanayo"}),
    "pt": frozenset({"não sei", "não tenho a certeza", "não tenho certeza"}),
    "lt": frozenset({"nežinau", "nesu tikras", "nesu tikra"}),
    "es": frozenset({"no sé", "no lo sé", "ni idea", "no estoy seguro", "no estoy segura"}),
    "zh_Hans": frozenset({"不知道", "不清楚", "不确定", "不晓得"}),
}
