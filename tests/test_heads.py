"""Side outputs (the `head` kind, issue 11): a train-only head's mult-adds count only with
--train / train=True, its parameters always; every evaluator (exact, closed form, sweep
grid, memory model) agrees; the main path continues from the head's input.

Every expected number is derived by hand in the test from the spec in it (MobileNets §3:
conv D_K·D_K·M·N·D_F·D_F, FC M·N, params D_K·D_K·M·N (+ N bias)).
"""

import csv
import io
import json
import re
from pathlib import Path

import pytest

import mbcost
from mbcost import schemas
from mbcost.cli import main
from mbcost.grid import sweep
from mbcost.memory import memory_closed_form
from mbcost.symbols import alpha, rho

from clirunner import CliRunner
from minischema import errors
from test_schemas import undeclared

ROOT = Path(__file__).resolve().parent.parent

# c1: 3x3, 4 -> 8 on 8x8 (same): 9*4*8*64 mult-adds, 9*4*8 params
C1 = (9 * 4 * 8 * 64, 9 * 4 * 8)
# aux: global pool -> fc 8 -> 10 with bias: 8*10 mult-adds, 8*10 + 10 params
AUX = (8 * 10, 8 * 10 + 10)
# c2: 1x1, 8 -> 16 on 8x8, from c1 (not from the head): 8*16*64, 8*16
C2 = (8 * 16 * 64, 8 * 16)


def spec(head=None, **top):
    head = {"name": "aux", "layers": [{"pool": {"type": "global"}}, {"fc": {"out": 10}}],
            **(head or {})}
    return {"name": "h", "input": [8, 8, 4], **top, "layers": [
        {"conv": {"name": "c1", "k": 3, "out": 8}},
        {"head": head},
        {"conv": {"name": "c2", "k": 1, "out": 16}}]}


def without_head():
    d = spec()
    d["layers"].pop(1)
    return d


def test_eval_counts_the_heads_params_but_not_its_madds():
    a = mbcost.analyze(spec())
    assert (a.madds, a.params) == (C1[0] + C2[0], C1[1] + AUX[1] + C2[1])
    assert a.train is False
    fc = next(r for r in a.rows if r.name == "aux/fc1")
    assert (fc.madds, fc.params, fc.head, fc.op) == (0, AUX[1], "aux", "FC [train]")
    assert fc.madd_terms == {}  # nothing to weigh under any convention


def test_train_counts_the_heads_madds():
    a = mbcost.analyze(spec(), train=True)
    assert (a.madds, a.params) == (C1[0] + AUX[0] + C2[0], C1[1] + AUX[1] + C2[1])
    assert a.train is True
    assert next(r for r in a.rows if r.name == "aux/fc1").madds == AUX[0]


def test_the_main_path_continues_from_the_heads_input():
    a = mbcost.analyze(spec())
    c2 = next(r for r in a.rows if r.name == "c2")
    assert c2.input == (8, 8, 8)  # c1's output, not the head's 1x1x10
    assert [r.head for r in a.rows] == [None, "aux", "aux", None]


def test_a_head_that_is_not_train_only_always_counts():
    for train in (False, True):
        a = mbcost.analyze(spec({"train": False}), train=train)
        assert a.madds == C1[0] + AUX[0] + C2[0]
        assert next(r for r in a.rows if r.name == "aux/fc1").op == "FC [head]"


def test_when_leaves_the_head_out():
    d = spec({"when": "aux"}, vars={"aux": 0})
    a = mbcost.analyze(d, train=True)
    assert (a.madds, a.params) == (C1[0] + C2[0], C1[1] + C2[1])
    assert all(r.head is None for r in a.rows)
    d["vars"]["aux"] = 1
    assert mbcost.analyze(d).params == C1[1] + AUX[1] + C2[1]


def test_every_convention_leaves_an_eval_head_at_zero_madds():
    for conv in mbcost.CONVENTIONS:
        with_head = mbcost.analyze(spec(), convention=conv)
        base = mbcost.analyze(without_head(), convention=conv)
        assert with_head.madds == base.madds, conv
        held = {"weights": AUX[0], "thop": 0}.get(conv, AUX[1])  # thop: modules that ran
        assert with_head.params == base.params + held, conv
        trained = mbcost.analyze(spec(), convention=conv, train=True)
        assert trained.params == base.params + {"weights": AUX[0]}.get(conv, AUX[1]), conv


@pytest.mark.parametrize("train", [False, True])
def test_closed_form_agrees(train):
    f = mbcost.closed_form(spec(), train=train)
    assert f.exact_at_base
    # the FC's input channels scale with alpha: 8 alpha * 10
    assert f.madds.subs({alpha: 1, rho: 1}) == C1[0] + C2[0] + (AUX[0] if train else 0)
    assert ("FC [train]" in [k.type for k in f.by_kind()])


@pytest.mark.parametrize("train", [False, True])
def test_the_sweep_grid_agrees_with_analyze(train):
    alphas, resolutions = ["0.5", "1", "1.5"], [8, 12, 16]
    sw = sweep(spec(), alphas, resolutions, train=train)
    for p in sw.points:
        a = mbcost.analyze(spec(), alpha=p.alpha, resolution=p.resolution, train=train)
        assert (p.madds, p.params) == (a.madds, a.params)
    eval_pt, train_pt = (sweep(spec(), ["1"], [8], train=t).points[0] for t in (False, True))
    assert train_pt.madds - eval_pt.madds == AUX[0]


def test_the_training_context_reaches_every_evaluator():
    from mbcost.graph import training

    with training(True):
        assert mbcost.analyze(spec()).madds == C1[0] + AUX[0] + C2[0]
        assert sweep(spec(), ["1"], [8]).points[0].madds == C1[0] + AUX[0] + C2[0]
        # an explicit argument wins over the context
        assert mbcost.analyze(spec(), train=False).madds == C1[0] + C2[0]
    assert mbcost.analyze(spec()).madds == C1[0] + C2[0]


@pytest.mark.parametrize("model", ["eager", "fused", "streamed"])
def test_memory_in_eval_is_the_network_without_the_head_but_its_weights(model):
    mem = {"memory_model": model}
    a = mbcost.analyze(spec(), memory=mem)
    b = mbcost.analyze(without_head(), memory=mem)
    ta, tb = a.memory.totals(), b.memory.totals()
    assert ta["peak_act_bytes"] == tb["peak_act_bytes"]
    head_rows = [r for r in a.rows if r.head]
    assert all(r.mem.act_elems == r.mem.read_bytes == r.mem.write_bytes == 0 for r in head_rows)
    # fp32 weights: the FC's 90 parameters are stored, not read
    assert sum(r.mem.weight_bytes for r in head_rows) == 4 * AUX[1]
    assert sum(r.mem.traffic_bytes for r in a.rows) == sum(r.mem.traffic_bytes for r in b.rows)
    t = mbcost.analyze(spec(), memory=mem, train=True)
    # in training the head reads c1's output (8x8x8) and writes its own tensors
    assert sum(r.mem.traffic_bytes for r in t.rows) > sum(r.mem.traffic_bytes for r in a.rows)
    assert next(r for r in t.rows if r.name == "aux/fc1").mem.act_elems == 10


def test_memory_closed_form_agrees_with_the_exact_peak():
    from mbcost.graph import training

    for train in (False, True):
        with training(train):
            total, _ = memory_closed_form(spec(), "peak")
            exact = mbcost.analyze(spec(), memory=True).memory.totals()["peak_act_bytes"]
        assert total.subs({alpha: 1, rho: 1}) == exact


def test_a_head_inside_a_repeated_block_is_named_by_its_instance():
    d = {"name": "hb", "input": [8, 8, 4],
         "blocks": {"b": {"layers": [{"conv": {"name": "c", "k": 1, "out": 4}},
                                     {"head": {"name": "aux", "layers": [{"fc": {"out": 2}}]}}]}},
         "layers": [{"b": {"name": "s", "n": 2}}]}
    a = mbcost.analyze(d)
    assert [r.name for r in a.rows if r.head] == ["s.1/aux/fc1", "s.2/aux/fc1"]
    assert {r.head for r in a.rows if r.head} == {"s.1/aux", "s.2/aux"}
    # fc: 8*8*4 inputs -> 2, with bias; 0 mult-adds in eval
    assert a.madds == 2 * (4 * 4 * 64)
    assert a.params == 2 * (4 * 4 + 8 * 8 * 4 * 2 + 2)


def test_a_later_layer_cannot_use_a_heads_output():
    d = spec()
    d["layers"].append({"concat": {"from": ["c2", "aux/fc1"]}})
    with pytest.raises(mbcost.SpecError, match="is a layer of head 'aux'"):
        mbcost.analyze(d)


@pytest.mark.parametrize("fields, message", [
    ({"layers": []}, "must be a non-empty list of layers"),
    ({"layers": "relu"}, "must be a non-empty list of layers"),
    ({"train": "yes"}, "must be true or false"),
])
def test_bad_heads_are_refused_with_their_field(tmp_path, fields, message):
    path = tmp_path / "bad.yaml"
    layers = "[{pool: {type: global}}]" if "layers" not in fields else json.dumps(fields["layers"])
    train = f", train: {json.dumps(fields['train'])}" if "train" in fields else ""
    path.write_text("name: bad\ninput: [8, 8, 4]\nlayers:\n  - relu\n"
                    f"  - head: {{name: aux, layers: {layers}{train}}}\n")
    r = CliRunner().invoke(main, ["table", str(path)])
    assert r.exit_code == 2
    assert r.stderr.startswith(f"{path}:5: ") and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_head_example_in_the_docs():
    text = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- head-example[^>]*-->\s*```yaml\n(.*?)```", text, re.S)
    assert m, "docs/spec-format.md lost its <!-- head-example --> yaml block"
    import yaml

    d = yaml.safe_load(m.group(1))
    ev, tr = mbcost.analyze(d), mbcost.analyze(d, train=True)
    assert (ev.madds, tr.madds, ev.params) == (18432 + 8192, 18432 + 80 + 8192, 288 + 90 + 128)
    d["vars"]["aux"] = 0
    assert mbcost.analyze(d, train=True).params == 288 + 128


# ---------------------------------------------------------------- the CLI


@pytest.fixture()
def spec_file(tmp_path):
    path = tmp_path / "h.yaml"
    path.write_text(json.dumps(spec()))
    return str(path)


def _run(*args):
    r = CliRunner().invoke(main, list(args))
    assert r.exit_code == 0, r.stderr
    return r.stdout


def test_table_train_option_and_marked_rows(spec_file):
    ev = json.loads(_run("table", spec_file, "-f", "json"))
    tr = json.loads(_run("table", spec_file, "-f", "json", "--train"))
    assert (ev["train"], tr["train"]) == (False, True)
    assert (ev["totals"]["madds"], tr["totals"]["madds"]) == (C1[0] + C2[0], C1[0] + AUX[0] + C2[0])
    fc = next(x for x in ev["layers"] if x["name"] == "aux/fc1")
    assert (fc["head"], fc["op"], fc["madds"], fc["params"]) == ("aux", "FC [train]", 0, AUX[1])
    assert next(x for x in ev["layers"] if x["name"] == "c2")["head"] is None
    for data, schema in ((ev, schemas.table_json_schema()), (tr, schemas.table_json_schema())):
        assert errors(data, schema) == [] and undeclared(data, schema) == []
    kinds = json.loads(_run("table", spec_file, "--by", "kind", "--all", "-f", "json"))
    assert errors(kinds, schemas.by_kind_json_schema()) == []
    assert kinds["train"] is False
    assert {k["type"]: k["madds"] for k in kinds["kinds"]}["FC [train]"] == 0
    text = _run("table", spec_file)
    assert "FC [train]" in text and "not counted (--train counts them)" in text
    rows = list(csv.DictReader(io.StringIO(_run("table", spec_file, "-f", "csv"))))
    assert [r["head"] for r in rows] == ["", "aux", "aux", "", ""]  # the last: the total row


def test_outputs_of_a_network_without_heads_gain_nothing():
    data = json.loads(_run("table", "mobilenet_v1", "-f", "json"))
    assert "train" not in data and "head" not in data["layers"][0]
    assert _run("table", "mobilenet_v1", "--train") == _run("table", "mobilenet_v1")
    assert "head" not in _run("table", "mobilenet_v1", "-f", "csv").splitlines()[0]


@pytest.mark.parametrize("command", [
    ["formula"], ["sweep", "--alpha", "1", "--res", "8"], ["check", "--max-madds", "1G"],
    ["fit", "--max-madds", "30000", "--res", "8"]])
def test_every_costing_command_takes_train(spec_file, command):
    r = CliRunner().invoke(main, [command[0], spec_file, *command[1:], "--train"])
    assert r.exit_code == 0, r.stderr
    assert "--train" in CliRunner().invoke(main, [command[0], "--help"]).stdout


def test_formula_and_sweep_follow_train(spec_file):
    ev, tr = _run("formula", spec_file), _run("formula", spec_file, "--train")
    assert "80*alpha" not in ev and "80*alpha" in tr
    assert "train-only heads' mult-adds not counted (--train counts them)" in ev
    assert "train-only heads' mult-adds counted (--train)" in tr
    assert "train-only" not in _run("formula", "mobilenet_v1")
    fj = [json.loads(_run("formula", spec_file, "-f", "json", *flag)) for flag in ([], ["--train"])]
    assert (fj[0]["train"], fj[1]["train"]) == (False, True)
    assert "80*alpha" not in fj[0]["madds"] and "80*alpha" in fj[1]["madds"]
    assert "train" not in json.loads(_run("formula", "mobilenet_v1", "-f", "json"))
    ev = json.loads(_run("sweep", spec_file, "--alpha", "1", "--res", "8", "-f", "json"))
    tr = json.loads(_run("sweep", spec_file, "--alpha", "1", "--res", "8", "-f", "json", "--train"))
    assert tr["points"][0]["madds"] - ev["points"][0]["madds"] == AUX[0]


def test_check_follows_train(spec_file):
    limit = str(C1[0] + C2[0])  # met in eval, exceeded by the head's 80 in training
    assert CliRunner().invoke(main, ["check", spec_file, "--max-madds", limit]).exit_code == 0
    assert CliRunner().invoke(main, ["check", spec_file, "--max-madds", limit,
                                     "--train"]).exit_code == 1


def test_fit_follows_train(spec_file):
    # at alpha 1 the network costs C1 + C2 in eval, C1 + AUX + C2 in training: a limit of
    # C1 + C2 admits alpha 1 only in eval
    limit = str(C1[0] + C2[0])
    ev = json.loads(_run("fit", spec_file, "--max-madds", limit, "--res", "8", "-f", "json"))
    tr = json.loads(_run("fit", spec_file, "--max-madds", limit, "--res", "8", "-f", "json",
                         "--train"))
    assert ev["alpha"] >= 1 and tr["alpha"] < 1
    assert tr["next_up"] == {"alpha": 1, "resolution": 8, "madds": C1[0] + AUX[0] + C2[0],
                             "params": C1[1] + AUX[1] + C2[1]}


def test_compare_follows_train(spec_file, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(json.dumps(without_head()))
    for flag, extra in (([], 0), (["--train"], AUX[0])):
        d = json.loads(_run("compare", spec_file, str(other), "-f", "json", *flag))
        assert d["a"]["madds"] - d["b"]["madds"] == extra
        assert d["a"]["params"] - d["b"]["params"] == AUX[1]


def test_an_idle_head_that_could_not_run_at_this_size_still_holds_its_params():
    # torchvision's Inception-v3 at 160 px: AuxLogits' 5x5 conv would meet a 2x2 map, but in
    # eval the head does not run, so the model works and holds its parameters; training fails
    d = {"name": "small", "input": [4, 4, 8], "layers": [
        {"conv": {"name": "c", "k": 1, "out": 8}},
        {"head": {"name": "aux", "layers": [
            {"conv": {"name": "conv1", "k": 5, "padding": "valid", "out": 16}},
            {"pool": {"type": "global"}}, {"fc": {"out": 10}}]}}]}
    a = mbcost.analyze(d)
    # c: 8*8 params, 8*8*16 MACs; the head: 5*5*8*16 conv weights, fc 16*10 + 10
    assert (a.madds, a.params) == (8 * 8 * 16, 8 * 8 + 5 * 5 * 8 * 16 + 16 * 10 + 10)
    with pytest.raises(mbcost.SpecError, match="conv1"):
        mbcost.analyze(d, train=True)
