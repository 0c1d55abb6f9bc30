"""Voice cloning: zero-shot cloning from a short reference clip with Pocket TTS (transformers)."""
