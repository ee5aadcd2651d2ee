"""Reply words per locale: opt-out, opt-in, help, yes, no, confirm, skip, don't know, and
numbers from 0 to 10 written in words.

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

# Numbers from 0 to 10 written in words, for scores given in words ("seven", "siedem").
# The patient's locale and English are read. Where a number has several forms (gender,
# mutation, a bare and a counting form) each is listed. Romanised spellings follow the
# same rule as above. Welsh "dim" is left out on purpose: it is a "no" word.
# fmt: off
NUMBER_WORDS: dict[str, dict[str, int]] = {
    "en": {
        "zero": 0, "nought": 0, "nil": 0, "one": 1, "two": 2, "three": 3, "four": 4,
        "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    },
    "cy": {
        "sero": 0, "un": 1, "dau": 2, "dwy": 2, "tri": 3, "tair": 3, "pedwar": 4,
        "pedair": 4, "pump": 5, "pum": 5, "chwech": 6, "chwe": 6, "saith": 7, "wyth": 8,
        "naw": 9, "deg": 10, "deng": 10,
    },
    "pl": {
        "zero": 0, "jeden": 1, "jedna": 1, "dwa": 2, "dwie": 2, "trzy": 3, "cztery": 4,
        "pięć": 5, "sześć": 6, "siedem": 7, "osiem": 8, "dziewięć": 9, "dziesięć": 10,
    },
    "ro": {
        "zero": 0, "unu": 1, "una": 1, "doi": 2, "două": 2, "trei": 3, "patru": 4,
        "cinci": 5, "șase": 6, "șapte": 7, "opt": 8, "nouă": 9, "zece": 10,
    },
    "ur": {
        "صفر": 0, "ایک": 1, "دو": 2, "تین": 3, "چار": 4, "پانچ": 5, "چھ": 6, "سات": 7,
        "آٹھ": 8, "نو": 9, "دس": 10,
        "sifar": 0, "ek": 1, "do": 2, "teen": 3, "char": 4, "panch": 5, "chhe": 6,
        "saat": 7, "aath": 8, "nau": 9, "das": 10,
    },
    "pa": {
        "ਸਿਫ਼ਰ": 0, "ਇੱਕ": 1, "ਦੋ": 2, "ਤਿੰਨ": 3, "ਚਾਰ": 4, "ਪੰਜ": 5, "ਛੇ": 6, "ਸੱਤ": 7,
        "ਅੱਠ": 8, "ਨੌਂ": 9, "ਨੌ": 9, "ਦਸ": 10,
        "sifar": 0, "ik": 1, "ek": 1, "do": 2, "tin": 3, "char": 4, "panj": 5, "chhe": 6,
        "satt": 7, "ath": 8, "nau": 9, "das": 10,
    },
    "bn": {
        "শূন্য": 0, "এক": 1, "দুই": 2, "তিন": 3, "চার": 4, "পাঁচ": 5, "ছয়": 6, "সাত": 7,
        "আট": 8, "নয়": 9, "দশ": 10,
        "shunno": 0, "ek": 1, "dui": 2, "tin": 3, "char": 4, "panch": 5, "chhoy": 6,
        "shat": 7, "at": 8, "noy": 9, "dosh": 10,
    },
    "gu": {
        "શૂન્ય": 0, "એક": 1, "બે": 2, "ત્રણ": 3, "ચાર": 4, "પાંચ": 5, "છ": 6, "સાત": 7,
        "આઠ": 8, "નવ": 9, "દસ": 10,
        "shunya": 0, "ek": 1, "be": 2, "tran": 3, "char": 4, "panch": 5, "chha": 6,
        "saat": 7, "aath": 8, "nav": 9, "das": 10,
    },
    "ar": {
        "صفر": 0, "واحد": 1, "واحدة": 1, "اثنان": 2, "اثنين": 2, "ثلاثة": 3, "ثلاث": 3,
        "أربعة": 4, "أربع": 4, "خمسة": 5, "خمس": 5, "ستة": 6, "ست": 6, "سبعة": 7,
        "سبع": 7, "ثمانية": 8, "ثماني": 8, "تسعة": 9, "تسع": 9, "عشرة": 10, "عشر": 10,
    },
    "so": {
        "eber": 0, "kow": 1, "hal": 1, "laba": 2, "saddex": 3, "afar": 4, "shan": 5,
        "lix": 6, "toddoba": 7, "siddeed": 8, "sagaal": 9, "toban": 10,
    },
    "pt": {
        "zero": 0, "um": 1, "uma": 1, "dois": 2, "duas": 2, "três": 3, "quatro": 4,
        "cinco": 5, "seis": 6, "sete": 7, "oito": 8, "nove": 9, "dez": 10,
    },
    "lt": {
        "nulis": 0, "vienas": 1, "viena": 1, "du": 2, "dvi": 2, "trys": 3, "keturi": 4,
        "keturios": 4, "penki": 5, "penkios": 5, "šeši": 6, "šešios": 6, "septyni": 7,
        "septynios": 7, "aštuoni": 8, "aštuonios": 8, "devyni": 9, "devynios": 9,
        "dešimt": 10,
    },
    "es": {
        "cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
        "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
    },
    "zh_Hans": {
        "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
        "七": 7, "八": 8, "九": 9, "十": 10,
    },
}
# fmt: on
