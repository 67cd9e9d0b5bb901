"""bench/run.py's harness logic (the benchmark itself is run by hand, not by the tests)."""

import importlib.util
import sys
from pathlib import Path

import mbcost

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = mod  # dataclasses look their module up while the class is made
    spec.loader.exec_module(mod)
    return mod


def test_targets_and_ratios_in_the_table():
    b = _bench()
    floor = b.Case("floor", "the floor", setup=None)
    fast = b.Case("fast", "1.5x the floor", setup=None, baseline="floor", max_ratio=2)
    slow = b.Case("slow", "2.5x the floor", setup=None, baseline="floor", max_ratio=2)
    grid = b.Case("grid", "0.2 s", setup=None, max_seconds=0.1)
    results = {"floor": b.Result(floor, [0.10, 0.12, 0.08]), "fast": b.Result(fast, [0.15, 0.3, 0.12]),
               "slow": b.Result(slow, [0.25, 0.2, 0.4]), "grid": b.Result(grid, [0.2])}
    text = b.markdown(results, 3)
    # medians: floor 0.10, fast 0.15 (1.50x), slow 0.25 (2.50x); minima 0.08, 0.12 (1.50x), 0.20 (2.50x)
    assert "| fast | 1.5x the floor | 150.0 ms | 120.0 ms | 1.50x | 1.50x | ≤ 2x floor: met |" in text
    assert "| slow | 2.5x the floor | 250.0 ms | 200.0 ms | 2.50x | 2.50x | ≤ 2x floor: MISSED |" in text
    assert "| grid | 0.2 s | 200.0 ms | 200.0 ms |  |  | ≤ 0.1 s: MISSED |" in text


def test_round_robin_runs_every_case_each_round():
    b = _bench()
    order = []

    def setup(name):
        return lambda: (lambda: order.append(name) or 0.001)

    cases = [b.Case(n, n, setup(n)) for n in ("a", "b", "c")]
    results = b.run(cases, 2)
    assert order == ["a", "b", "c", "a", "b", "c"]
    assert all(len(r.times) == 2 for r in results.values())


def test_a_slow_case_is_timed_only_its_own_number_of_rounds():
    b = _bench()
    order = []

    def setup(name):
        return lambda: (lambda: order.append(name) or 0.001)

    cases = [b.Case("a", "a", setup("a")), b.Case("slow", "slow", setup("slow"), reps=1)]
    results = b.run(cases, 3)
    assert order == ["a", "slow", "a", "a"]
    assert (len(results["a"].times), len(results["slow"].times)) == (3, 1)


def test_only_keeps_the_baselines_a_case_is_measured_against():
    b = _bench()
    cases = [b.Case("floor", "", None), b.Case("csv long", "", None, baseline="floor"),
             b.Case("terminal long", "", None, baseline="csv long", max_ratio=2),
             b.Case("other", "", None, baseline="floor")]
    assert [c.name for c in b.select(cases, "terminal")] == ["floor", "csv long", "terminal long"]
    assert b.select(cases, None) == cases


def test_long_spec_has_the_layers_it_says(tmp_path, monkeypatch):
    b = _bench()
    monkeypatch.setattr(b, "_SCRATCH", [str(tmp_path)])
    a = mbcost.analyze(b.long_spec(pairs=3))
    # a stem conv, then 3 repeats of 50 depthwise + pointwise pairs; every one costs something
    assert len(a.rows) == 1 + 3 * 100
    assert all(r.madds for r in a.rows)


def test_largest_bundled_spec_has_the_most_layers():
    name, n = _bench().largest_bundled_spec()
    assert name in mbcost.bundled_names()
    assert n == len(mbcost.analyze(name).rows)
    assert all(len(mbcost.analyze(other).rows) <= n for other in mbcost.bundled_names())


def test_limits_table_names_the_slowest_command_and_exit_codes():
    b = _bench()
    results = {("graph.MAX_LAYERS", "10,000 layers"): {"table csv": (0.5, {0}), "fit pareto": (2.25, {1}),
                                                       "sweep": (1.0, {2})}}
    text = b.limits_markdown(results, 1)
    assert ("| `graph.MAX_LAYERS` | 10,000 layers | fit pareto: 2.25 s | table csv 0.50, "
            "fit pareto 2.25 (exit 1), sweep 1.00 (exit 2) |") in text


def test_the_limit_specs_are_at_their_limits():
    # bench --limits times every command on these: each must sit at (just under) its limit
    import pytest

    from mbcost import graph, spec

    b = _bench()
    specs = {limit: path for limit, _, path in b.limit_specs()}
    assert len(mbcost.analyze(specs["graph.MAX_LAYERS"]).rows) == graph.MAX_LAYERS
    work = graph.Work()
    with graph.sharing_work(work):
        mbcost.analyze(specs["graph.MAX_WORK"])
    assert 0.95 * graph.MAX_WORK <= work.used <= graph.MAX_WORK
    for name in ("spec.MAX_YAML_NODES", "spec.MAX_EXTENDS"):
        nodes = spec.NodeBudget()
        spec.load_spec(specs[name], _nodes=nodes)
        assert 0.99 * spec.MAX_YAML_NODES <= nodes.used <= spec.MAX_YAML_NODES, name
    size = Path(specs["spec.MAX_FILE_BYTES"]).stat().st_size
    assert 0.99 * spec.MAX_FILE_BYTES <= size <= spec.MAX_FILE_BYTES
    deep = Path(specs["spec.MAX_YAML_DEPTH"]).read_text()
    spec.parse_yaml(deep)  # at the limit ...
    with pytest.raises(spec.LimitError):  # ... and one level more is over it
        spec.parse_yaml(deep.replace("[relu]", "[[relu]]"))
    nested = mbcost.load_spec(specs["graph.MAX_NESTING"])
    assert len(nested.blocks) == graph.MAX_NESTING and mbcost.analyze(nested).rows
