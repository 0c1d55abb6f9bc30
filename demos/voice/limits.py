"""The declared spec of every Voice-tab parameter (shared.io.params): the sliders, the
API check and the engine's own check all read these, so they cannot disagree.
Profile caps (text length, max duration) are applied by the tab with `capped`."""
from __future__ import annotations

from shared.io.outputs import AUDIO_FORMATS
from shared.io.params import Choice, Number, Text

from demos.voice.plans import GPU_MAX_SECONDS, TEXT_CHARS
from demos.voice.voxtral.config import DEFAULT_CFG_ALPHA, DEFAULT_DECODING_STEPS
from demos.voice.voxtral.voices import DEFAULT_VOICE, PRESET_VOICES, grouped_choices

TEXT = Text("text", "Text", max_chars=TEXT_CHARS, hint="type something to say",
            placeholder="Type what the voice should say. Long text is split at sentences and streamed.")
VOICE = Choice.of("voice", "Voice (20 presets, grouped by language)", grouped_choices(PRESET_VOICES),
                  default=DEFAULT_VOICE)
CFG_ALPHA = Number("cfg_alpha", "CFG alpha", minimum=0.0, maximum=3.0, default=DEFAULT_CFG_ALPHA, step=0.05)
EULER_STEPS = Number("euler_steps", "Euler steps per frame", minimum=1, maximum=16, default=DEFAULT_DECODING_STEPS,
                     integer=True)
# 0 means "long enough for the text" (the tab works it out); the engine's ceiling is the GPU
# profiles' cap, which the tab lowers per profile.
MAX_SECONDS = Number("max_seconds", "Max duration (s; 0 = long enough for the text)", minimum=0,
                     maximum=GPU_MAX_SECONDS, default=0, step=1, unit=" s")
FORMAT = Choice.of("format", "Download format", AUDIO_FORMATS, default="wav")
