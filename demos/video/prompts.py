"""Prompt embeddings, computed once per (prompt, negative prompt, sequence length).

UMT5-XXL is 5.7 B parameters used once per prompt; generating again with the
same prompt (another seed, more frames, a different variant setting) should
not run it again. The cache keeps the last few results on the CPU (a 512-token
embedding is 4 MB in bf16) and hands them to the pipeline as `prompt_embeds` /
`negative_prompt_embeds`, which diffusers then uses instead of the encoder.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import torch

MAX_SEQUENCE_LENGTH = 512  # the Helios pipelines' default
CACHE_ENTRIES = 16


class PromptEmbeddingCache:
    """LRU of `pipe.encode_prompt` results keyed by (prompt, negative prompt or None, max_sequence_length)."""

    def __init__(self, max_entries: int = CACHE_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, pipe, prompt: str, negative_prompt: str | None, *, guidance: bool, device: torch.device,
            max_sequence_length: int = MAX_SEQUENCE_LENGTH) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(prompt_embeds, negative_prompt_embeds or None) on `device`. With
        `guidance` and no negative prompt the pipeline encodes "", as here."""
        negative = (negative_prompt or "") if guidance else None
        key = (prompt, negative, int(max_sequence_length))
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
                self.hits += 1
        if cached is None:
            with torch.no_grad():
                embeds, negative_embeds = pipe.encode_prompt(
                    prompt=prompt, negative_prompt=negative, do_classifier_free_guidance=guidance,
                    max_sequence_length=max_sequence_length, device=device,
                )
            cached = (embeds.to("cpu"), negative_embeds.to("cpu") if guidance else None)
            with self._lock:
                self.misses += 1
                self._entries[key] = cached
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        embeds, negative_embeds = cached
        return embeds.to(device), (negative_embeds.to(device) if negative_embeds is not None else None)
