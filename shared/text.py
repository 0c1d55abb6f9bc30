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


def escape_markdown(text: str) -> str:
    """`text` shown literally in Markdown (a model titled "CFG-Zero*" must not turn italic)."""
    return "".join("\\" + c if c in "\\`*_{}[]<>#|~" else c for c in text)
