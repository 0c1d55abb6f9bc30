"""Hugging Face Space entry point (see README front matter).

On a ZeroGPU Space `SPACES_ZERO_GPU` is set; the app then resolves the
`zerogpu` profile by itself. Flags come from RELEASE_HUB_* variables (Space
settings), e.g. RELEASE_HUB_PROFILE or RELEASE_HUB_SOURCE_<KEY>.
"""
from demos.app import build_app, launch
from shared.settings import Settings

settings = Settings.from_args([])
settings.host = "0.0.0.0"
demo = build_app(settings)

if __name__ == "__main__":
    launch(demo, settings)
