"""The declared specs of the cloning section's parameters (shared.io.params); the reference
clip's own limits (2-30 s of speech) live with its decoder in reference.py."""
from __future__ import annotations

from shared.io.params import Flag, Text

MAX_TEXT_CHARS = 1000

TEXT = Text("text", "Text", max_chars=MAX_TEXT_CHARS, hint="type what the cloned voice should say",
            placeholder="What the cloned voice should say (up to 1,000 characters).", speech=True)
CONSENT = Flag("consent", "I have the right to use this voice (it is mine, or its owner agreed to this use).")
