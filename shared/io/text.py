"""Validation of free text from users (prompts, text to speak)."""
from __future__ import annotations

import unicodedata

from shared.errors import UserInputError


def visible_text(text: str) -> str:
    """`text` without whitespace and invisible format characters (zero-width space, joiners, BOM)."""
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def check_text(text, *, max_chars: int, what: str = "The text", hint: str = "") -> str:
    """The stripped text, or a UserInputError naming the problem and the limit.

    Refuses non-text values, empty, whitespace- or zero-width-only text, text over
    `max_chars`, and text holding lone surrogates (what undecodable bytes
    become in Python strings), which no tokenizer can encode.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        shown = repr(text) if len(repr(text)) <= 60 else repr(text)[:60] + "…"
        raise UserInputError(f"{what} must be text, not {type(text).__name__} ({shown}).")
    if any(unicodedata.category(ch) == "Cs" for ch in text):
        raise UserInputError(f"{what} holds characters that are not valid Unicode (undecodable bytes?); "
                             "send UTF-8 text.")
    stripped = text.strip()
    if not visible_text(stripped):
        state = "is empty" if not stripped else "holds only invisible characters"
        raise UserInputError(f"{what} {state}{'; ' + hint if hint else ''} (up to {max_chars:,} characters).")
    if len(stripped) > max_chars:
        raise UserInputError(f"{what} is {len(stripped):,} characters; the limit is {max_chars:,}.")
    return stripped


# One rule per kind of text (issue 19): text to *speak* (Voxtral /tts, cloning /clone_voice, both /v1
# models) must hold at least one letter or digit: a speech model has nothing to say for "🙂🙂" or "?!…"
# (Voxtral's tokenizer reads them as silence or noise), so it is refused up front with the same
# message everywhere. A video *prompt* only has to be visible text: the text encoder reads emoji and
# symbols as meaning ("🐱 on 🌊" describes a picture), so an emoji-only prompt is accepted.
NOT_SPEAKABLE = ("has no speakable characters (no letters or digits, only symbols, punctuation or emoji); "
                 "type words to say.")


def is_speakable(text: str) -> bool:
    """Whether `text` holds a letter or a digit (in any script) a speech model can say."""
    return any(ch.isalnum() for ch in text)


def check_speech_text(text, *, max_chars: int, what: str = "text", hint: str = "") -> str:
    """`check_text`, then refuse text with nothing to say (see NOT_SPEAKABLE)."""
    stripped = check_text(text, max_chars=max_chars, what=what, hint=hint)
    if not is_speakable(stripped):
        raise UserInputError(f"{what} {NOT_SPEAKABLE}")
    return stripped


def escape_markdown(text: str) -> str:
    """`text` shown literally in Markdown (a model titled "CFG-Zero*" must not turn italic)."""
    return "".join("\\" + c if c in "\\`*_{}[]<>#|~" else c for c in text)
