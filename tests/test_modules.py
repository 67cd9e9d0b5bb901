"""Modules by concern: every module imports on its own, and no module imports another
that (directly or through others, at the top or inside a function) imports it back."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mbcost"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__main__")


def _imports(name):
    """The mbcost modules that module `name` imports anywhere in its text."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mbcost."):
            out.add(node.module.split(".")[1])
    return {m for m in out if m in MODULES and m != name}


def _cycle(edges):
    """One import cycle in edges ({module: imported modules}) as a list, or None."""
    state = {}

    def visit(m, path):
        if state.get(m) == "done":
            return None
        if state.get(m) == "open":
            return path[path.index(m):] + [m]
        state[m] = "open"
        for d in sorted(edges[m]):
            found = visit(d, path + [m])
            if found:
                return found
        state[m] = "done"
        return None

    for m in sorted(edges):
        found = visit(m, [])
        if found:
            return found
    return None


def test_no_import_cycles():
    cycle = _cycle({m: _imports(m) for m in MODULES})
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_every_module_imports_alone():
    code = ("import importlib, sys\nfor m in sys.argv[1:]:\n"
            "    for k in [k for k in sys.modules if k == 'mbcost' or k.startswith('mbcost.')]:\n"
            "        del sys.modules[k]\n"
            "    importlib.import_module('mbcost.' + m)\n")
    res = subprocess.run([sys.executable, "-c", code, *MODULES], capture_output=True, text=True,
                         cwd=PACKAGE.parent)
    assert res.returncode == 0, res.stderr
