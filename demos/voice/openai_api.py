"""OpenAI-compatible speech API on the app's own server and port.

Routes (FastAPI, mounted by `demos.app.launch` beside Gradio's own):
- `POST /v1/audio/speech`   {model, input, voice, response_format, speed, stream_format}
                             plus vllm-omni's `seed`, `max_new_tokens`, `extra_params`, `stream`
- `GET  /v1/models`          what is served
- `GET  /v1/audio/voices`    the preset voices (vllm-omni's shape)
- `POST /v1/audio/voices`    multipart `audio_sample` (or `file`) + `consent` + `name`: a reference
                             voice for `pocket-tts`, answered as OpenAI's voice object (`voice_...`)
- `DELETE /v1/audio/voices/{id}`

Every speech request becomes a job of the app's Gradio queue (`shared.tasks.queue_jobs`):
it waits in the same line as the tabs' events, under the same `gpu` concurrency
limit (or the remote engines' own limit when that family is served remotely).
Errors are OpenAI's error object: 400 bad input, 401 bad key, 403 API off,
404 unknown model or voice, 413 too long, 429 queue full, 503 model not available.

Access: with `RELEASE_HUB_API_KEY` set every /v1 call needs `Authorization:
Bearer <key>`. Without a key the API is open, except on a public deployment (a
Hugging Face Space, or `--share`) where it is off unless `RELEASE_HUB_OPENAI_API=1`;
`RELEASE_HUB_OPENAI_API=0` turns it off anywhere.
"""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.requests import ClientDisconnect

from shared.web import access
from shared.models import hub
from shared.io.audio_stream import RESPONSE_FORMATS, AudioEncoder, TempoFilter, to_pcm16
from shared.errors import ModelFilesMissing, ModelLoadError, UserInputError
from shared.tasks.queue_jobs import Job, QueuedJobs, QueueFull
from shared.remote import RemoteEngineError
from shared.io.request_body import BodyTimeout, with_body_deadline
from shared.io.text import NOT_SPEAKABLE, is_speakable
from shared.web.ui import AppContext, GPU_QUEUE, out_of_memory_message, random_seed
from shared.tasks.zerogpu import drive, engine_events, gpu_task

from demos.voice import remote
from demos.voice.voxtral.voices import PRESET_VOICES

log = logging.getLogger("release_hub")

API_KEY_ENV = "RELEASE_HUB_API_KEY"
SWITCH_ENV = "RELEASE_HUB_OPENAI_API"
MODELS = {remote.VOXTRAL_MODEL: remote.VOXTRAL_KEY, remote.POCKET_MODEL: remote.POCKET_KEY}
OWNERS = {remote.VOXTRAL_KEY: "mistralai", remote.POCKET_KEY: "kyutai"}
SAMPLE_RATE = 24_000
SAMPLES_PER_FRAME = 1920  # both models: 12.5 frames per second at 24 kHz
MAX_BODY_BYTES = 64 * 1024  # a JSON speech request; the text limit is far below
MAX_VOICE_UPLOAD_BYTES = 20 * 1024 * 1024
# A refused request's body is still read (and dropped) up to this size: urllib and httpx send the whole body
# before reading the answer, so answering early and closing makes them fail with a broken pipe, not our 413.
DRAIN_LIMIT_BYTES = access.DRAIN_LIMIT_BYTES  # one limit for every refused body (the gate's too)
VOICE_TTL_S = 24 * 3600  # uploaded reference voices are deleted after a day, like Gradio's uploads
SPEED_RANGE = (0.25, 4.0)
CFG_RANGE = (0.0, 10.0)
STEPS_RANGE = (1, 64)
POCKET_MAX_CHARS = 1000
KNOWN_FIELDS = {"model", "input", "voice", "response_format", "speed", "stream_format", "instructions",
                "seed", "max_new_tokens", "extra_params", "stream"}
CONSENT_WORDS = ("true", "yes", "1")
CONSENT_TEXT = "I have the right to use this voice (it is mine, or its owner agreed to this use)."


class APIError(Exception):
    TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
             404: "invalid_request_error", 408: "invalid_request_error", 413: "invalid_request_error",
             429: "rate_limit_error",
             500: "server_error", 503: "server_error"}

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.TYPES.get(self.status, "invalid_request_error"),
                          "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        # After a 408 the rest of the body may still trickle in: close the connection at once
        # (uvicorn would otherwise keep the socket for its keep-alive timeout).
        headers = {"connection": "close"} if self.status == 408 else None
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def map_error(exc: BaseException) -> APIError:
    """What an engine or queue failure means for an HTTP caller."""
    from shared.models.residency import is_out_of_memory, release_cuda_memory  # never imports torch itself

    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, QueueFull):
        return APIError(429, f"The server is busy: {exc} Try again later.", code="queue_full")
    import gradio as gr

    if isinstance(exc, gr.Error):  # on ZeroGPU a failure inside the GPU task comes back as gr.Error
        return APIError(503, str(exc.message), code="model_not_available")
    if isinstance(exc, RemoteEngineError):
        return APIError(exc.status if 400 <= exc.status < 500 else 503, str(exc), code="remote_engine_error")
    if isinstance(exc, UserInputError):
        return APIError(400, str(exc))
    if isinstance(exc, BodyTimeout):  # a slow or stalled client: one line, no traceback
        log.info("/v1 request refused: %s", exc)
        return APIError(408, str(exc), code="request_timeout")
    if isinstance(exc, ClientDisconnect):  # nobody reads the answer; the caller's doing, not ours
        log.info("/v1 client hung up before sending the whole request body")
        return APIError(400, "The client closed the connection before sending the whole request body.",
                        code="client_disconnected")
    if isinstance(exc, (ModelFilesMissing, ModelLoadError)):
        return APIError(503, f"The model is not available: {exc}", code="model_not_available")
    if is_out_of_memory(exc):
        release_cuda_memory(exc)
        from shared.web.ui import _active_profile

        return APIError(503, out_of_memory_message(_active_profile["name"]), code="out_of_memory")
    log.error("Unexpected error in /v1/audio/speech", exc_info=exc)
    return APIError(500, f"Something went wrong ({type(exc).__name__}). The details are in the server log.")


# --------------------------------------------------------------------- requests

@dataclass
class SpeechRequest:
    model: str
    key: str  # model family: "voxtral" | "pocket"
    text: str
    voice: str  # a preset name, or a stored voice id for pocket
    response_format: str
    speed: float
    stream_format: str | None  # None: one whole file
    seed: int
    max_frames: int
    cfg_alpha: float | None
    n_steps: int | None


def _number(body: dict, name: str, low: float, high: float, default, *, integer: bool = False, where: str = ""):
    value = body.get(name, default)
    if value is None:
        return default
    label = f"{where}{name}"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        kind = "an integer" if integer else "a number"
        raise APIError(400, f"'{label}' must be {kind} from {low:g} to {high:g}; got {_short(value)}.", param=label)
    if not math.isfinite(float(value)) or not (low <= value <= high):
        raise APIError(400, f"'{label}' is {_short(value)}; allowed range is {low:g} to {high:g}.", param=label)
    return int(value) if integer else float(value)


def access_rule(settings, env) -> tuple[bool, str | None, str]:
    """(API on?, the bearer key or None, why it is off): see the module docstring."""
    api_key = env.get(API_KEY_ENV) or None
    switch = env.get(SWITCH_ENV, "").strip().lower()
    # A Space, a share link, or an app behind a Gradio login (/v1 would bypass that login).
    public = bool(getattr(settings, "on_space", False) or env.get("SPACE_ID") or settings.share
                  or getattr(settings, "auth_file", None))
    if api_key:
        return True, api_key, ""
    if switch in ("0", "false", "no", "off"):
        return False, None, f"{SWITCH_ENV}=0 turned it off."
    if public and switch not in ("1", "true", "yes", "on"):
        return False, None, (f"this is a public (or login-protected) deployment without {API_KEY_ENV}. The owner can "
                             f"set {API_KEY_ENV} (callers then send it as a bearer token) or {SWITCH_ENV}=1.")
    return True, None, ""


class SpeechAPI:
    """The /v1 routes of one app (its context, its Gradio queue, its stored voices)."""

    def __init__(self, blocks, ctx: AppContext) -> None:
        self.ctx = ctx
        settings = ctx.settings
        self.enabled, self.api_key, self.off_reason = access_rule(settings, os.environ)
        self.served = [name for name, key in MODELS.items() if key in {s.key for s in hub.all_specs()}]
        queues = {"gpu": GPU_QUEUE}
        for key in (remote.VOXTRAL_KEY, remote.POCKET_KEY):
            if remote.is_remote(ctx, key):
                queues[f"remote-{key}"] = remote.queue_for(ctx, key)
        self.jobs = QueuedJobs(blocks, queues)  # inside the Blocks context: registers the hidden events
        self.voices = VoiceStore(Path(settings.cache_dir) / "openai-voices")
        plan = ctx.plan(remote.VOXTRAL_KEY) if remote.VOXTRAL_KEY in {s.key for s in hub.all_specs()} else None
        caps = plan.caps if plan is not None else {}
        self.voxtral_max_chars = int(caps.get("text_chars", 2000))
        self.voxtral_max_seconds = float(caps.get("max_seconds", 60.0))

    # ---------------------------------------------------------------- access
    def check_access(self, request: Request) -> None:
        if not self.enabled:
            raise APIError(403, f"The OpenAI-compatible API is off: {self.off_reason}", code="api_disabled")
        if self.api_key is None:
            return
        # The gate in front (shared/web/access.py) refuses these first; the same rule here covers /v1 mounted alone.
        header = request.headers.get("authorization", "")
        if not access.bearer_ok(header, self.api_key):
            raise APIError(401, access.refusal_message(header), code="invalid_api_key")

    # ---------------------------------------------------------------- parsing
    async def _json_body(self, request: Request) -> dict:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise APIError(413, f"The request body is {int(declared):,} bytes; the limit is {MAX_BODY_BYTES:,}.",
                           code="request_too_large")
        raw = bytearray()
        async for part in request.stream():
            raw += part
            if len(raw) > MAX_BODY_BYTES:
                raise APIError(413, f"The request body is over {MAX_BODY_BYTES:,} bytes (the limit).", code="request_too_large")
        if not raw.strip():
            raise APIError(400, "The request body is empty; send a JSON object with 'model', 'input' and 'voice'.")
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise APIError(400, f"The request body is not valid JSON ({type(exc).__name__} at position "
                                f"{getattr(exc, 'pos', getattr(exc, 'start', 0))}).") from None
        except RecursionError:  # "[[[[..." thousands deep: Python's parser gives up, we answer plainly
            raise APIError(400, "The request body is nested too deeply to be a speech request; send a flat "
                                "JSON object with 'model', 'input' and 'voice'.") from None
        if not isinstance(body, dict):
            raise APIError(400, f"The request body must be a JSON object; got {type(body).__name__}.")
        return body

    def parse(self, body: dict) -> SpeechRequest:
        unknown = sorted(set(body) - KNOWN_FIELDS)
        if unknown:
            raise APIError(400, f"Unrecognized request argument supplied: {_short(unknown[0], 40)}. "
                                f"Known: {', '.join(sorted(KNOWN_FIELDS))}.", param=str(unknown[0])[:40])
        model = body.get("model")
        if not isinstance(model, str) or not model.strip():
            raise APIError(400, f"'model' must be a model name ({', '.join(self.served)}); got {_short(model)}.", param="model")
        model = model.strip().lower()
        if model not in self.served:
            raise APIError(404, f"The model {_short(model)} does not exist here; served: {', '.join(self.served)}.",
                           param="model", code="model_not_found")
        key = MODELS[model]
        text = body.get("input")
        if not isinstance(text, str):
            raise APIError(400, f"'input' must be a string (the text to speak); got {_short(text)}.", param="input")
        limit = self.voxtral_max_chars if key == remote.VOXTRAL_KEY else POCKET_MAX_CHARS
        if len(text) > limit:
            raise APIError(413, f"'input' is {len(text):,} characters; the limit for {model} is {limit:,}.",
                           param="input", code="string_above_max_length")
        if not text.strip():
            raise APIError(400, "'input' is empty; give the text to speak.", param="input")
        if not is_speakable(text):  # the rule every speech input shares (shared.io.text)
            raise APIError(400, f"'input' {NOT_SPEAKABLE}", param="input")
        voice = body.get("voice")
        if isinstance(voice, dict) and set(voice) == {"id"}:
            voice = voice["id"]
        if not isinstance(voice, str) or not voice.strip():
            raise APIError(400, f"'voice' must be a voice name or {{\"id\": ...}}; got {_short(voice)}.", param="voice")
        voice = voice.strip()
        if key == remote.VOXTRAL_KEY:
            voice = voice.lower()
            if voice not in PRESET_VOICES:
                raise APIError(404, f"Unknown voice {_short(voice)} for {model}; choose one of: {', '.join(PRESET_VOICES)}.",
                               param="voice", code="voice_not_found")
        elif not self.voices.exists(voice):
            raise APIError(404, f"Unknown voice {_short(voice)} for {model}: upload a reference first with "
                                "POST /v1/audio/voices and pass the id it returns (ids expire after 24 h).",
                           param="voice", code="voice_not_found")
        fmt = body.get("response_format", "mp3")
        if not isinstance(fmt, str) or fmt.lower() not in RESPONSE_FORMATS:
            raise APIError(400, f"'response_format' is {_short(fmt)}; choose one of: {', '.join(RESPONSE_FORMATS)}.",
                           param="response_format")
        speed = _number(body, "speed", *SPEED_RANGE, 1.0)
        stream_format = body.get("stream_format")
        stream = body.get("stream")
        if stream is not None and not isinstance(stream, bool):
            raise APIError(400, f"'stream' must be true or false; got {_short(stream)}.", param="stream")
        if stream_format is None and stream:
            stream_format = "sse"  # vllm-omni's `stream: true`
        if stream_format is not None and stream_format not in ("audio", "sse"):
            raise APIError(400, f"'stream_format' is {_short(stream_format)}; choose 'audio' or 'sse'.", param="stream_format")
        instructions = body.get("instructions")
        if instructions not in (None, ""):
            raise APIError(400, f"'instructions' is not supported by {model} (it has no instruction control); leave it out.",
                           param="instructions")
        seed = _number(body, "seed", 0, 2**63 - 1, None, integer=True)
        max_seconds = self.voxtral_max_seconds if key == remote.VOXTRAL_KEY else 120.0
        max_frames = _number(body, "max_new_tokens", 1, int(max_seconds * 12.5), int(max_seconds * 12.5), integer=True)
        extra = body.get("extra_params") or {}
        if not isinstance(extra, dict) or set(extra) - {"cfg_alpha", "n_decoding_steps"}:
            raise APIError(400, f"'extra_params' takes {{'cfg_alpha', 'n_decoding_steps'}}; got {_short(extra)}.",
                           param="extra_params")
        cfg_alpha = _number(extra, "cfg_alpha", *CFG_RANGE, None, where="extra_params.")
        n_steps = _number(extra, "n_decoding_steps", *STEPS_RANGE, None, integer=True, where="extra_params.")
        return SpeechRequest(model, key, text, voice, fmt.lower(), speed, stream_format,
                             random_seed() if seed is None else seed, max_frames, cfg_alpha, n_steps)

    # ---------------------------------------------------------------- synthesis
    def _voxtral_options(self, req: SpeechRequest):
        from demos.voice.voxtral.config import DEFAULT_CFG_ALPHA
        from demos.voice.voxtral.engine import SynthesisOptions

        return SynthesisOptions(
            cfg_alpha=DEFAULT_CFG_ALPHA if req.cfg_alpha is None else req.cfg_alpha,
            n_steps=req.n_steps,
            max_seconds=(req.max_frames + 0.5) / 12.5,  # floor(x * 12.5) is then exactly max_frames
            max_chars=self.voxtral_max_chars,
        )

    def synthesize(self, req: SpeechRequest, emit, cancel) -> None:
        """`emit` float32 chunks from the backend of `req.key` (the local model or the remote pool)."""
        if req.key == remote.VOXTRAL_KEY:
            engine = remote.voxtral_engine(self.ctx)
            for chunk in engine.stream(req.text, req.voice, req.seed, self._voxtral_options(req), cancel=cancel):
                emit(chunk.samples)
        else:
            reference = self.voices.load(req.voice)
            cloner = remote.cloning_engine(self.ctx)
            for chunk in cloner.stream(req.text, reference, req.seed, cancel=cancel):
                emit(chunk.wave)

    def _work(self, req: SpeechRequest):
        """What the queued job runs (in a Gradio worker thread)."""
        if remote.is_remote(self.ctx, req.key):
            # Nothing runs on this box's GPU: no GPU task, and the remote pool's own queue limit.
            def work(job: Job) -> None:
                self.synthesize(req, lambda samples: job.emit(samples) if not job.cancelled else None, job.cancel_token)

            return work

        def estimate(_req) -> float:
            return 30 + 0.2 * _req.max_frames / 12.5

        @gpu_task(duration=estimate)
        def speech_task(task_req: SpeechRequest):
            """GPU task like the tabs' (plain values in, events out; on ZeroGPU it runs in spaces' worker)."""
            yield from engine_events(lambda emit, cancel: self.synthesize(task_req, emit, cancel))

        def work(job: Job) -> None:
            for event in drive(speech_task(req), job.cancel_token):
                if isinstance(event, np.ndarray):
                    job.emit(event)

        return work

    async def _start(self, req: SpeechRequest, request: Request) -> Job:
        name = f"remote-{req.key}" if remote.is_remote(self.ctx, req.key) else "gpu"
        return await self.jobs.submit(name, self._work(req), request)

    # ---------------------------------------------------------------- routes
    async def speech(self, request: Request) -> Response:
        request = with_body_deadline(request)  # a stalled body is answered 408, not waited on for ever
        try:
            self.check_access(request)
            req = self.parse(await self._json_body(request))
            job = await self._start(req, request)
        except Exception as exc:
            await _drain(request)
            return map_error(exc).response()
        headers = {"x-release-hub-seed": str(req.seed), "x-release-hub-model": req.model}
        if req.stream_format is None:
            watcher = asyncio.ensure_future(_cancel_on_disconnect(request, job))
            try:
                return await self._whole(req, job, headers)
            finally:
                watcher.cancel()
        # Wait for the first audio (or the error) before answering, so a failure is still an HTTP error.
        try:
            first = await job.next()
        except StopAsyncIteration:
            first = None
        except Exception as exc:
            return map_error(exc).response()
        body = self._stream_audio(req, job, first) if req.stream_format == "audio" else self._stream_sse(req, job, first)
        media = RESPONSE_FORMATS[req.response_format].media_type if req.stream_format == "audio" else "text/event-stream"
        return StreamingResponse(body, media_type=media, headers={**headers, "cache-control": "no-cache"})

    async def _whole(self, req: SpeechRequest, job: Job, headers: dict) -> Response:
        pieces = []
        try:
            while True:
                pieces.append(await job.next())
        except StopAsyncIteration:
            pass
        except BaseException as exc:
            job.cancel()
            if isinstance(exc, asyncio.CancelledError):
                raise
            return map_error(exc).response()
        wave = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        if wave.size == 0:
            return APIError(500, "Nothing was generated.").response()
        data = await asyncio.to_thread(encode_whole, wave, req.response_format, req.speed)
        return Response(data, media_type=RESPONSE_FORMATS[req.response_format].media_type, headers=headers)

    async def _encoded(self, req: SpeechRequest, job: Job, first) -> AsyncIterator[tuple[bytes, int]]:
        """(encoded bytes, samples so far) as chunks come; the encoder's tail at the end."""
        encoder = AudioEncoder(req.response_format, SAMPLE_RATE, streaming=True)
        tempo = TempoFilter(req.speed, SAMPLE_RATE) if req.speed != 1.0 else None
        samples = 0
        try:
            chunk = first
            while chunk is not None:
                pcm = to_pcm16(chunk)
                samples += pcm.size
                if tempo is not None:
                    pcm = tempo.feed(pcm)
                data = encoder.feed(pcm)
                if data:
                    yield data, samples
                try:
                    chunk = await job.next()
                except StopAsyncIteration:
                    chunk = None
            tail = encoder.feed(tempo.finish()) if tempo is not None else b""
            tail += encoder.finish()
            if tail:
                yield tail, samples
        finally:
            job.cancel()  # a no-op when finished; stops the engine when the caller left

    async def _stream_audio(self, req: SpeechRequest, job: Job, first) -> AsyncIterator[bytes]:
        try:
            async for data, _ in self._encoded(req, job, first):
                yield data
        except Exception as exc:
            # Audio has been sent: the only honest signal left is to break the transfer.
            log.warning("/v1/audio/speech stream stopped: %s", map_error(exc).message)
            raise

    async def _stream_sse(self, req: SpeechRequest, job: Job, first) -> AsyncIterator[bytes]:
        def event(payload: dict) -> bytes:
            return f"data: {json.dumps(payload)}\n\n".encode()

        samples = 0
        try:
            async for data, samples in self._encoded(req, job, first):
                yield event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})
        except Exception as exc:
            yield event({"type": "speech.audio.error", **map_error(exc).body()})
            return
        frames = math.ceil(samples / SAMPLES_PER_FRAME)
        yield event({"type": "speech.audio.done",
                     "usage": {"input_tokens": len(req.text), "output_tokens": frames, "total_tokens": len(req.text) + frames}})

    async def models(self, request: Request) -> Response:
        try:
            self.check_access(request)
        except APIError as exc:
            return exc.response()
        created = int(time.time())
        return JSONResponse({"object": "list", "data": [
            {"id": name, "object": "model", "created": created, "owned_by": OWNERS[MODELS[name]],
             "backend": "remote" if remote.is_remote(self.ctx, MODELS[name]) else "local"}
            for name in self.served]})

    async def list_voices(self, request: Request) -> Response:
        try:
            self.check_access(request)
        except APIError as exc:
            return exc.response()
        # Uploaded voices are not listed: whoever uploaded one holds its id.
        return JSONResponse({"voices": list(PRESET_VOICES), "models": {
            remote.VOXTRAL_MODEL: list(PRESET_VOICES), remote.POCKET_MODEL: "a voice id from POST /v1/audio/voices"}})

    async def create_voice(self, request: Request) -> Response:
        request = with_body_deadline(request)
        try:
            self.check_access(request)
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > MAX_VOICE_UPLOAD_BYTES:
                raise APIError(413, f"The upload is {int(declared):,} bytes; the limit is {MAX_VOICE_UPLOAD_BYTES:,}.",
                               param="audio_sample", code="request_too_large")
            if remote.POCKET_MODEL not in self.served:
                raise APIError(503, "Voice cloning (pocket-tts) is not available on this server.", code="model_not_available")
            try:
                form = await request.form(max_files=1, max_fields=8, max_part_size=64 * 1024)
            except (BodyTimeout, ClientDisconnect):
                raise
            except Exception as exc:
                raise APIError(400, f"Send multipart/form-data with 'audio_sample', 'consent' and 'name' "
                                    f"({type(exc).__name__}: {str(exc)[:120]}).") from None
            try:
                meta = await self._store_voice(form)
            finally:
                await form.close()  # the spooled upload files
        except Exception as exc:
            await _drain(request)
            return map_error(exc).response()
        return JSONResponse(meta)

    async def _store_voice(self, form) -> dict:
        from demos.voice.cloning.reference import prepare_reference

        consent = form.get("consent")
        if not isinstance(consent, str) or consent.strip().lower() not in CONSENT_WORDS:
            raise APIError(400, f"'consent' must be 'true', confirming: {CONSENT_TEXT} Got {_short(consent)}.", param="consent")
        name = form.get("name") or "voice"
        if not isinstance(name, str) or len(name) > 100:
            raise APIError(400, f"'name' must be text of at most 100 characters; got {_short(name)}.", param="name")
        upload = form.get("audio_sample") or form.get("file")
        if upload is None or isinstance(upload, str) or not hasattr(upload, "read"):
            raise APIError(400, "'audio_sample' must be an uploaded audio file (2-30 s of speech).", param="audio_sample")
        with tempfile.TemporaryDirectory(prefix="release-hub-voice-") as folder:
            path = Path(folder) / "upload"  # our own name; the client's filename is never used
            size = 0
            with open(path, "wb") as out:
                while chunk := await upload.read(1 << 20):
                    size += len(chunk)
                    if size > MAX_VOICE_UPLOAD_BYTES:
                        raise APIError(413, f"The upload is over {MAX_VOICE_UPLOAD_BYTES:,} bytes (the limit).",
                                       param="audio_sample", code="request_too_large")
                    out.write(chunk)
            if size == 0:
                raise APIError(400, "'audio_sample' is empty.", param="audio_sample")
            try:
                wave = await asyncio.to_thread(prepare_reference, str(path))
            except UserInputError as exc:
                raise APIError(400, f"'audio_sample': {exc}", param="audio_sample") from None
        return await asyncio.to_thread(self.voices.create, wave, name.strip() or "voice")

    async def delete_voice(self, request: Request) -> Response:
        try:
            self.check_access(request)
            voice_id = request.path_params["voice_id"]
            if not self.voices.delete(voice_id):
                raise APIError(404, f"Unknown voice {_short(voice_id)}.", param="voice_id", code="voice_not_found")
        except Exception as exc:
            return map_error(exc).response()
        return JSONResponse({"id": voice_id, "deleted": True, "object": "audio.voice.deleted"})

    def routes(self) -> list:
        router = APIRouter()
        router.add_api_route("/v1/audio/speech", self.speech, methods=["POST"], include_in_schema=False)
        router.add_api_route("/v1/models", self.models, methods=["GET"], include_in_schema=False)
        router.add_api_route("/v1/audio/voices", self.list_voices, methods=["GET"], include_in_schema=False)
        router.add_api_route("/v1/audio/voices", self.create_voice, methods=["POST"], include_in_schema=False)
        router.add_api_route("/v1/audio/voices/{voice_id}", self.delete_voice, methods=["DELETE"], include_in_schema=False)
        return list(router.routes)


async def _drain(request: Request) -> None:
    """Read and drop what is left of a refused request's body (see DRAIN_LIMIT_BYTES); past that limit
    the connection is closed as before."""
    read = 0
    try:
        async for part in request.stream():
            read += len(part)
            if read > DRAIN_LIMIT_BYTES:
                return
    except Exception:  # noqa: BLE001 - the body was consumed already, or the client went away
        return


async def _cancel_on_disconnect(request: Request, job: Job, every_s: float = 0.5) -> None:
    """A caller waiting for a whole file who hangs up frees its queue slot (or stops its run)."""
    while not await request.is_disconnected():
        await asyncio.sleep(every_s)
    job.cancel()


def encode_whole(wave: np.ndarray, fmt: str, speed: float = 1.0) -> bytes:
    """One finished file (real header sizes) of `wave` at `speed`."""
    pcm = to_pcm16(wave)
    if speed != 1.0:
        tempo = TempoFilter(speed, SAMPLE_RATE)
        pcm = np.concatenate([tempo.feed(pcm), tempo.finish()])
    encoder = AudioEncoder(fmt, SAMPLE_RATE, streaming=False)
    return encoder.feed(pcm) + encoder.finish()


# --------------------------------------------------------------------- voices

_VOICE_ID = re.compile(r"^voice_[0-9a-f]{32}$")


class VoiceStore:
    """Reference voices uploaded for pocket-tts: prepared 24 kHz mono float WAV + a JSON record.

    Ids are random (128 bits) and never listed; files older than `VOICE_TTL_S` are deleted."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _paths(self, voice_id: str) -> tuple[Path, Path] | None:
        if not isinstance(voice_id, str) or not _VOICE_ID.match(voice_id):
            return None
        return self.folder / f"{voice_id}.wav", self.folder / f"{voice_id}.json"

    def sweep(self) -> None:
        if not self.folder.is_dir():
            return
        cutoff = time.time() - VOICE_TTL_S
        for path in self.folder.glob("voice_*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass

    def create(self, wave: np.ndarray, name: str) -> dict:
        import soundfile as sf

        self.sweep()
        self.folder.mkdir(parents=True, exist_ok=True)
        voice_id = "voice_" + secrets.token_hex(16)
        audio, record = self._paths(voice_id)
        sf.write(str(audio), np.asarray(wave, np.float32), SAMPLE_RATE, format="WAV", subtype="FLOAT")
        meta = {"id": voice_id, "object": "audio.voice", "name": name, "created_at": int(time.time()), "type": "audio_sample"}
        record.write_text(json.dumps({**meta, "consent": CONSENT_TEXT, "seconds": round(len(wave) / SAMPLE_RATE, 3)}))
        return meta

    def exists(self, voice_id: str) -> bool:
        paths = self._paths(voice_id)
        if paths is None or not paths[0].is_file():
            return False
        return paths[0].stat().st_mtime >= time.time() - VOICE_TTL_S

    def load(self, voice_id: str) -> np.ndarray:
        import soundfile as sf

        if not self.exists(voice_id):
            raise UserInputError(f"Unknown voice {_short(voice_id)} (ids expire after 24 h).")
        wave, _ = sf.read(str(self._paths(voice_id)[0]), dtype="float32")
        return wave

    def delete(self, voice_id: str) -> bool:
        paths = self._paths(voice_id)
        if paths is None or not paths[0].is_file():
            return False
        for path in paths:
            path.unlink(missing_ok=True)
        return True


def attach(blocks, ctx: AppContext) -> SpeechAPI:
    """Call inside the app's `gr.Blocks` context; `demos.app.launch` mounts `api.routes()`."""
    api = SpeechAPI(blocks, ctx)
    blocks.release_hub_openai = api
    return api
