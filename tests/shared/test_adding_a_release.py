"""A release added in one folder: tests/minimal_demo plus one registry entry gets everything a demo gets.

The app is built in this process with `"tests.minimal_demo": "Tone"` added to
`demos.registry.DEMO_PACKAGES` (the one line docs/ARCHITECTURE.md "Adding a
release" asks for) and every GPU task pickled as spaces would
(RELEASE_HUB_CHECK_PICKLE=1). One /tone call feeds the checks: its tab, its
named endpoint, the shared parameter checks, the GPU-task shape, History and
Reuse settings (in chromium).
"""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from serving import REPO, free_port, patient_client
from shared.models import hub
from shared.tasks import zerogpu

DEMO_DIR = REPO / "tests" / "minimal_demo"
ENTRY, TITLE, TAB_ID = "tests.minimal_demo", "Tone", "minimal_demo"
PITCH, SECONDS, SEED = 330, 0.3, 7


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    import gradio as gr

    from demos import registry

    tmp = tmp_path_factory.mktemp("minimal-release")
    mp = pytest.MonkeyPatch()
    mp.syspath_prepend(str(REPO))  # `tests.minimal_demo` is importable whatever started pytest
    mp.setenv(zerogpu.CHECK_PICKLE_ENV, "1")
    mp.setenv("GRADIO_TEMP_DIR", str(tmp / "uploads"))
    mp.setitem(registry.DEMO_PACKAGES, ENTRY, TITLE)  # the registry line
    mp.setattr(hub, "_SPECS", dict(hub._SPECS))  # the tone spec is forgotten afterwards
    from demos.app import build_app, launch
    from shared.web.settings import Settings

    settings = Settings.from_args(["--tiny", "--cache-dir", str(tmp / "cache"), "--outputs-dir", str(tmp / "out"),
                                   "--port", str(free_port()), "--host", "127.0.0.1"])
    app = build_app(settings)
    launch(app, settings, prevent_thread_lock=True, quiet=True)
    try:
        tabs = {block.id: block.label for block in app.blocks.values() if isinstance(block, gr.Tab)}
        yield {"app": app, "url": f"http://127.0.0.1:{settings.port}/", "tabs": tabs, "tmp": tmp,
               "client": patient_client(f"http://127.0.0.1:{settings.port}/")}
    finally:
        app.close()
        mp.undo()


@pytest.fixture(scope="module")
def made(release):
    """One real /tone run: (wav path, info)."""
    return release["client"].predict(pitch_hz=PITCH, seconds=SECONDS, seed=SEED, api_name="/tone")


def test_the_registry_line_gives_the_release_its_tab_and_named_endpoint(release):
    assert release["tabs"].get(TAB_ID) == TITLE, release["tabs"]
    api = release["client"].view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/tone" in api, sorted(api)
    assert [p["parameter_name"] for p in api["/tone"]["parameters"]] == ["pitch_hz", "seconds", "seed"]


def test_the_endpoint_runs_the_model_from_its_own_tiny_checkpoint(made):
    path, info = made
    wave, rate = sf.read(path)
    assert rate == 16_000 and len(wave) == round(SECONDS * rate)
    spectrum = np.abs(np.fft.rfft(wave))
    peak_hz = np.fft.rfftfreq(len(wave), 1 / rate)[int(np.argmax(spectrum))]
    bin_hz = rate / len(wave)
    assert min(abs(peak_hz - k * PITCH) for k in range(1, 5)) <= bin_hz  # a harmonic of the pitch
    assert info["seed"] == SEED and info["model"] == "tone" and info["source"]["kind"] == "tiny"
    assert info["pitch_hz"] == pytest.approx(PITCH) and info["seconds"] == pytest.approx(SECONDS)


def test_its_gpu_task_is_a_generator_of_plain_events_that_pickle(made):
    counted = {name.rsplit(".", 1)[-1]: n for name, n in zerogpu.PICKLED.items()}
    assert "tone_task" in counted, sorted(counted)
    # 0.3 s in 0.1 s chunks: three progress events and the result, each pickled with ForkingPickler.
    assert counted["tone_task"]["calls"] >= 1 and counted["tone_task"]["events"] >= 4, counted["tone_task"]


@pytest.mark.parametrize("arguments, message", [
    (dict(pitch_hz=99_999), "pitch_hz is 99999; it must be a number from 50 to 2,000 Hz."),
    (dict(seconds=9), "seconds is 9; it must be a number from 0.1 to 2 s."),
    (dict(seed="abc"), "seed is 'abc'; it must be a whole number (-1 picks one)."),
])
def test_a_bad_value_gets_the_shared_message_naming_the_parameter(release, arguments, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as refused:
        release["client"].predict(**{"pitch_hz": PITCH, "seconds": SECONDS, "seed": SEED, **arguments},
                                  api_name="/tone")
    assert str(refused.value) == message


def test_a_file_sent_for_a_number_is_refused_by_the_guarded_blocks(release):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    wav = release["tmp"] / "not-a-number.wav"
    sf.write(wav, np.zeros(1600, np.float32), 16_000)
    with pytest.raises(AppError, match=r"^pitch_hz does not take a file\.$"):
        release["client"].predict(pitch_hz=handle_file(str(wav)), seconds=SECONDS, seed=SEED, api_name="/tone")


def test_history_lists_the_result_with_its_sidecar(release, made):
    from shared.io.outputs import check_sidecar

    path, _ = made
    client = release["client"]
    listed = client.predict(demo="tone", api_name="/history")
    assert listed["total"] == 1, listed
    item = listed["items"][0]
    assert item["id"].startswith("tone/") and item["model"] == "tone" and item["kind"] == "audio"
    files, sidecar = client.predict(item_id=item["id"], api_name="/history_item")
    assert check_sidecar(sidecar)["demo"] == "tone" and sidecar["files"]["main"] == Path(path).name
    assert sidecar["inputs"] == pytest.approx({"pitch_hz": PITCH, "seconds": SECONDS, "seed": SEED})
    assert Path(files[0]).read_bytes() == Path(path).read_bytes()


def test_reuse_settings_fills_the_tab(release, made, browser_page):
    item_id = release["client"].predict(demo="tone", api_name="/history")["items"][0]["id"]
    page = browser_page
    page.goto(release["url"])
    page.get_by_role("tab", name=TITLE, exact=True).click()
    page.locator("#tone-readiness-accordion").get_by_text("How this runs on your machine").click()  # folded
    page.locator("#tone-readiness").get_by_text("tiny random test weights").wait_for()  # its spec's readiness line
    page.get_by_role("tab", name="History").click()
    page.locator("#history-selected textarea").fill(item_id)
    page.locator("#history-sidecar").get_by_text(item_id.split("/")[1]).first.wait_for()
    page.locator("#history-reuse").click()
    page.get_by_role("tab", name=TITLE, exact=True).and_(page.locator("[aria-selected=true]")).wait_for()
    page.wait_for_function(f"document.querySelector('#tone-seed input').value === '{SEED}'")
    assert float(page.locator("#tone-pitch input[type=number]").input_value()) == pytest.approx(PITCH)
    assert float(page.locator("#tone-seconds input[type=number]").input_value()) == pytest.approx(SECONDS)
    assert "Filled 3 inputs" in page.locator("#history-message").inner_text()


def test_the_handlers_and_engine_run_without_a_page(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    from shared.errors import ModelLoadError, UserInputError
    from shared.models.hardware import detect
    from tests.minimal_demo import checkpoint, engine, handlers, plans

    notes: dict = {}
    assert handlers.check_inputs("220", 1, 5, notes) == handlers.ToneRequest(220.0, 1.0, 5) and not notes
    with pytest.raises(UserInputError, match=r"^seconds is 0; it must be a number from 0.1 to 2 s\.$"):
        handlers.check_inputs(220, 0, 5)
    checkpoint.write_tiny(tmp_path)
    tone = engine.load_engine(tmp_path, plans.plan("cpu", detect()))
    seen = []
    wave = tone.generate(200.0, 0.25, seed=3, progress=lambda f, d="": seen.append(f))
    assert wave.dtype == np.float32 and len(wave) == 4000 and seen[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(tone.generate(200.0, 0.25, seed=3), wave, atol=1e-6)  # the seed decides the noise
    (tmp_path / checkpoint.WEIGHTS_FILE).write_bytes((tmp_path / checkpoint.WEIGHTS_FILE).read_bytes()[:40])
    with pytest.raises(ModelLoadError, match=checkpoint.WEIGHTS_FILE):
        checkpoint.load_model(tmp_path)


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
    return names


def test_the_release_touches_nothing_but_the_shared_layer():
    """Its modules import `shared`, their own package and libraries, never another demo or the app;
    only the tab imports gradio."""
    for path in sorted(DEMO_DIR.glob("*.py")):
        tops = {name.split(".")[0] for name in _imports(path)}
        assert not tops & {"demos", "tests"}, (path.name, sorted(tops))
        assert "gradio" not in tops or path.name == "tab.py", path.name
