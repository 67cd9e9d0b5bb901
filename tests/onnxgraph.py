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
