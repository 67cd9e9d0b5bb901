"""Small ONNX graphs for the tests, built with onnx.helper (no torch).

Weights are initializers whose data lives in an external file that does not exist, as
in a model whose weights were stripped: mbcost reads their dimensions only.
"""

import os

import pytest

# CI (.ci/run) sets MBCOST_TEST_ONNX=1: there the onnx extra must be installed and every
# ONNX test runs; elsewhere (a venv without the optional extra) they are skipped
if os.environ.get("MBCOST_TEST_ONNX") == "1":
    import onnx
else:
    onnx = pytest.importorskip("onnx")

from onnx import TensorProto, helper  # noqa: E402

F = TensorProto.FLOAT


def weight(name, dims):
    """An initializer of the given dims whose values are in a missing external file."""
    t = TensorProto(name=name, data_type=F, dims=list(dims))
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", str(4 * _prod(dims)))):
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def ints(name, values):
    """A small int64 initializer stored in the file (shapes, axes, pads)."""
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], list(values))


def floats(name, values, dims=None):
    """A small float initializer stored in the file (Clip bounds...)."""
    return helper.make_tensor(name, F, [] if dims is None else dims, list(values))


def _prod(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def node(op, inputs, outputs, name=None, **attrs):
    """onnx.helper.make_node with a default name."""
    return helper.make_node(op, list(inputs), list(outputs), name=name or outputs[0], **attrs)


def model(nodes, inits=(), shape=(1, 3, 32, 32), outputs=("y",), opset=17, extra_inputs=()):
    """A ModelProto with one float input 'x' of shape (None or a str = dynamic)."""
    dims = [d if isinstance(d, int) else (d or "dyn") for d in shape]
    x = helper.make_tensor_value_info("x", F, dims)
    outs = [helper.make_tensor_value_info(o, F, None) for o in outputs]
    ins = [x] + [helper.make_tensor_value_info(n, F, [1, 3, 8, 8]) for n in extra_inputs]
    g = helper.make_graph(list(nodes), "g", ins, outs, initializer=list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                             producer_name="mbcost-tests")


def save(tmp_path, m, name="net.onnx"):
    """Write a model (or raw bytes) and return its path as text."""
    p = tmp_path / name
    p.write_bytes(m if isinstance(m, bytes) else m.SerializeToString())
    return str(p)


def conv(x, y, c_in, c_out, k, inits, name=None, bias=True, group=1, **attrs):
    """A Conv node y = conv(x) with its weight (and bias) initializers appended to inits."""
    name = name or y
    kh, kw = (k, k) if isinstance(k, int) else k
    inits.append(weight(f"{name}.w", (c_out, c_in // group, kh, kw)))
    ins = [x, f"{name}.w"]
    if bias:
        inits.append(weight(f"{name}.b", (c_out,)))
        ins.append(f"{name}.b")
    return node("Conv", ins, [y], name=name, kernel_shape=[kh, kw], group=group, **attrs)


def bn(x, y, c, inits, name=None):
    """A BatchNormalization node with its four parameter initializers."""
    name = name or y
    for p in ("scale", "bias", "mean", "var"):
        inits.append(weight(f"{name}.{p}", (c,)))
    return node("BatchNormalization", [x] + [f"{name}.{p}" for p in ("scale", "bias", "mean", "var")],
                [y], name=name)


RANDOM_OPS = ("Conv", "Relu", "Add", "Mul", "Concat", "GlobalAveragePool", "MaxPool", "AveragePool",
              "BatchNormalization", "Gemm", "Flatten", "Reshape", "Transpose", "Sigmoid", "Clip", "Pad",
              "Slice", "Split", "ReduceMean", "Identity", "Dropout", "Gather", "Unsqueeze", "Squeeze",
              "HardSigmoid", "MatMul", "Softmax", "Erf", "GlobalMaxPool", "ReduceMax", "Gelu", "Div",
              "Pow", "Sub", "LayerNormalization")


def random_graph(rng):
    """A small random graph over RANDOM_OPS with plausible and implausible attributes
    (wrong channel counts, odd axes, dead branches): input for robustness tests."""
    inits, nodes, tensors, chans = [], [], ["x"], {"x": 3}
    for i in range(rng.randint(1, 12)):
        op = rng.choice(RANDOM_OPS)
        a, b, y = rng.choice(tensors), rng.choice(tensors), f"t{i}"
        c, k = rng.choice([1, 2, 3, 4, 8]), rng.choice([1, 2, 3, 5])
        ins, attrs = [a], {}
        if op == "Conv":
            g = max(rng.choice([1, 1, chans.get(a, 3)]), 1)
            kw = rng.choice([k, k, k, 1, 7])  # now and then a rectangular kernel
            inits.append(weight(f"w{i}", (c * g if rng.random() < 0.5 else c, max(chans.get(a, 3) // g, 1), k, kw)))
            ins = [a, f"w{i}"]
            if rng.random() < 0.5:
                inits.append(weight(f"b{i}", (c,)))
                ins.append(f"b{i}")
            attrs = dict(kernel_shape=[k, kw], group=g, strides=[rng.choice([1, 2])] * 2,
                         pads=[rng.choice([0, 1, 2])] * 4)
            if rng.random() < 0.2:
                attrs["dilations"] = rng.choice([[2, 2], [1, 2]])
            if rng.random() < 0.2:  # strides and pads per axis
                attrs.update(strides=[rng.choice([1, 2]), rng.choice([1, 2])],
                             pads=[rng.choice([0, 1])] * 2 + [rng.choice([0, 1, 3])] * 2)
            if rng.random() < 0.2:
                attrs = dict(kernel_shape=[k, kw], group=g, auto_pad=rng.choice(["SAME_UPPER", "VALID"]))
        elif op in ("Add", "Mul", "Concat", "Div", "Sub"):
            ins = [a, b]
            attrs = dict(axis=rng.choice([1, 1, 0, -1])) if op == "Concat" else {}
        elif op in ("MaxPool", "AveragePool"):
            attrs = dict(kernel_shape=[k, k], strides=[rng.choice([1, 2])] * 2,
                         pads=[rng.choice([0, 1])] * 4, ceil_mode=rng.choice([0, 1]))
        elif op == "BatchNormalization":
            inits += [weight(f"{p}{i}", (chans.get(a, 3),)) for p in "sbmv"]
            ins = [a] + [f"{p}{i}" for p in "sbmv"]
        elif op in ("Gemm", "MatMul"):
            inits.append(weight(f"w{i}", (rng.choice([3, 8, 3 * 32 * 32]), c)))
            ins = [a, f"w{i}"]
            attrs = dict(transB=1) if op == "Gemm" and rng.random() < 0.5 else {}
        elif op == "Reshape":
            inits.append(ints(f"s{i}", rng.choice([[1, -1], [1, 3, 32, 32], [0, -1, 1, 1], [-1],
                                                   [1, 2, -1, 32, 32]])))
            ins = [a, f"s{i}"]
        elif op == "Transpose":
            attrs = dict(perm=rng.choice([[0, 2, 3, 1], [0, 3, 1, 2], [0, 1, 3, 2], [1, 0, 2, 3]]))
        elif op == "Clip":
            inits += [floats(f"lo{i}", [0.0]), floats(f"hi{i}", [rng.choice([6.0, 1.0])])]
            ins = [a, f"lo{i}", f"hi{i}"]
        elif op == "Pad":
            inits.append(ints(f"p{i}", rng.choice([[0, 0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 0, 0, 1, 0],
                                                   [1, 0, 0, 0, 0, 0, 0, 0]])))
            ins = [a, f"p{i}"]
        elif op == "Slice":
            inits += [ints(f"st{i}", [0]), ints(f"en{i}", [rng.choice([1, 2, 100])]),
                      ints(f"ax{i}", [rng.choice([1, 2, 3, 0])])]
            ins = [a, f"st{i}", f"en{i}", f"ax{i}"]
        elif op == "Split":
            nodes.append(node("Split", [a], [y, y + "b"], axis=rng.choice([1, 2])))
            tensors += [y, y + "b"]
            chans[y] = chans[y + "b"] = chans.get(a, 3) // 2
            continue
        elif op == "Pow":
            inits.append(floats(f"e{i}", [rng.choice([2.0, 3.0])]))
            ins = [a, f"e{i}"]
        elif op == "LayerNormalization":
            inits += [weight(f"ga{i}", (rng.choice([chans.get(a, 3), 3]),)), weight(f"be{i}", (chans.get(a, 3),))]
            ins, attrs = [a, f"ga{i}", f"be{i}"], dict(axis=rng.choice([-1, 1]))
        elif op in ("ReduceMean", "ReduceMax"):
            attrs = dict(axes=rng.choice([[2, 3], [1], [2]]), keepdims=rng.choice([0, 1]))
        elif op == "Gather":
            inits.append(ints(f"gi{i}", [0]))
            ins, attrs = [a, f"gi{i}"], dict(axis=0)
        elif op in ("Unsqueeze", "Squeeze"):
            inits.append(ints(f"ua{i}", [rng.choice([0, 2, 4, -1])]))
            ins = [a, f"ua{i}"]
        elif op == "Softmax":
            attrs = dict(axis=1)
        nodes.append(node(op, ins, [y], **attrs))
        tensors.append(y)
        chans[y] = c if op in ("Conv", "Gemm", "MatMul") else chans.get(a, 3)
    nodes.append(node("Identity", [tensors[-1]], ["y"]))
    shape = rng.choice([(1, 3, 32, 32), (None, 3, "h", "w"), (1, 3, 7, 9)])
    return model(nodes, inits, shape=shape, opset=rng.choice([13, 17, 18]))
