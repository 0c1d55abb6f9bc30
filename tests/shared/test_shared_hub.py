import json
from pathlib import Path

import pytest

from shared.models import hub
from shared.errors import ModelFilesMissing
from shared.models.profiles import PlacementPlan
from shared.web.settings import Settings

CALLS = []


def write_tiny(dest: Path) -> None:
    CALLS.append(dest)
    (dest / "config.json").write_text(json.dumps({"hidden": 4}))


SPEC = hub.ModelSpec(
    key="test-model", title="Test model", default_source="someone/test-model", licence="Apache-2.0",
    licence_url="https://www.apache.org/licenses/LICENSE-2.0", write_tiny=write_tiny,
    plan=lambda profile, hw: PlacementPlan("test-model", profile), allow_patterns=("config.json", "*.safetensors"),
)
hub.register(SPEC)


def settings(tmp_path, argv=(), env=None):
    return Settings.from_args(["--cache-dir", str(tmp_path / "cache"), *argv], env=env or {})


def test_source_resolution(tmp_path):
    assert hub.resolve_source("test-model", settings(tmp_path)) == hub.Source("test-model", "hub", "someone/test-model")
    assert hub.resolve_source("test-model", settings(tmp_path, ["--tiny"])).kind == "tiny"
    local = tmp_path / "local"
    local.mkdir()
    s = settings(tmp_path, ["--tiny"], env={"RELEASE_HUB_SOURCE_TEST_MODEL": str(local)})
    assert hub.resolve_source("test-model", s) == hub.Source("test-model", "local", str(local))
    s = settings(tmp_path, env={"RELEASE_HUB_SOURCE_TEST_MODEL": "other/repo"})
    assert hub.resolve_source("test-model", s) == hub.Source("test-model", "hub", "other/repo")


def test_tiny_is_written_once_then_reused(tmp_path):
    CALLS.clear()
    s = settings(tmp_path, ["--tiny"])
    progress = []
    first = hub.fetch("test-model", s, lambda f, d="": progress.append((f, d)))
    second = hub.fetch("test-model", s)
    assert first == second == tmp_path / "cache" / "tiny" / "test-model"
    assert json.loads((first / "config.json").read_text()) == {"hidden": 4}
    assert len(CALLS) == 1
    assert progress and progress[-1][0] == 1.0


def test_a_failed_tiny_write_leaves_nothing_behind(tmp_path):
    def broken(dest):
        (dest / "half.bin").write_bytes(b"x")
        raise RuntimeError("disk full")

    spec = hub.ModelSpec("broken-model", "Broken", "x/y", "MIT", "https://x", broken,
                         plan=lambda p, h: PlacementPlan("broken-model", p))
    hub.register(spec)
    with pytest.raises(RuntimeError, match="disk full"):
        hub.fetch("broken-model", settings(tmp_path, ["--tiny"]))
    assert not (tmp_path / "cache" / "tiny" / "broken-model").exists()
    assert list((tmp_path / "cache" / "tiny").iterdir()) == []


def test_offline_missing_files_error_says_what_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(ModelFilesMissing) as info:
        hub.fetch("test-model", settings(tmp_path))
    message = str(info.value)
    assert "someone/test-model" in message and "config.json" in message
    assert "HF_HUB_OFFLINE=1" in message and "hf download someone/test-model" in message
    assert str(tmp_path / "hf") in message
    assert "RELEASE_HUB_SOURCE_TEST_MODEL" in message and "--tiny" in message


def test_missing_local_dir_is_a_clear_error(tmp_path):
    s = settings(tmp_path, env={"RELEASE_HUB_SOURCE_TEST_MODEL": str(tmp_path / "nope")})
    with pytest.raises(ModelFilesMissing, match="does not exist"):
        hub.fetch("test-model", s)


def test_licence_notice_and_unknown_key():
    assert "Apache-2.0" in hub.licence_notice("test-model")
    with pytest.raises(KeyError, match="Unknown model key"):
        hub.spec_for("nope")
