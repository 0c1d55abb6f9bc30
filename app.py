"""Hugging Face Space entry point (see README front matter).

On a ZeroGPU Space `SPACES_ZERO_GPU` is set; the app then resolves the
`zerogpu` profile by itself. Flags come from RELEASE_HUB_* variables (Space
settings), e.g. RELEASE_HUB_PROFILE or RELEASE_HUB_SOURCE_<KEY>.
"""
from shared.tasks.zerogpu import on_zerogpu

if on_zerogpu():
    # spaces must come before anything that could touch CUDA: it emulates CUDA in this
    # process, packs the models preloaded at start-up and runs each GPU task in a worker.
    import spaces  # noqa: F401

from demos.app import build_app, launch  # noqa: E402
from shared.web.settings import Settings  # noqa: E402

settings = Settings.from_args([])
settings.host = "0.0.0.0"
demo = build_app(settings)

if __name__ == "__main__":
    launch(demo, settings)
