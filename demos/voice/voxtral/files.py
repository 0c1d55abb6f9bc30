"""The release's folder layout: file names and what to download (no torch: the spec registered
at start-up and the page need these names; checkpoint.py reads the files)."""
from __future__ import annotations

HUB_REPO_ID = "mistralai/Voxtral-4B-TTS-2603"
WEIGHTS_FILE = "consolidated.safetensors"
TOKENIZER_FILE = "tekken.json"
VOICE_DIR = "voice_embedding"
ALLOW_PATTERNS = ("params.json", WEIGHTS_FILE, TOKENIZER_FILE, f"{VOICE_DIR}/*.pt")
