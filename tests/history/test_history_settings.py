"""History settings: the /data default, the disk limit and shared-history flags, the login file."""
from __future__ import annotations

from pathlib import Path

import pytest

from shared.web import settings as settings_module
from shared.web.settings import Settings, default_outputs_dir, read_auth_file


def test_outputs_default_to_the_data_volume_only_when_it_is_a_writable_mount(tmp_path, monkeypatch):
    mount = tmp_path / "data"
    mount.mkdir()
    assert default_outputs_dir(mount) == Path("outputs")  # a plain directory is not a volume
    monkeypatch.setattr(settings_module.os.path, "ismount", lambda p: Path(p) == mount)
    assert default_outputs_dir(mount) == mount / "release-hub" / "outputs"
    mount.chmod(0o500)
    try:
        if not settings_module.os.access(mount, settings_module.os.W_OK):  # root ignores modes
            assert default_outputs_dir(mount) == Path("outputs")
    finally:
        mount.chmod(0o700)
    assert default_outputs_dir(tmp_path / "missing") == Path("outputs")


def test_history_flags_from_the_environment_and_the_command_line():
    s = Settings.from_args([], env={"RELEASE_HUB_OUTPUTS_MAX_GB": "3.5", "RELEASE_HUB_SHARED_HISTORY": "1",
                                    "SPACE_ID": "someone/release-hub"})
    assert s.outputs_max_gb == 3.5 and s.shared_history and s.on_space
    s = Settings.from_args(["--outputs-max-gb", "0.5"], env={})
    assert s.outputs_max_gb == 0.5 and not s.shared_history and not s.on_space and s.outputs_max_gb
    assert Settings.from_args([], env={}).outputs_max_gb is None
    for bad in ("0", "-1", "lots"):
        with pytest.raises(SystemExit):
            Settings.from_args(["--outputs-max-gb", bad], env={})


def test_login_file(tmp_path):
    good = tmp_path / "logins.txt"
    good.write_text("# who may log in\nalice:pw:with:colons\n\nbob:pw2\n")
    assert read_auth_file(good) == [("alice", "pw:with:colons"), ("bob", "pw2")]
    bad = tmp_path / "bad.txt"
    bad.write_text("alice\n")
    with pytest.raises(SystemExit, match="bad.txt:1: expected user:password"):
        read_auth_file(bad)
