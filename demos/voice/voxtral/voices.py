"""The 20 preset voices of Voxtral-4B-TTS-2603, labelled and grouped by language."""
from __future__ import annotations

# The 20 presets of the release (params.json voice map), in its order.
PRESET_VOICES = (
    "casual_female", "casual_male", "cheerful_female", "neutral_female", "neutral_male",
    "pt_male", "pt_female", "nl_male", "nl_female", "it_male", "it_female", "fr_male",
    "fr_female", "es_male", "es_female", "de_male", "de_female", "ar_male", "hi_male", "hi_female",
)

LANGUAGES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ar": "Arabic", "hi": "Hindi",
}
_ENGLISH_STYLES = ("casual", "cheerful", "neutral")
DEFAULT_VOICE = "neutral_female"


def language_of(voice: str) -> str:
    prefix = voice.split("_", 1)[0]
    return "en" if prefix in _ENGLISH_STYLES else prefix


def label(voice: str) -> str:
    """'English · neutral female', 'French · male', ..."""
    lang = language_of(voice)
    name = voice.replace("_", " ") if lang == "en" else voice.split("_", 1)[1]
    return f"{LANGUAGES.get(lang, lang)} · {name}"


def grouped_choices(voices: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """(label, value) pairs ordered by language (English first), then name."""
    order = list(LANGUAGES)

    def key(voice: str) -> tuple[int, str]:
        lang = language_of(voice)
        return (order.index(lang) if lang in order else len(order), voice)

    return [(label(v), v) for v in sorted(voices, key=key)]
