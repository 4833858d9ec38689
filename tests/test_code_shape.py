"""The code keeps its shape: no file in isom/ over 600 lines, no function over 80 (issue 15).

Long files and functions are where a newcomer gets lost; CI names the offender so the split
happens in the change that grew it, not in a clean-up months later.
"""

from __future__ import annotations

import ast
from pathlib import Path

ISOM = Path(__file__).resolve().parent.parent / "isom"
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80


def _sources() -> list[Path]:
    return sorted(ISOM.rglob("*.py"))


def _function_lengths(path: Path) -> list[tuple[str, int]]:
    """Each function's (qualified name, lines from `def` to its last line, decorators excluded)."""
    found: list[tuple[str, int]] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                found.append((name, (child.end_lineno or child.lineno) - child.lineno + 1))
                walk(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")
            else:
                walk(child, prefix)

    walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), "")
    return found


def test_the_walk_sees_the_package() -> None:
    assert len(_sources()) > 100
    lengths = dict(_function_lengths(ISOM / "schema.py"))
    assert 5 < lengths["upgrade"] < MAX_FUNCTION_LINES


def test_no_file_in_isom_is_over_600_lines() -> None:
    too_long = [
        f"{path.relative_to(ISOM.parent)}: {lines} lines"
        for path in _sources()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    ]
    assert too_long == [], "split these files by sub-concept:\n" + "\n".join(too_long)


def test_no_function_in_isom_is_over_80_lines() -> None:
    too_long = [
        f"{path.relative_to(ISOM.parent)}::{name}: {lines} lines"
        for path in _sources()
        for name, lines in _function_lengths(path)
        if lines > MAX_FUNCTION_LINES
    ]
    assert too_long == [], "split these functions by sub-step:\n" + "\n".join(too_long)
