"""The Voxtral tiny writer and the strict loader (real on-disk layout)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from shared.errors import ModelLoadError
from demos.voice.voxtral import checkpoint
from demos.voice.voxtral.config import load_config
from demos.voice.voxtral.tiny import PRESET_VOICES, write_tiny
from demos.voice.voxtral.tokenizer import VoxtralTokenizer

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "voxtral"


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("voxtral-tiny")
    write_tiny(dest)
    return dest


def _key_paths(d: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in d.items():
        out.append(prefix + key)
        if isinstance(value, dict) and key != "voice":
            out += _key_paths(value, f"{prefix}{key}.")
    return out


def _copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    for path in dest.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    return dest


def test_tiny_layout_equals_the_release(tiny_dir):
    files = sorted(p.relative_to(tiny_dir).as_posix() for p in tiny_dir.rglob("*") if p.is_file())
    assert {"params.json", "consolidated.safetensors", "tekken.json"} <= set(files)
    assert sorted(p.stem for p in (tiny_dir / "voice_embedding").glob("*.pt")) == sorted(PRESET_VOICES)
    with safe_open(str(tiny_dir / "consolidated.safetensors"), "pt") as ours, safe_open(
        str(FIXTURE / "consolidated.safetensors"), "pt"
    ) as real_layout:
        names = set(ours.keys())
        # The fixture carries exactly the 386 tensor names of the release.
        assert names == set(real_layout.keys())
        assert len(names) == 386
        assert {ours.get_slice(n).get_dtype() for n in names} == {"BF16"}
        assert ours.metadata() == {"format": "pt"}
    ours_params = json.loads((tiny_dir / "params.json").read_text())
    fixture_params = json.loads((FIXTURE / "params.json").read_text())
    assert _key_paths(ours_params) == _key_paths(fixture_params)
    assert list(ours_params["multimodal"]["audio_tokenizer_args"]["voice"]) == list(PRESET_VOICES)


def test_tiny_tokenizer_loads_in_mistral_common(tiny_dir):
    tokenizer = VoxtralTokenizer(tiny_dir / "tekken.json")
    assert set(tokenizer.voice_rows) == set(PRESET_VOICES)
    ids = tokenizer.encode("Hello, the world!", "casual_male")
    n = tokenizer.voice_rows["casual_male"]
    assert ids[: 2 + n + 1] == [1, 25] + [24] * n + [36]
    assert ids[-2:] == [35, 25]


def test_voices_load_weights_only_with_matching_rows(tiny_dir):
    config = load_config(tiny_dir)
    tokenizer = VoxtralTokenizer(tiny_dir / "tekken.json")
    for name in PRESET_VOICES:
        rows = checkpoint.load_voice(tiny_dir, name, config.backbone.dim)
        assert rows.dtype == torch.bfloat16
        assert rows.shape == (tokenizer.voice_rows[name], config.backbone.dim)


def test_strict_load_of_tiny_and_fixture(tiny_dir):
    for folder in (tiny_dir, FIXTURE):
        model = checkpoint.load_model(folder)
        names = set(model.state_dict())
        with safe_open(str(folder / "consolidated.safetensors"), "pt") as f:
            assert names == set(f.keys())
        # Loaded values are the file's values (bf16 upcast exactly).
        with safe_open(str(folder / "consolidated.safetensors"), "pt") as f:
            name = "layers.25.attention.wq.weight"
            assert torch.equal(model.state_dict()[name], f.get_tensor(name).float())


def test_missing_tensor_is_an_error_naming_it(tiny_dir, tmp_path):
    folder = _copy(tiny_dir, tmp_path / "ckpt")
    tensors = load_file(str(folder / "consolidated.safetensors"))
    del tensors["layers.7.feed_forward.w2.weight"]
    save_file(tensors, str(folder / "consolidated.safetensors"), metadata={"format": "pt"})
    with pytest.raises(ModelLoadError, match=r"missing tensor 'layers\.7\.feed_forward\.w2\.weight'"):
        checkpoint.load_model(folder)


def test_extra_tensor_is_an_error_naming_it(tiny_dir, tmp_path):
    folder = _copy(tiny_dir, tmp_path / "ckpt")
    tensors = load_file(str(folder / "consolidated.safetensors"))
    tensors["output.weight"] = torch.zeros(2, 2, dtype=torch.bfloat16)
    save_file(tensors, str(folder / "consolidated.safetensors"), metadata={"format": "pt"})
    with pytest.raises(ModelLoadError, match=r"unexpected tensor 'output\.weight'"):
        checkpoint.load_model(folder)


def test_wrong_shape_is_an_error_naming_it(tiny_dir, tmp_path):
    folder = _copy(tiny_dir, tmp_path / "ckpt")
    tensors = load_file(str(folder / "consolidated.safetensors"))
    tensors["norm.weight"] = torch.ones(7, dtype=torch.bfloat16)
    save_file(tensors, str(folder / "consolidated.safetensors"), metadata={"format": "pt"})
    with pytest.raises(ModelLoadError, match=r"'norm\.weight' has shape \[7\]"):
        checkpoint.load_model(folder)


def test_params_missing_key_is_named(tiny_dir, tmp_path):
    folder = _copy(tiny_dir, tmp_path / "ckpt")
    params = json.loads((folder / "params.json").read_text())
    del params["multimodal"]["audio_tokenizer_args"]["decoder_convs_strides_str"]
    (folder / "params.json").write_text(json.dumps(params))
    with pytest.raises(ModelLoadError, match="audio_tokenizer_args.decoder_convs_strides_str"):
        checkpoint.load_model(folder)


class _NotATensor:
    pass


def test_voice_file_with_pickled_object_is_refused(tiny_dir, tmp_path):
    folder = _copy(tiny_dir, tmp_path / "ckpt")
    torch.save({"rows": _NotATensor()}, folder / "voice_embedding" / "fr_male.pt")
    with pytest.raises(ModelLoadError, match="fr_male.pt: not a plain tensor file"):
        checkpoint.load_voice(folder, "fr_male", 32)
    torch.save(torch.zeros(3, 5), folder / "voice_embedding" / "de_male.pt")
    with pytest.raises(ModelLoadError, match=r"de_male.pt: expected a tensor \[N, 32\]"):
        checkpoint.load_voice(folder, "de_male", 32)
