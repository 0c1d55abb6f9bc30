"""Input text checks and sentence splitting for long text.

Long text is synthesised sentence group by sentence group (each one a short
prompt the model handles well) and the audio is streamed as one continuous
signal.
"""

from __future__ import annotations

import re
import unicodedata

from shared.io.text import check_speech_text

DEFAULT_MAX_CHARS = 2000
SEGMENT_CHARS = 300  # one prompt's text; sentences are packed up to this

_SENTENCE_END = re.compile(r"(?<=[.!?;…。！？])\s+")
_SOFT_BREAK = re.compile(r"(?<=[,:、，])\s+|\s+")


def clean_text(text: str) -> str:
    """Drop control characters (keep newlines as spaces) and trim."""
    text = "".join(" " if ch in "\r\n\t" else ch for ch in (text or ""))
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return re.sub(r" {2,}", " ", text).strip()


def validate_text(text: str | None, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The cleaned text, or UserInputError naming the problem and the limit."""
    # The one rule for text to speak (shared.io.text): emoji- or punctuation-only text is refused.
    return clean_text(check_speech_text(text, max_chars=max_chars, what="text", hint="type something to say"))


def _split_long(sentence: str, limit: int) -> list[str]:
    """Break one over-long sentence at commas or spaces, then hard-cut if needed."""
    pieces, current = [], ""
    for word in _SOFT_BREAK.split(sentence):
        if not word:
            continue
        while len(word) > limit:  # a single "word" longer than a segment
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:limit])
            word = word[limit:]
        candidate = f"{current} {word}".strip()
        if len(candidate) > limit and current:
            pieces.append(current)
            current = word
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def split_sentences(text: str, limit: int = SEGMENT_CHARS) -> list[str]:
    """Segments of at most `limit` characters, cut at sentence ends where possible."""
    segments, current = [], ""
    for sentence in _SENTENCE_END.split(text.strip()):
        sentence = sentence.strip()
        if not sentence:
            continue
        for piece in _split_long(sentence, limit) if len(sentence) > limit else [sentence]:
            candidate = f"{current} {piece}".strip()
            if len(candidate) > limit and current:
                segments.append(current)
                current = piece
            else:
                current = candidate
    if current:
        segments.append(current)
    return segments
