"""No function in demos/ or shared/ is over 80 lines (the project's rule: code for the next engineer).

Every .py file is parsed with `ast`; a function's length runs from its `def` line to its last
line, docstring, comments and nested functions included (a closure holding closures counts whole).
No allow-list: a function over the limit is split, not excused.
"""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHECKED = ("demos", "shared")
MAX_LINES = 80


def function_lengths(source: str) -> list[tuple[str, int, int]]:
    """(qualified name, first line, length in lines) of every function and method in `source`."""
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                found.append((name, child.lineno, child.end_lineno - child.lineno + 1))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def overlong_functions(root: Path = REPO, limit: int = MAX_LINES) -> list[str]:
    """'path:line name (N lines)' for every function over `limit` lines under demos/ and shared/."""
    over = []
    for folder in CHECKED:
        for path in sorted((root / folder).rglob("*.py")):
            for name, line, length in function_lengths(path.read_text(encoding="utf-8")):
                if length > limit:
                    over.append(f"{path.relative_to(root)}:{line} {name} ({length} lines)")
    return over


def test_no_function_in_demos_or_shared_is_over_80_lines():
    over = overlong_functions()
    assert not over, f"{len(over)} functions over {MAX_LINES} lines (split them):\n" + "\n".join(over)


def test_the_check_measures_nested_functions_and_methods():
    def body(indent: int) -> str:
        return "\n".join(f"{' ' * indent}x{i} = {i}" for i in range(79))

    source = (f"def outer():\n    def inner():\n        pass\n{body(4)}\n"
              f"class C:\n    async def method(self):\n{body(8)}\n        return 1\n")
    assert function_lengths(source) == [("outer", 1, 82), ("outer.inner", 2, 2), ("C.method", 84, 81)]


def test_a_function_of_81_lines_is_reported_and_one_of_80_is_not(tmp_path):
    for name, lines in (("long", 81), ("fine", 80)):
        body = "\n".join(f"    y{i} = {i}" for i in range(lines - 1))
        (tmp_path / "shared").mkdir(exist_ok=True)
        (tmp_path / "shared" / f"{name}.py").write_text(f"def {name}():\n{body}\n")
    (tmp_path / "demos").mkdir()
    assert overlong_functions(tmp_path) == ["shared/long.py:1 long (81 lines)"]
