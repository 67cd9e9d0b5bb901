"""Startup cost: computing a table must not import sympy (bench/run.py's 2x-floor target).

Each check runs in a fresh interpreter, since this test process may already have
imported sympy for other tests.
"""

import subprocess
import sys

import pytest


def _modules_after(code):
    """The set of top-level module names loaded after running code in a fresh python."""
    probe = code + "\nimport sys\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.splitlines()[-1].split())  # the last line: other output comes first


def test_import_mbcost_does_not_import_sympy():
    assert "sympy" not in _modules_after("import mbcost")


@pytest.mark.parametrize("spec", ["mobilenet_v1", "mobilenet_v2"])
def test_analyze_does_not_import_sympy(spec):
    mods = _modules_after(f"import mbcost\nassert mbcost.analyze({spec!r}).madds > 0")
    assert "mbcost" in mods  # the probe really ran the library
    assert "sympy" not in mods


def test_table_json_command_does_not_import_sympy():
    code = ("from mbcost.cli import main\n"
            "try:\n    main(['table', 'mobilenet_v2', '--format', 'json'])\n"
            "except SystemExit as e:\n    assert e.code in (0, None), e.code")
    mods = _modules_after(code)
    assert "click" in mods
    assert "sympy" not in mods


def test_closed_form_does_import_sympy():
    # the probe can see sympy when it is imported: the negative checks above are meaningful
    assert "sympy" in _modules_after("import mbcost\nmbcost.closed_form('mobilenet_v1')")
