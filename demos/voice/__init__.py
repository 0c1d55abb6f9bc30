"""Voice demos: Voxtral-4B-TTS preset voices and Pocket TTS voice cloning."""
