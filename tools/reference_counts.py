#!/usr/bin/env python3
"""Reference counts (parameters, conv+FC MACs, peer-counter outputs) for
torchvision's classic CNNs, for the mbcost project (issues 11 and 12).

Run with the scratch venv:  nice -n 10 /work/refvenv/bin/python count_refs.py
Writes reference_counts.json next to this file (incrementally, after each entry).

Deterministic: weights=None everywhere (nothing is downloaded), torch.manual_seed(0)
before building each model, fixed input size, batch 1, eval mode.  Counts do not
depend on weight or input values.  torchvision's metadata is read from the weights
enum classes (no download).

Usage: count_refs.py [--only name[,name...]] [--no-peers-160] [--out PATH]
"""
import argparse
import contextlib
import copy
import io
import json
import os
import platform
import sys
import time
import traceback
import warnings
from importlib import metadata as importlib_metadata

import torch
import torch.nn as nn
import torchvision
from torchvision import models as tvm

HERE = os.path.dirname(os.path.abspath(__file__))

# (entry name, torchvision builder name, builder kwargs, native resolution)
MODELS = [
    ("alexnet", "alexnet", {}, 224),
    ("vgg11", "vgg11", {}, 224),
    ("vgg13", "vgg13", {}, 224),
    ("vgg16", "vgg16", {}, 224),
    ("vgg19", "vgg19", {}, 224),
    ("resnet18", "resnet18", {}, 224),
    ("resnet34", "resnet34", {}, 224),
    ("resnet50", "resnet50", {}, 224),
    ("resnet101", "resnet101", {}, 224),
    ("resnet152", "resnet152", {}, 224),
    ("resnext50_32x4d", "resnext50_32x4d", {}, 224),
    ("wide_resnet50_2", "wide_resnet50_2", {}, 224),
    ("googlenet", "googlenet", {"aux_logits": False}, 224),
    ("googlenet_aux", "googlenet", {"aux_logits": True, "init_weights": False}, 224),
    ("inception_v3", "inception_v3", {"aux_logits": False}, 299),
    ("inception_v3_aux", "inception_v3", {"aux_logits": True}, 299),
    ("squeezenet1_0", "squeezenet1_0", {}, 224),
    ("squeezenet1_1", "squeezenet1_1", {}, 224),
    ("shufflenet_v2_x0_5", "shufflenet_v2_x0_5", {}, 224),
    ("shufflenet_v2_x1_0", "shufflenet_v2_x1_0", {}, 224),
    ("shufflenet_v2_x1_5", "shufflenet_v2_x1_5", {}, 224),
    ("shufflenet_v2_x2_0", "shufflenet_v2_x2_0", {}, 224),
    ("mnasnet0_5", "mnasnet0_5", {}, 224),
    ("mnasnet0_75", "mnasnet0_75", {}, 224),
    ("mnasnet1_0", "mnasnet1_0", {}, 224),
    ("mnasnet1_3", "mnasnet1_3", {}, 224),
    ("densenet121", "densenet121", {}, 224),
    ("regnet_y_400mf", "regnet_y_400mf", {}, 224),
    ("convnext_tiny", "convnext_tiny", {}, 224),
    ("mobilenet_v2", "mobilenet_v2", {}, 224),
    ("mobilenet_v3_large", "mobilenet_v3_large", {}, 224),
    ("efficientnet_b0", "efficientnet_b0", {}, 224),
]
EXTRA_RES = 160
# module-name prefixes of auxiliary (training-only) heads
AUX_PREFIXES = ("aux1", "aux2", "AuxLogits")


def versions():
    out = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
    }
    for dist in ("fvcore", "ptflops", "thop", "torchprofile", "torchinfo", "numpy", "iopath"):
        try:
            out[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            out[dist] = None
    return out


def build(builder, kwargs):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = getattr(tvm, builder)(weights=None, **kwargs)
    m.eval()
    return m


def tv_meta(builder):
    enum = tvm.get_model_weights(builder)
    out = {"enum": enum.__name__, "weights": {}}
    for w in enum:
        meta = w.meta
        out["weights"][w.name] = {
            "num_params": meta.get("num_params"),
            "_ops_gflops": meta.get("_ops"),
            "_file_size_mb": meta.get("_file_size"),
            "min_size": list(meta["min_size"]) if "min_size" in meta else None,
            "is_default": w == enum.DEFAULT,
        }
    return out


def is_aux(name):
    return name.split(".")[0] in AUX_PREFIXES


def param_breakdown(model):
    cats = {"conv_weight": 0, "conv_bias": 0, "linear_weight": 0, "linear_bias": 0,
            "bn_weight_bias": 0, "layernorm_weight_bias": 0, "other": 0}
    other_names = []
    aux = 0
    for mname, mod in model.named_modules():
        for pname, p in mod.named_parameters(recurse=False):
            n = p.numel()
            full = f"{mname}.{pname}" if mname else pname
            if is_aux(full):
                aux += n
            if isinstance(mod, nn.Conv2d):
                cats["conv_weight" if pname == "weight" else "conv_bias"] += n
            elif isinstance(mod, nn.Linear):
                cats["linear_weight" if pname == "weight" else "linear_bias"] += n
            elif isinstance(mod, nn.modules.batchnorm._BatchNorm):
                cats["bn_weight_bias"] += n
            elif isinstance(mod, nn.LayerNorm):
                cats["layernorm_weight_bias"] += n
            else:
                cats["other"] += n
                other_names.append(f"{type(mod).__name__}:{full}")
    bn_stats = 0
    bn_layers = 0
    for mod in model.modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):
            bn_layers += 1
            bn_stats += mod.running_mean.numel() + mod.running_var.numel()
    # group "other" names so the JSON stays short
    other_kinds = {}
    for s in other_names:
        kind, full = s.split(":", 1)
        key = kind + ":" + full.rsplit(".", 1)[-1]
        other_kinds[key] = other_kinds.get(key, 0) + 1
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "params_trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "params_aux_heads": aux,
        "params_by_kind": cats,
        "params_other_tensors": other_kinds,
        "bn_layers": bn_layers,
        "bn_running_stat_elems": bn_stats,
        "buffers_total_elems": sum(b.numel() for b in model.buffers()),
    }


def hook_count(model, res, train_graph=False):
    """Conv2d/Linear MACs with forward hooks.
    Conv2d: out.numel() * (in_channels/groups) * kh * kw   (batch 1)
    Linear: (out.numel()/out_features) * in_features * out_features
            (= in*out per sample for 2-D input; ConvNeXt's channels-last Linear
            applies it once per spatial position)
    train_graph=True: model in train mode with every BatchNorm kept in eval mode
    (so batch 1 works), which makes GoogLeNet / Inception-v3 run their aux heads."""
    per_name = {}
    elems = {"conv_bias_add_elems": 0, "linear_bias_add_elems": 0, "bn_out_elems": 0,
             "conv_layers": 0, "linear_layers": 0}

    def conv_hook(mod, inp, out):
        kh, kw = mod.kernel_size
        macs = out.numel() * (mod.in_channels // mod.groups) * kh * kw
        per_name[mod._ref_name] = ("conv", macs)
        if mod.bias is not None:
            elems["conv_bias_add_elems"] += out.numel()

    def lin_hook(mod, inp, out):
        macs = (out.numel() // mod.out_features) * mod.in_features * mod.out_features
        per_name[mod._ref_name] = ("linear", macs)
        if mod.bias is not None:
            elems["linear_bias_add_elems"] += out.numel()

    def bn_hook(mod, inp, out):
        elems["bn_out_elems"] += out.numel()

    handles = []
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Conv2d):
            mod._ref_name = name
            handles.append(mod.register_forward_hook(conv_hook))
        elif isinstance(mod, nn.Linear):
            mod._ref_name = name
            handles.append(mod.register_forward_hook(lin_hook))
        elif isinstance(mod, nn.modules.batchnorm._BatchNorm):
            handles.append(mod.register_forward_hook(bn_hook))
    if train_graph:
        model.train()
        for mod in model.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                mod.eval()
    torch.manual_seed(1)
    x = torch.randn(1, 3, res, res)
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.eval()
    conv = sum(v for k, v in per_name.values() if k == "conv")
    lin = sum(v for k, v in per_name.values() if k == "linear")
    elems["conv_layers"] = sum(1 for k, _ in per_name.values() if k == "conv")
    elems["linear_layers"] = sum(1 for k, _ in per_name.values() if k == "linear")
    aux = {}
    for name, (_, v) in per_name.items():
        if is_aux(name):
            head = name.split(".")[0]
            aux[head] = aux.get(head, 0) + v
    return {"conv_macs": conv, "linear_macs": lin, "conv_linear_macs": conv + lin,
            "aux_head_macs": aux, **elems}


def _num(v):
    if isinstance(v, torch.Tensor):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def run_counter(fn):
    """Run one counter on a fresh deepcopy; capture its stdout/stderr and errors."""
    buf = io.StringIO()
    t0 = time.time()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = fn()
        res["ok"] = True
    except Exception as e:  # noqa: BLE001
        res = {"ok": False, "error": f"{type(e).__name__}: {e}",
               "traceback_tail": traceback.format_exc().strip().splitlines()[-6:]}
    out = buf.getvalue().strip()
    if out:
        lines = out.splitlines()
        res["captured_output_head"] = lines[:15]
        res["captured_output_lines"] = len(lines)
    res["seconds"] = round(time.time() - t0, 2)
    return res


def peers(model, res):
    out = {}
    torch.manual_seed(2)
    x = torch.randn(1, 3, res, res)

    def fv():
        from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis
        m = copy.deepcopy(model).eval()
        fca = FlopCountAnalysis(m, (x,))
        fca.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        total = fca.total()
        by_op = {k: _num(v) for k, v in sorted(fca.by_operator().items())}
        unsup = {k: int(v) for k, v in sorted(fca.unsupported_ops().items())}
        m = copy.deepcopy(model).eval()
        aca = ActivationCountAnalysis(m, (x,))
        aca.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        atotal = aca.total()
        aby = {k: _num(v) for k, v in sorted(aca.by_operator().items())}
        return {"flops_total": _num(total), "flops_by_operator": by_op,
                "flops_unsupported_ops": unsup,
                "activations_total": _num(atotal), "activations_by_operator": aby}
    out["fvcore"] = run_counter(fv)

    def ptf(backend):
        def f():
            from ptflops import get_model_complexity_info
            m = copy.deepcopy(model).eval()
            macs, params = get_model_complexity_info(
                m, (3, res, res), as_strings=False, backend=backend,
                print_per_layer_stat=False, verbose=False)
            if macs is None:
                raise RuntimeError("ptflops returned None (it caught an exception; see captured output)")
            return {"macs": _num(macs), "params": _num(params)}
        return f
    out["ptflops_pytorch"] = run_counter(ptf("pytorch"))
    out["ptflops_aten"] = run_counter(ptf("aten"))

    def th():
        import thop
        m = copy.deepcopy(model).eval()
        macs, params = thop.profile(m, inputs=(x,), verbose=False)
        return {"macs": _num(macs), "params": _num(params)}
    out["thop"] = run_counter(th)

    def tp():
        from torchprofile import profile_macs
        m = copy.deepcopy(model).eval()
        return {"macs": _num(profile_macs(m, x))}
    out["torchprofile"] = run_counter(tp)

    def ti():
        import torchinfo
        m = copy.deepcopy(model).eval()
        s = torchinfo.summary(m, input_size=(1, 3, res, res), verbose=0, device="cpu",
                              mode="eval")
        return {
            "total_mult_adds": _num(s.total_mult_adds),
            "total_params": _num(s.total_params),
            "trainable_params": _num(s.trainable_params),
            "input_size_bytes": _num(s.total_input),
            "forward_backward_pass_size_bytes": _num(s.total_output_bytes),
            "params_size_bytes": _num(s.total_param_bytes),
            "estimated_total_size_bytes": _num(s.total_input + s.total_output_bytes
                                               + s.total_param_bytes),
            "printed_MB": {
                "input_size": f"{s.total_input / 1e6:0.2f}",
                "forward_backward_pass_size": f"{s.total_output_bytes / 1e6:0.2f}",
                "params_size": f"{s.total_param_bytes / 1e6:0.2f}",
                "estimated_total_size": f"{(s.total_input + s.total_output_bytes + s.total_param_bytes) / 1e6:0.2f}",
            },
        }
    out["torchinfo"] = run_counter(ti)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    ap.add_argument("--no-peers-160", action="store_true")
    ap.add_argument("--out", default=os.path.join(HERE, "reference_counts.json"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    only = set(filter(None, args.only.split(",")))
    with open(os.path.abspath(__file__)) as f:
        script = f.read()
    doc = {
        "description": "Reference counts for torchvision models (weights=None, eval, batch 1, "
                       "3-channel square input). See README.md for every field.",
        "versions": versions(),
        "entries": [],
        "failures": [],
        "script_path": "count_refs.py",
        "script": script,
    }

    def save():
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, args.out)

    for entry, builder, kwargs, native in MODELS:
        if only and entry not in only:
            continue
        t0 = time.time()
        model = build(builder, kwargs)
        meta = tv_meta(builder)
        pb = param_breakdown(model)
        for res in (native, EXTRA_RES):
            rec = {"model": entry, "torchvision_builder": builder,
                   "builder_kwargs": {"weights": None, **kwargs},
                   "resolution": res, "native_resolution": res == native,
                   "input_shape": [1, 3, res, res]}
            rec.update(pb)
            try:
                rec["hooks_eval"] = hook_count(model, res)
            except Exception as e:  # noqa: BLE001
                rec["hooks_eval"] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
                doc["failures"].append(f"{entry}@{res}: own hooks (eval): {type(e).__name__}: {e}")
            if kwargs.get("aux_logits"):
                try:
                    rec["hooks_train_graph"] = hook_count(model, res, train_graph=True)
                except Exception as e:  # noqa: BLE001
                    rec["hooks_train_graph"] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
                    doc["failures"].append(
                        f"{entry}@{res}: own hooks (train graph with aux heads): {type(e).__name__}: {e}")
            rec["torchvision_meta"] = meta
            if res == native or not args.no_peers_160:
                rec["peers"] = peers(model, res)
                for k, v in rec["peers"].items():
                    if not v.get("ok"):
                        doc["failures"].append(f"{entry}@{res}: {k}: {v.get('error')}")
            doc["entries"].append(rec)
            save()
        print(f"{entry}: done in {time.time() - t0:.1f}s", flush=True)
    save()


if __name__ == "__main__":
    main()
