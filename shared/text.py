"""Validation of free text from users (prompts, text to speak)."""
from __future__ import annotations

import unicodedata

from shared.errors import UserInputError


def check_text(text, *, max_chars: int, what: str = "The text", hint: str = "") -> str:
    """The stripped text, or a UserInputError naming the problem and the limit.

    Refuses non-text values, empty or whitespace-only text, text over
    `max_chars`, and text holding lone surrogates (what undecodable bytes
    become in Python strings), which no tokenizer can encode.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise UserInputError(f"{what} must be text, not {type(text).__name__}.")
    if any(unicodedata.category(ch) == "Cs" for ch in text):
        raise UserInputError(f"{what} holds characters that are not valid Unicode (undecodable bytes?); "
                             "send UTF-8 text.")
    stripped = text.strip()
    if not stripped:
        raise UserInputError(f"{what} is empty{'; ' + hint if hint else ''} (up to {max_chars:,} characters).")
    if len(stripped) > max_chars:
        raise UserInputError(f"{what} is {len(stripped):,} characters; the limit is {max_chars:,}.")
    return stripped
