import gc
import weakref

import psutil
import torch

from shared.models.residency import ModelCache

MB = 1024**2


class BigModel(torch.nn.Module):
    def __init__(self, megabytes: int):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(megabytes * MB // 4))
        self.closed = False

    def close(self):
        self.closed = True


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


def test_loads_once_and_reports():
    cache = ModelCache()
    calls = []
    model = cache.get("a", lambda: calls.append(1) or BigModel(1), gpu=False)
    assert cache.get("a", lambda: calls.append(1) or BigModel(1), gpu=False) is model
    assert calls == [1]
    (entry,) = cache.resident()
    assert entry["key"] == "a" and entry["gpu"] is False
    assert "rss_gb" in cache.memory()


def test_only_one_gpu_model_is_resident():
    cache = ModelCache()
    first = cache.get("first", lambda: BigModel(1), gpu=True)
    cache.get("cpu-side", lambda: BigModel(1), gpu=False)
    cache.get("second", lambda: BigModel(1), gpu=True)
    assert [e["key"] for e in cache.resident()] == ["cpu-side", "second"]
    assert first.closed  # the switched-out model was closed


# Measured in a fresh interpreter: in the suite's process, heap that earlier tests freed (but glibc kept)
# can absorb the 400 MB allocation without any change in RSS, which made this order-dependent.
_UNLOAD_PROBE = r"""
import gc, json, weakref
import psutil, torch
from shared.models.residency import ModelCache

def rss():
    gc.collect()
    return psutil.Process().memory_info().rss

class BigModel(torch.nn.Module):
    def __init__(self, megabytes):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(megabytes * 1024**2 // 4))
    def close(self):
        pass

cache = ModelCache()
baseline = rss()
model = cache.get("big", lambda: BigModel(400), gpu=True)
ref = weakref.ref(model)
del model
loaded = rss()
unloaded_keys = cache.unload("big")
print(json.dumps({"baseline": baseline, "loaded": loaded, "unloaded": rss(), "keys": unloaded_keys,
                  "alive": ref() is not None, "resident": cache.resident()}))
"""


def test_unload_really_frees_memory():
    import json
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _UNLOAD_PROBE], cwd=repo, capture_output=True, text=True,
                         timeout=300, check=True).stdout
    probe = json.loads(out.strip().splitlines()[-1])
    assert probe["loaded"] - probe["baseline"] > 350 * MB
    assert probe["keys"] == ["big"]
    assert not probe["alive"], "the cache still holds a reference to the unloaded model"
    assert probe["unloaded"] - probe["baseline"] < 50 * MB
    assert probe["resident"] == []


def test_unload_all_and_unknown_key():
    cache = ModelCache()
    cache.get("a", lambda: BigModel(1), gpu=False)
    cache.get("b", lambda: BigModel(1), gpu=True)
    assert cache.unload("nope") == []
    assert sorted(cache.unload()) == ["a", "b"]
    assert not cache.is_resident("a")


def test_unbounded_gpu_residency_for_zerogpu():
    cache = ModelCache(max_gpu_models=None)
    for key in ("a", "b", "c"):
        cache.get(key, lambda: BigModel(1), gpu=True)
    assert [e["key"] for e in cache.resident()] == ["a", "b", "c"]


def test_a_torch_still_being_imported_counts_as_not_loaded(monkeypatch):
    """/status ran while a model's first load was importing torch in another thread and failed with
    "partially initialized module 'torch' has no attribute 'cuda'" (the load test's status poller)."""
    import sys
    import types
    from importlib.machinery import ModuleSpec

    from shared.models.residency import loaded_torch

    half = types.ModuleType("torch")
    half.__spec__ = ModuleSpec("torch", None)
    half.__spec__._initializing = True
    monkeypatch.setitem(sys.modules, "torch", half)
    assert loaded_torch() is None
    half.__spec__._initializing = False
    assert loaded_torch() is half
