"""Shared pytest options and fixtures: ``--update-golden`` rewrites the golden files in
tests/golden/ from the current output (the one switch for every golden test; review the
diff before committing it)."""

from pathlib import Path

import pytest


def pytest_addoption(parser):
    """Register --update-golden."""
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden files in tests/golden/ instead of comparing")


@pytest.fixture()
def golden(request):
    """golden(path, text): assert that text is the golden file at path; with
    --update-golden, rewrite the file first."""
    update = request.config.getoption("--update-golden")

    def check(path, text):
        path = Path(path)
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"missing {path}; run python -m pytest --update-golden"
        assert text == path.read_text(encoding="utf-8")

    return check
