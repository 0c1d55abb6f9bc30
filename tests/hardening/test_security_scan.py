"""Untrusted data: a scan of our own source for the calls that execute it.

`pickle` (and `torch.load` without `weights_only=True`) runs code from the
file; `trust_remote_code=True` runs code from the Hub; `eval`/`exec` run
strings. None of them may appear in the app or its tools.
"""
import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCANNED = ["app.py", "demos", "shared", "benchmarks", "examples"]
UNPICKLERS = ("pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "joblib")


def python_files():
    for entry in SCANNED:
        path = REPO / entry
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if ".venv" not in p.parts)


def call_name(node: ast.Call) -> str:
    func = node.func
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def findings_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = call_name(node)
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec", "compile"):
            found.append(f"{path}:{node.lineno}: {node.func.id}()")
        if name.split(".")[0] in UNPICKLERS and name.split(".")[-1] in ("load", "loads", "Unpickler"):
            found.append(f"{path}:{node.lineno}: {name}()")
        if name == "torch.load":
            value = keywords.get("weights_only")
            if not (isinstance(value, ast.Constant) and value.value is True):
                found.append(f"{path}:{node.lineno}: torch.load without weights_only=True")
        value = keywords.get("trust_remote_code")
        if value is not None and not (isinstance(value, ast.Constant) and value.value is False):
            found.append(f"{path}:{node.lineno}: trust_remote_code is not False")
        if name.endswith(("numpy.load", "np.load")):
            value = keywords.get("allow_pickle")
            if value is not None and not (isinstance(value, ast.Constant) and value.value is False):
                found.append(f"{path}:{node.lineno}: np.load with allow_pickle")
    return found


def test_the_scan_catches_what_it_looks_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pickle\nimport torch\npickle.loads(b'')\n"
        "torch.load('x.pt')\ntorch.load('x.pt', weights_only=False)\n"
        "eval('1')\nf(trust_remote_code=True)\nimport numpy as np\nnp.load('a', allow_pickle=True)\n"
    )
    found = findings_in(bad)
    assert len(found) == 6, found
    good = tmp_path / "good.py"
    good.write_text("import pickle, torch\ntorch.load('x.pt', weights_only=True, map_location='cpu')\n"
                    "f(trust_remote_code=False)\nmodel.eval()\nexcept_types = (pickle.UnpicklingError,)\n")
    assert findings_in(good) == []


def test_no_unsafe_deserialisation_or_code_execution_in_the_source():
    files = list(python_files())
    assert len(files) > 20, "the scan found suspiciously few files"
    findings = [f for path in files for f in findings_in(path)]
    assert findings == []
