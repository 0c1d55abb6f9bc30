"""What a person can expect from each model here, in words, from measured figures only.

Every figure below was measured (docs/BENCHMARKS.md names the command and the machine); a
model or profile without an entry is "not measured on this kind of machine", never a guess.
The figures are keyed by model key and by the plan they ran under (profile, and dtype where
it changes the speed), so the System tab and the readiness lines say the same thing. A demo may
supply its own in its ModelSpec (`speed=`); the table below holds the others. Gradio-free and
torch-free.
"""
from __future__ import annotations

from dataclasses import dataclass

from shared.models.profiles import PlacementPlan

HOUR_S = 3600.0
IMPRACTICAL_S = HOUR_S  # one result taking an hour or more is "impractical here"
TWO_CORE_CPU = "a 2-core CPU"


@dataclass(frozen=True)
class Measured:
    """One measured speed of one model under one plan (profile, and dtype when given)."""

    profile: str
    machine: str  # the kind of machine it was measured on, in words
    source: str  # where the figure and its command are recorded
    dtype: str | None = None  # None: any dtype of that profile
    realtime_factor: float | None = None  # seconds of work per second of output (speech)
    seconds: float | None = None  # seconds per `item`
    item: str = ""  # "action chunk", "5 s of video"
    at_least: bool = False  # a lower bound: measured at a smaller size than a real request
    first_output_s: float | None = None  # seconds to the first audio (streamed speech)

    def matches(self, plan: PlacementPlan) -> bool:
        return self.profile == plan.profile and self.dtype in (None, plan.dtype)


# Helios on the CPU: one transformer pass of the real 14B model took 370 s on the 2-core box even at
# a 64-token latent (docs/BENCHMARKS.md, "Helios host RAM at the real size", 8gb layout on the CPU,
# the `cpu` profile's disk layout). 5 s of video is 120 frames = 4 chunks of 33; passes per chunk
# (demos/video/variants.py): Distilled 6 (the first chunk 12) = 30 passes; Mid 60 x 4 = 240;
# Base 50 x 4 x 2 (CFG) = 400. A real request has far more tokens per pass, so these are lower bounds.
_HELIOS_PASS_S = 370.0
_HELIOS_SOURCE = "docs/BENCHMARKS.md, Helios host RAM at the real size (one pass: 370 s)"


def _helios(passes: int) -> tuple[Measured, ...]:
    return (Measured("cpu", TWO_CORE_CPU, _HELIOS_SOURCE, seconds=_HELIOS_PASS_S * passes,
                     item="5 s of video", at_least=True),)


# Voxtral supplies its own figures (demos/voice/specs.py from MEASURED_CPU_SPEED in its plans.py).
MEASURED: dict[str, tuple[Measured, ...]] = {
    "pocket": (Measured("cpu", TWO_CORE_CPU, "docs/BENCHMARKS.md, Voice cloning: Pocket TTS (RTF 0.45)",
                        realtime_factor=0.45),),
    "nitrogen": (Measured("cpu", TWO_CORE_CPU, "docs/BENCHMARKS.md, Game agent: NitroGen (1.78 s per chunk)",
                          seconds=1.78, item="action chunk"),),
    "helios-distilled": _helios(30),
    "helios-mid": _helios(240),
    "helios-base": _helios(400),
}


def measured_for(key: str, plan: PlacementPlan) -> Measured | None:
    """The measurement of `key` under `plan`, or None where none was made. A demo's own figures (its
    ModelSpec's `speed`) come first, then the table above."""
    from shared.models import hub

    try:
        own = hub.spec_for(key).speed
    except KeyError:  # a model this app did not register
        own = ()
    return next((m for m in (*own, *MEASURED.get(key, ())) if m.matches(plan)), None)


def duration_words(seconds: float) -> str:
    """'about 2 s', 'about 4 minutes', 'about 3 hours', 'about 2 days'."""
    if seconds < 10:
        return f"about {seconds:.1f} s".replace(".0 s", " s")
    if seconds < 90:
        return f"about {round(seconds)} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} minutes"
    if seconds < 48 * HOUR_S:
        return f"about {round(seconds / HOUR_S)} hours"
    return f"about {round(seconds / (24 * HOUR_S))} days"


def factor_words(realtime_factor: float) -> str:
    """'about 20× slower than real time', 'about 2.2× faster than real time', 'about as fast as real time'."""
    if 0.9 <= realtime_factor <= 1.1:
        return "about as fast as real time"
    if realtime_factor > 1:
        return f"about {realtime_factor:.0f}× slower than real time" if realtime_factor >= 10 else \
            f"about {realtime_factor:.1f}× slower than real time"
    return f"about {1 / realtime_factor:.1f}× faster than real time"


def is_impractical(m: Measured | None) -> bool:
    """One result takes an hour or more: never call that plan one that "fits"."""
    return m is not None and m.seconds is not None and m.seconds >= IMPRACTICAL_S


def speed_words(m: Measured) -> str:
    """The measured speed alone: 'about 20× slower than real time' / 'about 1.8 s per action chunk'."""
    if m.realtime_factor is not None:
        first = f", first audio after {duration_words(m.first_output_s)}" if m.first_output_s else ""
        return factor_words(m.realtime_factor) + first
    when = f"{'at least ' if m.at_least else ''}{duration_words(m.seconds)}"
    if is_impractical(m):
        return f"impractical here: {when} for {m.item}"
    return f"{when} per {m.item}"


def expectation(key: str, plan: PlacementPlan) -> str:
    """What to expect of `key` under `plan`, with the machine it was measured on, or that it was not measured."""
    m = measured_for(key, plan)
    if m is None:
        where = "this GPU profile" if plan.on_gpu else "this kind of machine"
        return f"speed not measured on {where} yet"
    return f"{speed_words(m)} (measured on {m.machine})"
