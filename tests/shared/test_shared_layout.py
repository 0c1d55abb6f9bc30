"""shared/ is grouped by concern (issue 20): a few subpackages, at most six modules at the top, and
every import arrow between them pointing down the layers, with no cycle between modules."""
from __future__ import annotations

import ast
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
# Bottom to top: a module may import its own layer or one below, never one above.
LAYERS = {"shared.errors": 0, "shared.lazy": 0, "shared.io": 1, "shared.tasks": 2, "shared.models": 3,
          "shared.remote": 3, "shared.web": 4}


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(SHARED.parent).with_suffix("").parts).removesuffix(".__init__")


def layer_of(module: str) -> int:
    for prefix, layer in sorted(LAYERS.items(), key=lambda item: -len(item[0])):
        if module == prefix or module.startswith(prefix + "."):
            return layer
    raise AssertionError(f"{module} belongs to no layer of shared/")


def imports_of(path: Path) -> set[str]:
    """Every shared module `path` imports (at module level or inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("shared"):
            for alias in node.names:  # `from shared.io import outputs` imports the module shared.io.outputs
                candidate = f"{node.module}.{alias.name}"
                is_module = (SHARED.parent / (candidate.replace(".", "/") + ".py")).exists()
                found.add(candidate if is_module else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("shared.")}
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in SHARED.rglob("*.py")}


def test_at_most_six_modules_at_the_top():
    top = sorted(p.name for p in SHARED.glob("*.py") if p.name != "__init__.py")
    assert len(top) <= 6, top
    packages = sorted(p.name for p in SHARED.iterdir() if (p / "__init__.py").exists())
    assert packages == ["io", "models", "tasks", "web"], packages


def test_arrows_only_point_down():
    upward = [f"{a} -> {b}" for a, targets in graph().items() for b in targets
              if b != "shared" and layer_of(b) > layer_of(a)]
    assert not upward, upward


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                raise AssertionError("cycle: " + " -> ".join(trail[trail.index(nxt):] + [nxt]) if nxt in trail
                                     else f"cycle through {nxt}")
            if nxt in edges and not state.get(nxt):
                visit(nxt, trail + [nxt])
        state[node] = 2

    for module in edges:
        if not state.get(module):
            visit(module, [module])
