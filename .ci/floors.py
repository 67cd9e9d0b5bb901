"""Print the declared dependency floors as exact pins, one per line.

Reads pyproject.toml's runtime dependencies and the [test] and [onnx] extras and turns
each `name>=X` into `name==X`, so CI can install exactly the oldest versions mbcost
claims to support and run the suite (the ONNX tests included) against them.
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
pins = []
extras = project["optional-dependencies"]
for req in project["dependencies"] + extras["test"] + extras["onnx"]:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9.]*)\s*", req)
    if not m:
        sys.exit(f"floors.py: cannot read a floor from {req!r}; declare it as name>=X")
    pins.append(f"{m.group(1)}=={m.group(2)}")
print("\n".join(pins))
