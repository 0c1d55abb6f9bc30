import gc
import weakref

import psutil
import torch

from shared.residency import ModelCache

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


def test_unload_really_frees_memory():
    cache = ModelCache()
    baseline = rss()
    model = cache.get("big", lambda: BigModel(400), gpu=True)
    ref = weakref.ref(model)
    del model
    loaded = rss()
    assert loaded - baseline > 350 * MB
    assert cache.unload("big") == ["big"]
    assert ref() is None, "the cache still holds a reference to the unloaded model"
    assert rss() - baseline < 50 * MB
    assert cache.resident() == []


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
