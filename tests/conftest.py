"""Shared pytest options: --update-golden rewrites tests/golden/ from the current output."""

import pytest


def pytest_addoption(parser):
    """Register --update-golden."""
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden files in tests/golden/ instead of comparing")


@pytest.fixture()
def update_golden(request):
    """True when the run should rewrite golden files."""
    return request.config.getoption("--update-golden")
