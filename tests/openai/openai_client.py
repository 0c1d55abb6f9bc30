"""The API key the /v1 test servers use, and an `openai` client for them (a module of its own:
`from conftest import ...` is ambiguous with several conftest.py files)."""
from __future__ import annotations

KEY = "test-key-0123456789"


def make_client(url: str, key: str | None = KEY):
    import openai

    return openai.OpenAI(base_url=url + "/v1", api_key=key or "none", max_retries=0, timeout=600)
