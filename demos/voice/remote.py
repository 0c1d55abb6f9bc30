"""Voice engines served elsewhere: Voxtral / Pocket TTS behind a remote `/v1/audio/speech`.

Plain Python, no Gradio. `voxtral_engine(ctx)` / `cloning_engine(ctx)` are the
one place the Voice tab and the OpenAI API pick a backend: the local model
(loaded through `ctx.load`) or, when `--remote voxtral=URL[,URL]` /
`RELEASE_HUB_REMOTE_VOXTRAL` is set, an object with the same `stream(...)`
interface whose audio comes from the remote pool (`shared.remote`): raw 24 kHz
s16le PCM streamed over HTTP, turned back into float chunks as they arrive.
With a remote set, that family's model is never loaded here.

A remote Pocket TTS needs voice upload (`POST /v1/audio/voices`), which
another release-hub serves; the reference is uploaded once per backend and
clip (by content hash) and the returned voice id is reused.
"""
from __future__ import annotations

import io
import math
import threading
import time
from contextlib import ExitStack
from typing import Iterator

import httpx
import numpy as np

from shared.io.audio_stream import from_pcm16
from shared.remote import RemoteEngineError, RemotePool
from shared.tasks.cancel import CancelToken, Progress, no_progress

VOXTRAL_KEY = "voxtral"
POCKET_KEY = "pocket"
VOXTRAL_MODEL = "voxtral-4b-tts"  # the names /v1/models lists (and vllm-omni accepts any served name)
POCKET_MODEL = "pocket-tts"
SAMPLE_RATE = 24_000
FRAME_RATE = 12.5
# Requests in flight per remote backend (vllm-omni batches many; a release-hub runs one at a time).
PER_BACKEND_CONCURRENCY = 1


def pool_for(ctx, key: str) -> RemotePool | None:
    return getattr(ctx, "remotes", {}).get(key)


def is_remote(ctx, key: str) -> bool:
    return pool_for(ctx, key) is not None


def queue_for(ctx, key: str) -> dict:
    """The Gradio queue settings for this family's events: the local GPU line, or one slot per remote backend."""
    from shared.web.ui import GPU_QUEUE

    pool = pool_for(ctx, key)
    if pool is None:
        return GPU_QUEUE
    return dict(concurrency_id=f"remote-{key}", concurrency_limit=len(pool.backends) * PER_BACKEND_CONCURRENCY)


def voxtral_engine(ctx, progress: Progress | None = None):
    """The Voxtral backend: the remote pool when one is set, else the local engine (loaded once)."""
    pool = pool_for(ctx, VOXTRAL_KEY)
    if pool is not None:
        return RemoteVoxtral(pool)
    from demos.voice.voxtral import engine as voxtral

    return ctx.load(VOXTRAL_KEY, voxtral.load_engine, progress)


def cloning_engine(ctx, progress: Progress | None = None):
    """The Pocket TTS backend: the remote pool when one is set, else the local cloner."""
    pool = pool_for(ctx, POCKET_KEY)
    if pool is not None:
        return RemotePocket(pool)
    from demos.voice.cloning import engine as cloning

    return ctx.load(POCKET_KEY, cloning.load, progress)


def _pcm_chunks(response: httpx.Response) -> Iterator[np.ndarray]:
    """float32 samples of a streamed s16le answer, as they arrive (an odd byte waits for its pair)."""
    carry = b""
    for data in response.iter_bytes():
        data = carry + data
        even = len(data) - len(data) % 2
        carry = data[even:]
        if even:
            yield from_pcm16(np.frombuffer(data[:even], dtype="<i2"))


class RemoteVoxtral:
    """Voxtral through a remote server; `stream` matches `VoxtralEngine.stream`."""

    sample_rate = SAMPLE_RATE
    dtype = "int16 PCM over HTTP"

    def __init__(self, pool: RemotePool) -> None:
        self.pool = pool
        self.device = f"remote ({', '.join(b.url for b in pool.backends)})"

    def request_body(self, text: str, voice: str, seed: int, options) -> dict:
        body = {"model": VOXTRAL_MODEL, "input": text, "voice": voice, "response_format": "pcm",
                "stream_format": "audio", "stream": True, "seed": int(seed)}
        if options is not None:
            # The frame cap the local engine would use (floor of seconds x 12.5).
            body["max_new_tokens"] = max(1, int(math.floor(options.max_seconds * FRAME_RATE)))
            extra = {"cfg_alpha": float(options.cfg_alpha)}
            if options.n_steps is not None:
                extra["n_decoding_steps"] = int(options.n_steps)
            body["extra_params"] = extra
        return body

    def stream(self, text: str, voice: str, seed: int, options=None, *, cancel: CancelToken | None = None,
               progress: Progress = no_progress, stats=None, noise=None) -> Iterator:
        from demos.voice.voxtral.engine import AudioChunk, SynthesisStats

        if noise is not None:
            raise ValueError("A remote engine draws its own noise (pass a seed).")
        stats = stats if stats is not None else SynthesisStats()
        started = time.perf_counter()
        samples_done = index = 0
        progress(0.0, "Waiting for the remote server")
        try:
            with self.pool.open("POST", "/v1/audio/speech", json=self.request_body(text, voice, seed, options)) as (backend, response):
                self.device = f"remote {backend.url}"
                try:
                    for samples in _pcm_chunks(response):
                        if cancel is not None and cancel.cancelled:
                            stats.stop_reason = "cancelled"
                            return  # leaving closes the connection: the remote stops too
                        if stats.first_audio_s is None:
                            stats.first_audio_s = time.perf_counter() - started
                        samples_done += samples.size
                        stats.audio_s = samples_done / SAMPLE_RATE
                        yield AudioChunk(samples=samples, sample_rate=SAMPLE_RATE, index=index,
                                         frames_done=int(samples_done // (SAMPLE_RATE / FRAME_RATE)))
                        index += 1
                except httpx.HTTPError as exc:
                    raise self.pool.mid_stream_error(backend, exc, samples_done / SAMPLE_RATE) from None
                stats.stop_reason = stats.stop_reason or "end_of_stream"
        finally:
            stats.frames = int(math.ceil(samples_done / (SAMPLE_RATE / FRAME_RATE)))
            stats.segments = 1 if samples_done else 0
            stats.total_s = time.perf_counter() - started
        progress(1.0, "Done")


class RemotePocket:
    """Pocket TTS cloning through a remote release-hub; `stream` matches `PocketCloner.stream`."""

    sample_rate = SAMPLE_RATE

    def __init__(self, pool: RemotePool) -> None:
        self.pool = pool
        self.device = f"remote ({', '.join(b.url for b in pool.backends)})"
        self.last_stats: dict = {}

    # One id per (backend, clip): shared by every RemotePocket of the pool.
    _voice_ids: dict[tuple[str, str], str] = {}
    _ids_lock = threading.Lock()

    def _upload(self, backend, wave: np.ndarray, key: str) -> str:
        import soundfile as sf

        with self._ids_lock:
            known = self._voice_ids.get((backend.url, key))
        if known:
            return known
        buffer = io.BytesIO()
        sf.write(buffer, wave, SAMPLE_RATE, format="WAV", subtype="FLOAT")  # exact samples, no re-quantizing
        with self.pool.open(
            "POST", "/v1/audio/voices", only=backend,
            files={"audio_sample": ("reference.wav", buffer.getvalue(), "audio/wav")},
            # The Clone section's consent box (or the API caller's own consent) was given for this clip.
            data={"consent": "true", "name": "release-hub clone"},
        ) as (_, response):
            response.read()
            voice_id = response.json()["id"]
        with self._ids_lock:
            self._voice_ids[(backend.url, key)] = voice_id
        return voice_id

    def stream(self, text: str, reference_wave: np.ndarray, seed: int, *, cancel: CancelToken | None = None,
               progress: Progress | None = None, max_frames: int | None = None) -> Iterator:
        from demos.voice.cloning.engine import Chunk
        from demos.voice.cloning.reference import content_hash

        progress = progress or no_progress
        stats = {"voice_cache": None, "encode_s": 0.0, "first_audio_s": None, "generate_s": 0.0, "frames": 0, "chunks": 0}
        self.last_stats = stats
        started = time.perf_counter()
        key = content_hash(reference_wave)
        errors = []
        for backend in self.pool.candidates():
            t0 = time.perf_counter()
            try:
                voice_id = self._upload(backend, reference_wave, key)
            except RemoteEngineError as exc:
                if exc.status != 503:
                    raise
                errors.append(str(exc))
                continue
            stats["encode_s"] = round(time.perf_counter() - t0, 4)
            body = {"model": POCKET_MODEL, "input": text, "voice": {"id": voice_id}, "response_format": "pcm",
                    "stream_format": "audio", "seed": int(seed)}
            samples_done = 0
            progress(0.0, "Waiting for the remote server")
            with ExitStack() as stack:
                try:
                    _, response = stack.enter_context(self.pool.open("POST", "/v1/audio/speech", only=backend, json=body))
                except RemoteEngineError as exc:
                    if exc.status != 404:
                        raise
                    # The remote forgot the voice (restarted, or 24 h passed): upload it again, once.
                    with self._ids_lock:
                        self._voice_ids.pop((backend.url, key), None)
                    body["voice"] = {"id": self._upload(backend, reference_wave, key)}
                    _, response = stack.enter_context(self.pool.open("POST", "/v1/audio/speech", only=backend, json=body))
                self.device = f"remote {backend.url}"
                try:
                    for samples in _pcm_chunks(response):
                        if cancel is not None and cancel.cancelled:
                            break
                        if stats["first_audio_s"] is None:
                            stats["first_audio_s"] = round(time.perf_counter() - started, 4)
                        samples_done += samples.size
                        stats["chunks"] += 1
                        yield Chunk(wave=samples, index=stats["chunks"] - 1, count=0, text="")
                except httpx.HTTPError as exc:
                    raise self.pool.mid_stream_error(backend, exc, samples_done / SAMPLE_RATE) from None
            stats["generate_s"] = round(time.perf_counter() - started - stats["encode_s"], 4)
            stats["frames"] = int(math.ceil(samples_done / (SAMPLE_RATE / FRAME_RATE)))
            progress(1.0, "Done")
            return
        raise RemoteEngineError(f"No remote {self.pool.name} server could take the voice upload: " + "; ".join(errors))
