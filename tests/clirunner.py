"""click's CliRunner with stdout and stderr kept apart on every supported click.

click < 8.2 mixes stderr into stdout unless told not to; 8.2 removed the switch and
always keeps them apart. The tests read ``result.stdout`` and ``result.stderr``.
"""

from click import testing


def CliRunner(**kw):  # noqa: N802 - stands in for the class
    """A click.testing.CliRunner whose results have separate stdout and stderr."""
    try:
        return testing.CliRunner(mix_stderr=False, **kw)
    except TypeError:  # click >= 8.2 always separates them
        return testing.CliRunner(**kw)
