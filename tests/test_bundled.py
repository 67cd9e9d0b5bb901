"""Every bundled spec loads, analyzes, has a closed form and is listed."""

import pytest
from clirunner import CliRunner

import mbcost
from mbcost.cli import main
from mbcost.symbols import alpha, rho

NAMES = mbcost.bundled_names()


def test_there_are_bundled_specs():
    assert {"mobilenet_v1", "mobilenet_v1_shallow", "mobilenet_v2"} <= set(NAMES)
    # the classic baselines of issue 11 that the spec language expresses exactly today
    # (tests/test_baselines.py checks each against torchvision)
    assert {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
            "wide_resnet50_2", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
            "densenet121"} <= set(NAMES)


@pytest.fixture(scope="module")
def listing():
    """The output of `mbcost list`."""
    r = CliRunner().invoke(main, ["list"])
    assert r.exit_code == 0
    return r.stdout


@pytest.mark.parametrize("name", NAMES)
def test_loads(name):
    s = mbcost.load_spec(name)
    assert s.name == name  # the file name is the spec's name
    assert s.title and s.description and s.source


@pytest.mark.parametrize("name", NAMES)
def test_analyzes_at_default_and_half_160(name):
    full = mbcost.analyze(name)
    small = mbcost.analyze(name, alpha=0.5, resolution=160)
    assert full.madds > small.madds > 0
    assert full.params > small.params > 0
    assert small.resolution == 160 and small.input[:2] == (160, 160)
    for a in (full, small):
        assert sum(r.madds for r in a.rows) == a.madds
        assert sum(r.params for r in a.rows) == a.params


@pytest.mark.parametrize("name", NAMES)
def test_closed_form(name):
    f = mbcost.closed_form(name)
    assert f.exact_at_base
    assert f.madds.free_symbols <= {alpha, rho} and alpha in f.madds.free_symbols
    # weights never depend on the resolution, unless an FC flattens a spatial map that follows
    # it (none bundled now: AlexNet's and VGG's adaptive pools fix their FC input)
    other = {r.name: r.input for r in mbcost.analyze(name, resolution=160).rows}
    flattens = any(r.kind == "fc" and r.input[:2] != (1, 1) and other[r.name] != r.input
                   for r in mbcost.analyze(name).rows)
    assert (f.params.free_symbols <= {alpha}) != flattens


@pytest.mark.parametrize("name", NAMES)
def test_listed(name, listing):
    line = next((ln for ln in listing.splitlines() if ln.split()[:1] == [name]), None)
    assert line is not None
    assert mbcost.load_spec(name).description in line
