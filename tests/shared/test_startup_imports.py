"""Start-up imports no model library: `release-hub --tiny` reaches its first HTTP 200 without
torch, transformers, diffusers, torchao, matplotlib or mistral_common, and a visitor's page load
(the System tab's /status) adds none of them but matplotlib, which Gradio imports around every
event. They load with the first model (benchmarks/startup.py times start-up).

The server is the real entry point (`python -m demos.app`, what `release-hub` runs) under
`-X importtime`, which makes Python itself log every module the process imports, in order."""
from __future__ import annotations

import re

from serving import start_server, stop_server

HEAVY = ("torch", "transformers", "diffusers", "torchao", "matplotlib", "mistral_common")
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|(\s*)(\S+)\s*$")


def heavy_imports(log: str) -> list[str]:
    """The model libraries (top-level packages) in an `-X importtime` log, in import order."""
    found = []
    for line in log.splitlines():
        match = IMPORT_LINE.match(line)
        top = match.group(2).split(".")[0] if match else None
        if top in HEAVY and top not in found:
            found.append(top)
    return found


def test_no_model_library_is_imported_before_the_first_http_200_nor_by_a_page_load(tmp_path):
    import httpx
    from gradio_client import Client

    # An offload folder whose checkpoint is gone (the tiny ones are only written on first use): the
    # start removes it, without importing torch for that.
    orphan = tmp_path / "cache" / "offload" / "helios-distilled" / "transformer-leaf-fp8-0123456789abcdef"
    orphan.mkdir(parents=True)
    (orphan / "group_0.safetensors").write_bytes(b"\0" * 1024)
    process, url, log_path = start_server(tmp_path, entry=("-X", "importtime", "-m", "demos.app"))
    try:
        assert not orphan.parent.exists(), "the orphaned offload folder is still there"
        at_first_200 = log_path.read_text()
        assert "import time:" in at_first_200 and re.search(r"\|\s*gradio$", at_first_200, re.M), \
            "the server's -X importtime log is missing: this test would prove nothing"
        assert heavy_imports(at_first_200) == [], "imported before the first HTTP 200"
        # What a visitor's browser asks for on arrival: the System tab's status and memory.
        status = Client(url, verbose=False, httpx_kwargs={"timeout": httpx.Timeout(300)}).predict(api_name="/status")
        assert status["resident_models"] == [] and "rss_gb" in status["memory"]
        # Gradio itself imports matplotlib around every event (gradio/route_utils.py sets the "agg"
        # backend through utils.MatplotlibBackendMananger), whatever the app does: not ours to avoid.
        after_status = [m for m in heavy_imports(log_path.read_text()) if m != "matplotlib"]
        assert after_status == [], "imported by /status with no model loaded"
    finally:
        stop_server(process)


def test_the_log_parser_sees_a_model_library():
    log = ("import time: self [us] | cumulative | imported package\n"
           "import time:       120 |        120 |   gradio\n"
           "import time:        80 |         80 |     torch._C\n"
           "import time:      3000 |       3080 |   torch\n")
    assert heavy_imports(log) == ["torch"]
