"""shared.io.uploads.uploaded_file: the containment rule itself, on every payload shape."""
import pytest
from gradio.data_classes import FileData

from shared.errors import UserInputError
from shared.io.uploads import NOT_UPLOADED, FileNotUploaded, payload_path, uploaded_file

META = {"_type": "gradio.FileData"}


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    uploads = tmp_path / "uploads"
    (uploads / "abc").mkdir(parents=True)
    inside = uploads / "abc" / "in.png"
    inside.write_bytes(b"png")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    secret = outside / "secret.png"
    secret.write_bytes(b"secret")
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(uploads))
    return {"uploads": uploads, "inside": inside, "outside": outside, "secret": secret}


def test_every_payload_shape_of_an_upload_is_accepted(dirs):
    path = str(dirs["inside"].resolve())
    for value in (path, {"path": path}, {"path": path, "meta": META}, {"video": {"path": path, "meta": META}},
                  FileData(path=path)):
        assert uploaded_file(value, "image") == path


@pytest.mark.parametrize("value", [None, "", {"path": None}, {"video": {"path": None}}])
def test_no_file_is_none(dirs, value):
    assert uploaded_file(value, "image") is None


def refusal(dirs, value) -> str:
    with pytest.raises(FileNotUploaded) as info:
        uploaded_file(value, "image")
    return str(info.value)


def test_the_refusal_is_the_same_whatever_the_target(dirs):
    link = dirs["uploads"] / "abc" / "link.png"
    link.symlink_to(dirs["secret"])
    dangling = dirs["uploads"] / "abc" / "dangling.png"
    dangling.symlink_to(dirs["outside"] / "missing.png")
    dotdot = f"{dirs['uploads']}/abc/../../elsewhere/secret.png"
    cases = [
        str(dirs["secret"]), str(dirs["outside"] / "missing.png"), {"path": str(dirs["secret"])},
        {"path": str(dirs["secret"]), "meta": META}, str(link), str(dangling), dotdot,
        dotdot.replace("secret", "missing"), f"{dirs['uploads']}/abc/../abc/in.png",  # `..` even when inside
        str(dirs["uploads"]), str(dirs["uploads"] / "abc"), str(dirs["outside"]), "/etc/passwd",
        "relative/in.png", {"url": "https://example.com/a.png"}, str(dirs["inside"]) + "\x00",
        {"path": 12}, "x" * 5000,
    ]
    messages = {refusal(dirs, value) for value in cases}
    assert messages == {NOT_UPLOADED.format(param="image")}


def test_extra_allowed_dirs(dirs):
    assert uploaded_file(str(dirs["secret"]), "video", also_allowed=[dirs["outside"]]) == str(dirs["secret"].resolve())
    with pytest.raises(FileNotUploaded):
        uploaded_file(str(dirs["secret"]), "video")


@pytest.mark.parametrize("value", [12, 1.5, ["a.png"], object()])
def test_wrong_types_name_the_parameter(dirs, value):
    with pytest.raises(UserInputError, match="^frame must be an uploaded file"):
        payload_path(value, "frame")
