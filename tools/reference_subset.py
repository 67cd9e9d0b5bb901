#!/usr/bin/env python3
"""Write tests/reference/torchvision_counts.json: the fields the test suite checks, taken from
the full output of tools/reference_counts.py (which needs torch; see tools/README.md).

This script needs only the standard library:

    python tools/reference_subset.py /path/to/reference_counts.json

It keeps, for each model in MODELS at each resolution the full file has (native and 160 px),
the parameter count, torchvision-convention conv+FC MACs, BatchNorm output elements,
torchvision's published metadata (native entries) and what each peer counter printed.
"""

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "reference" / "torchvision_counts.json"
SCRIPT = ROOT / "tools" / "reference_counts.py"

# the bundled baselines whose spec is exact against torchvision (tests/test_baselines.py)
MODELS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
          "wide_resnet50_2", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
          "densenet121", "regnet_y_400mf", "convnext_tiny", "mobilenet_v2", "mobilenet_v3_large",
          "efficientnet_b0", "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "squeezenet1_0",
          "squeezenet1_1", "googlenet", "googlenet_aux", "inception_v3", "inception_v3_aux",
          "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"]
# entries whose model has auxiliary heads (train-only): their aux parameters and the conv+FC
# MACs of the training graph (None where torch could not run it)
AUX = ("googlenet_aux", "inception_v3_aux")


def subset(full):
    """The suite's entries from the full reference file's dict."""
    out = []
    for e in full["entries"]:
        if e["model"] not in MODELS:
            continue
        p = e["peers"]
        item = {
            "model": e["model"], "resolution": e["resolution"],
            "native": e["native_resolution"],
            "params": e["params"],
            "conv_linear_macs": e["hooks_eval"]["conv_linear_macs"],
            "bn_out_elems": e["hooks_eval"]["bn_out_elems"],
            "peers": {
                "fvcore": {k: p["fvcore"][k] for k in
                           ("flops_total", "flops_by_operator", "flops_unsupported_ops",
                            "activations_total", "activations_by_operator")},
                "ptflops": {k: p["ptflops_pytorch"][k] for k in ("macs", "params")},
                "ptflops_aten": {k: p["ptflops_aten"][k] for k in ("macs", "params")},
                "thop": {k: p["thop"][k] for k in ("macs", "params")},
                "torchprofile": {"macs": p["torchprofile"]["macs"]},
                "torchinfo": {k: p["torchinfo"][k] for k in
                              ("total_mult_adds", "total_params", "input_size_bytes",
                               "forward_backward_pass_size_bytes", "params_size_bytes")},
            },
        }
        if e["model"] in AUX:
            train = e["hooks_train_graph"]
            item["aux"] = {"builder_kwargs": {k: v for k, v in e["builder_kwargs"].items()
                                              if k != "weights"},
                           "params_aux_heads": e["params_aux_heads"],
                           "train_conv_linear_macs": train.get("conv_linear_macs"),
                           "train_aux_head_macs": train.get("aux_head_macs"),
                           "train_error": train.get("error")}
        if e["native_resolution"]:
            default = next(w for w in e["torchvision_meta"]["weights"].values() if w["is_default"])
            item["published"] = {"num_params": default["num_params"],
                                 "ops_gflops": default["_ops_gflops"]}
        out.append(item)
    out.sort(key=lambda i: (MODELS.index(i["model"]), -i["resolution"]))
    missing = set(MODELS) - {i["model"] for i in out}
    if missing:
        sys.exit(f"not in the reference file: {', '.join(sorted(missing))}")
    return out


def main(path):
    full = json.loads(Path(path).read_text(encoding="utf-8"))
    script = SCRIPT.read_text(encoding="utf-8")
    if full["script"] != script:
        sys.exit(f"{path} was not made by {SCRIPT.relative_to(ROOT)} as committed")
    doc = {
        "source": {
            "script": "tools/reference_counts.py",
            "script_sha256": hashlib.sha256(script.encode("utf-8")).hexdigest(),
            "subset_by": "tools/reference_subset.py",
            "versions": {k: full["versions"][k] for k in
                         ("python", "torch", "torchvision", "fvcore", "ptflops", "thop",
                          "torchprofile", "torchinfo")},
            "how": "torchvision.models.<name>(weights=None), eval(), batch 1, 3-channel square "
                   "input at the native size and at 160 px. params = sum of parameter numels; "
                   "conv_linear_macs and bn_out_elems from forward hooks on every Conv2d, Linear "
                   "and BatchNorm2d; published = the default weights' num_params and _ops; "
                   "peers: fvcore FlopCountAnalysis, ptflops get_model_complexity_info (pytorch "
                   "and aten backends), thop.profile, torchprofile.profile_macs; fvcore "
                   "ActivationCountAnalysis (activations_*); torchinfo summary(..., mode='eval') "
                   "read from its ModelStatistics (total_mult_adds, total_params, "
                   "input_size_bytes = total_input, forward_backward_pass_size_bytes = "
                   "total_output_bytes, params_size_bytes = total_param_bytes).",
        },
        "entries": subset(full),
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(doc['entries'])} entries")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/reference_subset.py REFERENCE_COUNTS_JSON")
    main(sys.argv[1])
