"""Frames -> model input exactly as upstream NitroGen's play loop builds it, and the actions that follow.

The expected tensor is computed here the way upstream does it (MineDojo/NitroGen
@ 3260844): `scripts/play.py` `preprocess_img` (RGB->BGR, `cv2.resize(...,
INTER_AREA)` to 256x256, BGR->RGB, PIL image), then `InferenceSession.predict`'s
SigLIP image processor, run here with transformers' own PIL-backend
`SiglipImageProcessorPil` configured like `google/siglip2-large-patch16-256`
(256x256, bilinear, rescale 1/255, mean = std = 0.5). Ours must be bit-identical.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from demos.agent.actions import decode
from demos.agent.checkpoint import (
    LoadedCheckpoint, build_empty, load_checkpoint, load_state_strict, random_state_dict, released_ckpt_config,
    write_tiny,
)
from demos.agent.config import parse_ckpt_config, siglip_config_dict
from demos.agent.engine import AgentEngine, to_pixels
from shared.io.media import load_image

cv2 = pytest.importorskip("cv2")  # a runtime dependency; imported here as the reference implementation
from transformers import SiglipImageProcessorPil  # noqa: E402
from transformers.image_utils import PILImageResampling  # noqa: E402

SIZES = [(1280, 720), (1920, 1080), (2560, 1440), (800, 600), (200, 150), (256, 256)]  # width x height


def upstream_pixels(frame: np.ndarray, size: int) -> torch.Tensor:
    """What upstream's play loop + InferenceSession feed the model for one RGB(A) capture: [3, size, size]."""
    # scripts/play.py: preprocess_img (upstream hard-codes 256, the tower's input size)
    main_cv = cv2.cvtColor(np.array(frame), cv2.COLOR_RGB2BGR)
    final_image = cv2.resize(main_cv, (size, size), interpolation=cv2.INTER_AREA)
    obs = Image.fromarray(cv2.cvtColor(final_image, cv2.COLOR_BGR2RGB))
    # nitrogen/inference_session.py: self.img_proc([obs], return_tensors="pt")["pixel_values"]
    proc = SiglipImageProcessorPil(size={"height": size, "width": size}, resample=PILImageResampling.BILINEAR,
                                   do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
                                   image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5])
    pixel_values = proc([obs], return_tensors="pt")["pixel_values"]
    assert pixel_values.dtype == torch.float32 and pixel_values.shape == (1, 3, size, size)
    return pixel_values[0]


def random_frame(w: int, h: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels == 1 else (h, w, channels)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def structured_frame(w: int, h: int, channels: int, seed: int) -> np.ndarray:
    """Game-like content: smooth gradients, sharp-edged boxes, 1-px lines and a fine checkerboard."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)),
                    (128 + 100 * np.sin(x / 7.0 + y / 11.0))], axis=-1).astype(np.uint8)
    for _ in range(12):
        x0, y0 = rng.integers(0, w), rng.integers(0, h)
        img[y0:y0 + rng.integers(3, max(4, h // 4)), x0:x0 + rng.integers(3, max(4, w // 4))] = rng.integers(0, 256, 3)
    img[::9, :] = 255
    img[:, ::13] = 0
    img[: h // 5, : w // 5] = (((x + y) % 2) * 255)[: h // 5, : w // 5, None]
    if channels == 1:
        return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    if channels == 4:
        return np.concatenate([img, rng.integers(0, 256, (h, w, 1), dtype=np.uint8)], axis=-1)
    return img


def expected_for(frame: np.ndarray, size: int) -> torch.Tensor:
    # Upstream captures RGB; a greyscale screenshot is the same grey in all three channels.
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    return upstream_pixels(frame, size)


def as_pil(frame: np.ndarray) -> Image.Image:
    image = Image.fromarray(frame)  # uint8 HxW -> L, HxWx3 -> RGB, HxWx4 -> RGBA
    assert image.mode == {2: "L", 3: "RGB", 4: "RGBA"}[frame.ndim if frame.ndim == 2 else frame.shape[2]]
    return image


CASES = [(w, h, ch, kind) for (w, h) in SIZES for ch in (3, 4, 1) for kind in ("random", "structured")]


def _frame(w, h, ch, kind, seed=0):
    return (random_frame if kind == "random" else structured_frame)(w, h, ch, seed + w + h + ch)


@pytest.mark.parametrize("w,h,ch,kind", CASES, ids=[f"{w}x{h}-{ch}ch-{k}" for w, h, ch, k in CASES])
def test_pixels_equal_upstream_at_the_real_input_size(w, h, ch, kind):
    frame = _frame(w, h, ch, kind)
    expected = expected_for(frame, 256)
    assert torch.equal(to_pixels(frame, 256), expected)  # numpy input
    assert torch.equal(to_pixels(as_pil(frame), 256), expected)  # PIL input of the same mode


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_uploaded_png_goes_through_the_same_pixels(tmp_path, mode):
    # The app path: an uploaded PNG -> shared.io.media.load_image -> to_pixels.
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    frame = structured_frame(1280, 720, channels, seed=3)
    path = tmp_path / f"shot-{mode}.png"
    as_pil(frame).save(path)
    assert torch.equal(to_pixels(load_image(str(path)), 256), expected_for(frame, 256))


def test_old_pil_box_resize_would_fail_this_check():
    # Guard that the comparison can fail: PIL's BOX filter (the previous code) is not INTER_AREA
    # at non-integer scale factors.
    frame = structured_frame(1280, 720, 3, seed=1)
    box = np.asarray(Image.fromarray(frame).resize((256, 256), Image.Resampling.BOX), dtype=np.float32)
    box = torch.from_numpy((box / 255.0 - 0.5) / 0.5).permute(2, 0, 1)
    expected = expected_for(frame, 256)
    assert (box - expected).abs().max() > 0.05


def test_bad_frame_arrays_are_refused():
    with pytest.raises(ValueError, match="uint8"):
        to_pixels(np.zeros((8, 8, 3), np.float32), 32)
    with pytest.raises(ValueError, match="shape"):
        to_pixels(np.zeros((8, 8, 2), np.uint8), 32)


# ------------------------------------------------------------------ actions
@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory) -> AgentEngine:
    d = tmp_path_factory.mktemp("tiny-preprocess")
    write_tiny(d, seed=4)
    return AgentEngine(load_checkpoint(d / "ng.pt"))


@pytest.fixture(scope="module")
def real_engine() -> AgentEngine:
    """A real-size (493.6 M) random NitroGen built once for the module (~2 GB fp32).

    Every size is the released one; only the sampler runs 2 Euler steps instead of 16, to keep
    the test affordable on 2 busy cores (the step count does not touch the input path under test).
    """
    cc = released_ckpt_config()
    cc["model_cfg"]["num_inference_timesteps"] = 2
    cfg = parse_ckpt_config(cc)
    model = build_empty(cfg, siglip_config_dict(cfg))
    load_state_strict(model, random_state_dict(model, seed=7, scale=0.02), "random")
    model.eval().requires_grad_(False)
    return AgentEngine(LoadedCheckpoint(model, cfg, cc, None, None, "random"))


def _same_actions(engine: AgentEngine, frames: list[np.ndarray], seed: int) -> None:
    size = engine.image_size
    result = engine.run(frames, seed=seed, batch_size=len(frames))
    expected_pixels = torch.stack([expected_for(f, size) for f in frames])
    with torch.inference_mode():
        expected_raw = engine.model.sample(expected_pixels, engine.noise(len(frames), seed)).float()
    assert torch.equal(result.raw, expected_raw)
    ours, theirs = decode(result.raw), decode(expected_raw)
    for name in ("buttons", "j_left", "j_right"):
        assert torch.equal(ours[name], theirs[name])


def test_tiny_model_actions_equal_upstream_pixels_for_every_case(tiny_engine):
    frames = [_frame(w, h, ch, kind, seed=5) for (w, h, ch, kind) in CASES]
    for start in range(0, len(frames), 6):
        _same_actions(tiny_engine, frames[start:start + 6], seed=start)


def test_real_size_model_actions_equal_upstream_pixels(real_engine):
    assert real_engine.image_size == 256
    assert sum(p.numel() for p in real_engine.model.parameters()) == 493_631_513
    frames = [structured_frame(1280, 720, 3, seed=8), random_frame(2560, 1440, 4, seed=9)]
    _same_actions(real_engine, frames, seed=3)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_server_actions_equal_upstream_pixels_through_the_model(client, tmp_path_factory, tmp_path, mode):
    # /agent_frame on the session's `release-hub --tiny` server (its checkpoint: write_tiny, seed 0;
    # API seed 0) against the same model run here on upstream's pixels for the uploaded file.
    from gradio_client import handle_file

    d = tmp_path_factory.mktemp("server-twin")
    write_tiny(d, seed=0)
    engine = AgentEngine(load_checkpoint(d / "ng.pt"))
    frame = structured_frame(1280, 720, {"RGB": 3, "RGBA": 4, "L": 1}[mode], seed=11)
    path = tmp_path / f"shot-{mode}.png"
    as_pil(frame).save(path)
    actions = client.predict(frame=handle_file(str(path)), api_name="/agent_frame")
    with torch.inference_mode():
        raw = engine.model.sample(expected_for(frame, engine.image_size)[None], engine.noise(1, 0))
    expected = decode(raw[0])
    assert np.array_equal(np.array(actions["buttons"]), expected["buttons"].numpy())
    for stick in ("j_left", "j_right"):  # the API rounds stick values to 5 decimals
        assert np.abs(np.array(actions[stick]) - expected[stick].numpy()).max() <= 5.1e-6
