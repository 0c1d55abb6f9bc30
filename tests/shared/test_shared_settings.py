from pathlib import Path

import pytest

from shared.web.settings import Settings, source_env_name


def test_defaults_without_flags_or_env():
    s = Settings.from_args([], env={})
    assert (s.tiny, s.profile, s.host, s.port, s.share, s.mcp) == (False, "auto", "127.0.0.1", 7860, False, False)
    assert s.outputs_dir == Path("outputs")
    assert s.sources == {}


def test_env_vars_are_read():
    env = {
        "RELEASE_HUB_TINY": "1", "RELEASE_HUB_PROFILE": "8gb", "RELEASE_HUB_PORT": "9000",
        "RELEASE_HUB_MCP": "true", "RELEASE_HUB_CACHE_DIR": "/tmp/c", "RELEASE_HUB_OUTPUTS_DIR": "/tmp/o",
        "RELEASE_HUB_SOURCE_HELIOS_DISTILLED": "/models/helios", "RELEASE_HUB_SOURCE_VOXTRAL": "me/voxtral",
    }
    s = Settings.from_args([], env=env)
    assert s.tiny and s.mcp and s.profile == "8gb" and s.port == 9000
    assert s.cache_dir == Path("/tmp/c") and s.outputs_dir == Path("/tmp/o")
    assert s.sources == {"helios-distilled": "/models/helios", "voxtral": "me/voxtral"}


def test_flags_override_env():
    env = {"RELEASE_HUB_PROFILE": "8gb", "RELEASE_HUB_PORT": "9000"}
    s = Settings.from_args(["--profile", "12gb", "--port", "7000", "--share", "--source", "nitrogen=/ckpt"], env=env)
    assert (s.profile, s.port, s.share) == ("12gb", 7000, True)
    assert s.sources["nitrogen"] == "/ckpt"


def test_explicit_source_beats_tiny():
    s = Settings.from_args(["--tiny"], env={"RELEASE_HUB_SOURCE_NITROGEN": "/ckpt"})
    assert s.source_override("nitrogen") == "/ckpt"
    assert s.source_override("voxtral") == "tiny"
    assert Settings.from_args([], env={}).source_override("voxtral") is None


def test_bad_profile_and_bad_source_are_refused():
    with pytest.raises(SystemExit):
        Settings.from_args(["--profile", "4gb"], env={})
    with pytest.raises(SystemExit):
        Settings.from_args(["--source", "novalue"], env={})


def test_source_env_name():
    assert source_env_name("helios-mid") == "RELEASE_HUB_SOURCE_HELIOS_MID"
