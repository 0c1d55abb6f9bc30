"""Speech prompts through mistral-common (never hand-built).

Layout: [BOS] [BEGIN_AUDIO] [AUDIO] x N [NEXT_AUDIO_TEXT] text [REPEAT_AUDIO_TEXT] [BEGIN_AUDIO],
with N = tekken.json `audio.voice_num_audio_tokens[voice]`.
"""

from __future__ import annotations

from pathlib import Path

from shared.errors import ModelLoadError, UserInputError


class VoxtralTokenizer:
    def __init__(self, path: Path):
        from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

        try:
            self._tokenizer = MistralTokenizer.from_file(str(path))
        except Exception as exc:
            raise ModelLoadError(f"{path}: mistral-common cannot load this tokenizer ({exc}).") from exc
        audio = getattr(self._tokenizer.instruct_tokenizer.tokenizer, "audio", None)
        counts = getattr(audio, "voice_num_audio_tokens", None) if audio is not None else None
        if not counts:
            raise ModelLoadError(f"{path}: no 'audio.voice_num_audio_tokens' section (preset voices are not configured).")
        self.voice_rows: dict[str, int] = dict(counts)

    def encode(self, text: str, voice: str) -> list[int]:
        from mistral_common.protocol.speech.request import SpeechRequest

        if voice not in self.voice_rows:
            raise UserInputError(f"Unknown voice '{voice}'; choose one of: {', '.join(sorted(self.voice_rows))}.")
        request = SpeechRequest(input=text, voice=voice)
        return list(self._tokenizer.encode_speech_request(request).tokens)

    def text_ids(self, text: str) -> list[int]:
        """Text ids alone (rank + number of special tokens), as the prompt holds them."""
        return list(self._tokenizer.instruct_tokenizer.tokenizer.encode(text, bos=False, eos=False))
