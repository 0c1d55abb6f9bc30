"""The model spec of the Tone demo (registered by demos.registry)."""
from __future__ import annotations

from shared.models.hub import ModelSpec
from shared.lazy import OnFirstCall

from .checkpoint import ALLOW_PATTERNS
from .plans import KEY, plan

SPECS = [
    ModelSpec(
        key=KEY,
        title="Tone (minimal demo)",
        default_source="release-hub/minimal-tone",  # no such repo: the tests run it with --tiny
        licence="Apache-2.0",
        licence_url="https://www.apache.org/licenses/LICENSE-2.0",
        write_tiny=OnFirstCall("tests.minimal_demo.checkpoint:write_tiny"),  # torch loads with the first call
        plan=plan,
        allow_patterns=ALLOW_PATTERNS,
        notes="A harmonic mix and a noise gain: the smallest model that makes a sound.",
        download_gb=0.001,
    )
]
