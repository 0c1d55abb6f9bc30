"""What a person reads for a result in History: a label, a time, a Stopped badge.

The index keeps internal names (`voice_voxtral`, `helios-distilled`, `fr_female`); this module turns an
indexed item (the dict `HistoryStore.describe` returns) into words: "Voice · English neutral female",
"Long video · Helios-Distilled · 65 frames", "today 14:02". Plain Python: the tab and the tests use it.
"""
from __future__ import annotations

import time

from demos.voice.voxtral.voices import LANGUAGES, language_of

STOPPED_BADGE = "■ Stopped"
KIND_NAMES = {"voice_voxtral": "Voice", "voice_clone": "Voice clone", "video": "Long video",
              "agent_frame": "Game agent · frame", "agent_video": "Game agent · video", "agent_play": "Game agent · Play"}
TEXT_IN_LABEL = 40  # characters of a cloned voice's text shown in its label


def voice_words(voice: str) -> str:
    """'neutral_female' -> 'English neutral female', 'fr_male' -> 'French male'."""
    lang = language_of(voice)
    name = voice.replace("_", " ") if lang == "en" else voice.split("_", 1)[-1]
    return f"{LANGUAGES.get(lang, lang)} {name}"


def model_words(model: str) -> str:
    """'helios-distilled' -> 'Helios-Distilled'."""
    return "-".join(part[:1].upper() + part[1:] for part in model.split("-"))


def game_words(game: str) -> str:
    """The game's short name ('Freedoom' for ViZDoom's Freedoom IWADs); the key when unknown."""
    from demos.agent.play.catalog import GAMES  # declarations only: no game library is imported

    title = GAMES[game].title if game in GAMES else game
    return title.rsplit(" with ", 1)[-1]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def quoted(text: str, limit: int = TEXT_IN_LABEL) -> str:
    text = " ".join(text.split())
    return "“" + (text if len(text) <= limit else text[: limit - 1] + "…") + "”"


def label(item: dict) -> str:
    """'Voice · English neutral female', 'Long video · Helios-Distilled · 65 frames', ...; the output kind
    as it is for a kind this app does not know (an added release, an old folder)."""
    demo = item.get("demo") or ""
    parts = [KIND_NAMES.get(demo, demo.replace("_", " ").capitalize())]
    if demo == "voice_voxtral" and item.get("voice"):
        parts.append(voice_words(item["voice"]))
    elif demo == "voice_clone" and item.get("text"):
        parts.append(quoted(item["text"]))
    elif demo == "video":
        parts.append(model_words(item.get("model") or "helios"))
        if item.get("frames"):
            parts.append(plural(int(item["frames"]), "frame"))
    elif demo == "agent_play" and item.get("game"):
        parts.append(game_words(item["game"]))
    return " · ".join(parts)


def when(ts: float, now: float | None = None) -> str:
    """'today 14:02', 'yesterday 09:15', '3 Dec 14:02' (this year), '3 Dec 2025' (before), local time."""
    at, today = time.localtime(ts), time.localtime(now if now is not None else time.time())
    clock = time.strftime("%H:%M", at)
    days = (_day_number(today) - _day_number(at))
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"yesterday {clock}"
    if at.tm_year == today.tm_year:
        return f"{at.tm_mday} {time.strftime('%b', at)} {clock}"
    return f"{at.tm_mday} {time.strftime('%b', at)} {at.tm_year}"


def _day_number(t: time.struct_time) -> int:
    """Days since the epoch of a local date (so that 'yesterday' works across months and years)."""
    return int(time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 12, 0, 0, 0, 0, -1)) // 86400)


def headline(item: dict, now: float | None = None) -> str:
    """The details line of a selected result: label, badge, time, favourite."""
    bits = [f"**{label(item)}**"]
    if item.get("stopped"):
        bits.append(f"**{STOPPED_BADGE}** (Stop ended the run; what was made so far was kept)")
    bits.append(f"made {when(item['created_ts'], now)}")
    if item.get("favourite"):
        bits.append("★ favourite")
    return " · ".join(bits)
