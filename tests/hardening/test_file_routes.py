"""Nothing is served from outside the allowed paths, however the path is spelled."""
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SECRET_PATHS = ["/etc/passwd", str(REPO / "pyproject.toml"), str(Path.home() / ".bashrc")]


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def spellings(path: str) -> list[str]:
    relative = "../" * 12 + path.lstrip("/")
    return [
        path,
        relative,
        urllib.parse.quote(path, safe=""),
        urllib.parse.quote(relative, safe=""),
        "//" + path.lstrip("/"),
        "outputs/" + relative,
    ]


@pytest.mark.parametrize("secret", SECRET_PATHS)
def test_file_routes_refuse_paths_outside_the_allowed_dirs(tiny_server, secret):
    for route in ("gradio_api/file=", "file=", "gradio_api/file/"):
        for spelled in spellings(secret):
            status, body = fetch(tiny_server + route + spelled)
            assert status >= 400 or (b"root:" not in body and b"[project]" not in body), (route, spelled, status)


def test_the_outputs_dir_is_never_served(tiny_server, tiny_server_dirs):
    """Stored files leave only as owner-bound copies (tests/hardening/test_private_files.py): the outputs
    dir itself is answered like a missing file, and so is what lies beside it."""
    outputs = tiny_server_dirs["outputs"]
    outputs.mkdir(parents=True, exist_ok=True)
    probe = outputs / "probe.txt"
    probe.write_text("served")
    status, body = fetch(tiny_server + "gradio_api/file=" + str(probe))
    assert status == 403 and b"served" not in body
    sibling = outputs.parent / "not-allowed.txt"
    sibling.write_text("secret")
    status, body = fetch(tiny_server + "gradio_api/file=" + str(sibling))
    assert status >= 400 and b"secret" not in body
