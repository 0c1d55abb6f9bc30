"""requirements-space.txt pins every runtime dependency of pyproject.toml (and the `space` extra) inside its range."""
from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
ZEROGPU_TORCH = {"2.8.0", "2.9.1", "2.10.0", "2.11.0"}


def _pins() -> dict[str, Requirement]:
    pins = {}
    for line in (REPO / "requirements-space.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            assert len(req.specifier) == 1 and next(iter(req.specifier)).operator == "==", f"not pinned: {line}"
            pins[canonicalize_name(req.name)] = req
    return pins


def test_every_runtime_dependency_is_pinned_inside_its_range():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["space"]]
    pins = _pins()
    for req in wanted:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} (pyproject.toml) is missing from requirements-space.txt"
        version = next(iter(pins[name].specifier)).version
        assert req.specifier.contains(version, prereleases=True), f"{req.name}=={version} is outside {req.specifier}"
        assert req.extras <= pins[name].extras, f"{req.name}: extras {sorted(req.extras)} not installed on the Space"


def test_torch_is_one_zerogpu_supports_and_torchao_matches_it():
    pins = _pins()
    torch = next(iter(pins["torch"].specifier)).version
    assert torch in ZEROGPU_TORCH
    if torch == "2.11.0":
        from packaging.version import Version

        assert Version(next(iter(pins["torchao"].specifier)).version) >= Version("0.17.0")
