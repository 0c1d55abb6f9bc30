"""The System tab's model manager on a temporary Hugging Face cache (HF_HUB_OFFLINE=1): a model is
seen on disk, Delete removes its cache folder and its offload folders (and refuses a loaded model
and ZeroGPU), Download offline or behind a licence says what to do, and a download reports bytes,
speed and time left."""
from __future__ import annotations

import re

import pytest

from demos.registry import load_demos
from shared.errors import UserInputError
from shared.models import model_manager
from shared.web.settings import Settings

COMMIT = "0" * 40
NITROGEN_REPO = "nvidia/NitroGen"


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache of our own, offline."""
    import huggingface_hub.constants as constants

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    load_demos()
    return cache


def fake_repo(cache, repo_id: str, files: dict[str, bytes]):
    """A real cache layout: refs/main -> a snapshot holding `files` (as blobs would be, plain files here)."""
    folder = cache / ("models--" + repo_id.replace("/", "--"))
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(COMMIT)
    snapshot = folder / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    for name, data in files.items():
        (snapshot / name).write_bytes(data)
    return folder


def settings_for(tmp_path) -> Settings:
    return Settings.from_args(["--cache-dir", str(tmp_path / "cache")])


def test_a_model_in_the_cache_is_on_disk_with_its_folder_and_size(hub_cache, tmp_path):
    settings = settings_for(tmp_path)
    assert not model_manager.model_row("nitrogen", settings).on_disk
    folder = fake_repo(hub_cache, NITROGEN_REPO, {"ng.pt": b"x" * 300_000})
    row = model_manager.model_row("nitrogen", settings)
    assert row.on_disk and str(folder) in row.where and row.disk_bytes >= 300_000
    words = model_manager.row_words(row)
    assert "about 2 GB to download" in words and "on disk" in words and str(folder) in words, words


def test_delete_removes_the_cache_folder_and_the_offload_folders(hub_cache, tmp_path):
    settings = settings_for(tmp_path)
    folder = fake_repo(hub_cache, NITROGEN_REPO, {"ng.pt": b"x" * 1000})
    offload = tmp_path / "cache" / "offload" / "nitrogen" / "dit-abc"
    offload.mkdir(parents=True)
    (offload / "group_0.safetensors").write_bytes(b"y" * 5000)
    other = tmp_path / "cache" / "offload" / "voxtral"  # another model's folder stays
    other.mkdir(parents=True)
    line = model_manager.delete_model("nitrogen", settings, resident=set(), zerogpu=False)
    assert line.startswith("Deleted NVIDIA NitroGen"), line
    assert not folder.exists() and not offload.parent.exists() and other.exists()
    assert not model_manager.model_row("nitrogen", settings).on_disk


def test_delete_refuses_a_loaded_model_and_zerogpu(hub_cache, tmp_path):
    settings = settings_for(tmp_path)
    folder = fake_repo(hub_cache, NITROGEN_REPO, {"ng.pt": b"x"})
    with pytest.raises(UserInputError, match=re.escape("is loaded: press Unload (under Resident models) first")):
        model_manager.delete_model("nitrogen", settings, resident={"nitrogen"}, zerogpu=False)
    with pytest.raises(UserInputError, match="off on ZeroGPU"):
        model_manager.delete_model("nitrogen", settings, resident=set(), zerogpu=True)
    assert folder.exists()


def test_download_offline_says_which_command_to_run_elsewhere(hub_cache, tmp_path):
    lines = list(model_manager.download_lines("pocket", settings_for(tmp_path)))
    assert len(lines) == 1
    assert "HF_HUB_OFFLINE is set" in lines[0] and "copy this command to a machine with internet" in lines[0]
    # Both repos the model needs, exactly as the app would fetch them.
    assert "`hf download eustlb/pocket-tts --include '*.json'" in lines[0], lines[0]
    assert "hf download eustlb/pocket-tts-audio-tokenizer" in lines[0], lines[0]


def raise_gated(repo_id, **kwargs):
    import httpx2
    from huggingface_hub.errors import GatedRepoError

    response = httpx2.Response(403, request=httpx2.Request("GET", f"https://huggingface.co/api/models/{repo_id}"))
    raise GatedRepoError(f"Access to model {repo_id} is restricted.", response=response)


def test_a_gated_repo_says_open_the_page_accept_the_licence_and_log_in(hub_cache, tmp_path, monkeypatch):
    import huggingface_hub

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", raise_gated)
    last = list(model_manager.download_lines("nitrogen", settings_for(tmp_path)))[-1]
    assert last == ("The Hub asks you to accept the licence of `nvidia/NitroGen` first. Open "
                    "https://huggingface.co/nvidia/NitroGen, accept the licence, then run `hf auth login` on this "
                    "machine and try again."), last


def test_a_tabs_first_run_on_a_gated_repo_gets_the_same_licence_words(hub_cache, monkeypatch):
    """shared.models.hub.download (a tab's first run) says the same, not "could not be downloaded"."""
    import huggingface_hub

    from shared.errors import ModelFilesMissing
    from shared.models import hub

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", raise_gated)
    with pytest.raises(ModelFilesMissing) as raised:
        hub.download(NITROGEN_REPO, key="nitrogen", allow_patterns=("ng.pt",))
    assert str(raised.value).startswith("The Hub asks you to accept the licence of `nvidia/NitroGen` first."), raised.value


def test_no_network_gives_the_copy_elsewhere_guidance(hub_cache, tmp_path, monkeypatch):
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    def no_network(repo_id, **kwargs):
        raise LocalEntryNotFoundError("Cannot reach the Hub and the files are not in the cache.")

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", no_network)
    last = list(model_manager.download_lines("nitrogen", settings_for(tmp_path)))[-1]
    assert last.startswith("No network: the Hub cannot be reached: copy this command"), last
    assert "`hf download nvidia/NitroGen --include 'ng.pt'`" in last, last


def test_a_download_reports_bytes_speed_and_time_left(hub_cache, tmp_path, monkeypatch):
    """snapshot_download's byte bar (unit B) drives the line; its network bar is not counted twice."""
    import threading

    import huggingface_hub

    release = threading.Event()
    monkeypatch.setattr(model_manager, "POLL_S", 0.05)
    real = huggingface_hub.snapshot_download

    def fake_download(repo_id, allow_patterns=None, tqdm_class=None, local_files_only=False):
        if local_files_only:  # the on-disk check after the download reads the cache as usual
            return real(repo_id, allow_patterns=allow_patterns, local_files_only=True)
        network = tqdm_class(desc="Downloading bytes", total=0, unit="B")
        written = tqdm_class(desc="Reconstructing (incomplete total...)", total=0, unit="B")
        written.total = network.total = 4 * 1024**3
        network.update(1024**3)
        written.update(1024**3)
        release.wait(30)  # the test reads the line while the "download" is a quarter done
        fake_repo(hub_cache, repo_id, {"ng.pt": b"x"})
        return str(hub_cache)

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    lines = model_manager.download_lines("nitrogen", settings_for(tmp_path))
    first = next(line for line in lines if "1.0 GB" in line)
    release.set()
    rest = list(lines)
    assert first.startswith("Downloading `nvidia/NitroGen`: 1.0 GB of 4.0 GB, "), first
    assert "/s, about " in first and first.endswith(" left."), first
    assert "NVIDIA NitroGen** is on disk" in rest[-1], rest[-1]


def test_download_and_delete_are_off_on_a_space_and_on_a_server_open_to_the_network(tmp_path):
    from types import SimpleNamespace

    from shared.web.model_manager_ui import off_reason

    local = SimpleNamespace(profile="cpu", settings=SimpleNamespace(on_space=False), exposure_warning=None)
    assert off_reason(local) is None
    space = SimpleNamespace(profile="cpu", settings=SimpleNamespace(on_space=True), exposure_warning=None)
    assert off_reason(space).startswith("Download and Delete are off on a Space")
    zerogpu = SimpleNamespace(profile="zerogpu", settings=SimpleNamespace(on_space=False), exposure_warning=None)
    assert off_reason(zerogpu).startswith("Download and Delete are off on a Space")
    open_server = SimpleNamespace(profile="cpu", settings=SimpleNamespace(on_space=False), exposure_warning="Anyone ...")
    assert "open to the network without a key or logins" in off_reason(open_server)
