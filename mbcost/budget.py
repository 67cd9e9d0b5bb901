"""Budgets: check a spec's totals against limits (check_budget), and budget files of
many checks (load_budget, check_budget_file)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .cost import CONVENTIONS, DEFAULT_CONVENTION, analyze, parse_alpha, parse_rho
from .errors import BudgetFileError, LimitError, SpecError, UsageError, show
from .graph import MAX_WORK, Work, sharing_work
from .spec import (NodeBudget, exists, key_line, line_of, load_spec, parse_yaml, read_text,
                   sharing_nodes, suggest)
from .memory_budget import BUDGET_KEYS as MEMORY_BUDGET_KEYS, budget_memory
from .units import QUANTITIES, parse_quantity

MAX_CHECKS = 1_000  # checks in one budget file (which, with its specs, shares one YAML node
# budget, spec.MAX_YAML_NODES, and one expansion budget, graph.MAX_WORK)
# budget, spec.MAX_YAML_NODES, and one expansion budget, graph.MAX_WORK)

# ---------------------------------------------------------------- check

@dataclass
class LimitCheck:
    """One limit against one value: headroom > 0 is room left, < 0 is the excess."""

    quantity: str
    limit: int
    value: int

    @property
    def ok(self):
        """Within the limit (equal is within)."""
        return self.value <= self.limit

    @property
    def headroom(self):
        """limit - value."""
        return self.limit - self.value

    @property
    def headroom_pct(self):
        """Headroom as a percentage of the limit."""
        return 100.0 * self.headroom / self.limit


@dataclass
class Contributor:
    """A layer among those contributing most to a quantity."""

    name: str
    op: str
    value: int
    share: float


@dataclass
class BudgetResult:
    """A spec at one setting checked against its limits."""

    model: str
    title: str
    spec_path: str
    alpha: Fraction
    resolution: int
    input: tuple
    convention: str
    checks: list  # LimitCheck
    top: dict  # quantity -> [Contributor]

    @property
    def ok(self):
        """Every limit met."""
        return all(c.ok for c in self.checks)


def check_budget(spec, limits, alpha=1, resolution=None, rho=None,
                 convention=DEFAULT_CONVENTION, top=3, memory=None):
    """Check spec at (alpha, resolution) against limits {'madds': n, 'params': n}.

    memory: {'limits': memory_budget.memory_limits(...), 'settings': memory settings}.
    Over budget is a result (``BudgetResult.ok`` false), not an exception."""
    mem_limits = (memory or {}).get("limits") or {}
    limits = _limits(limits, allow_empty=bool(mem_limits))
    a = analyze(spec, alpha=alpha, resolution=resolution, rho=rho, convention=convention,
                memory=memory["settings"] if mem_limits else None)
    checks = [LimitCheck(q, limits[q], getattr(a, q)) for q in QUANTITIES if q in limits]
    contrib = {}
    for c in checks:
        total = getattr(a, c.quantity)
        rows = sorted((r for r in a.rows if getattr(r, c.quantity)),
                      key=lambda r: -getattr(r, c.quantity))[:max(0, top)]
        contrib[c.quantity] = [Contributor(r.name, r.op, getattr(r, c.quantity),
                                           100.0 * getattr(r, c.quantity) / total if total else 0.0)
                               for r in rows]
    if mem_limits:
        from .memory_budget import MEMORY_QUANTITIES, top_layers, values

        got = values(a)
        for q in MEMORY_QUANTITIES:
            if q in mem_limits:
                checks.append(LimitCheck(q, mem_limits[q], got[q]))
                contrib[q] = [Contributor(*t) for t in top_layers(a, q, top)]
    shown = spec if isinstance(spec, str) else str(a.spec_path)  # as the user named it
    return BudgetResult(a.model, a.title, shown, a.alpha_exact, a.resolution, a.input,
                        a.convention, checks, contrib)


def _limits(limits, allow_empty=False):
    if limits is not None and not isinstance(limits, dict):
        raise UsageError(f"limits are a mapping like {{'madds': '150M'}} (got {show(limits)})")
    out = {}
    for q, v in (limits or {}).items():
        if q not in QUANTITIES:
            raise UsageError(f"unknown limit {show(q)}; one of {', '.join(QUANTITIES)}")
        if v is not None:
            out[q] = parse_quantity(v, f"--max-{q}")
    if not out and not allow_empty:
        raise UsageError("give at least one limit (--max-madds or --max-params)")
    return out


# ---------------------------------------------------------------- budget files

BUDGET_KEYS = ("spec", "alpha", "res", "resolution", "rho", "convention", "max_madds",
               "max_params", *MEMORY_BUDGET_KEYS)


@dataclass
class BudgetEntry:
    """One spec and setting with its limits, from a budget file."""

    spec: str
    alpha: object
    resolution: int | None
    rho: object
    convention: str
    limits: dict
    line: int | None = None
    spec_line: int | None = None
    memory: dict | None = None  # check_budget's memory= (memory and latency limits)


def load_budget(path):
    """Parse a budget file into BudgetEntry objects; errors carry FILE:LINE.

    Format::

        convention: paper          # optional default for every check
        checks:
          - spec: mobilenet_v1     # bundled name, or a path relative to this file
            alpha: 0.5
            res: 160
            max_madds: 150M
            max_params: 2M
    """
    if not isinstance(path, (str, os.PathLike)):
        raise UsageError(f"a budget file is a path (got {show(path)})")
    shown = os.fspath(path)
    try:
        text = read_text(path)
        data = parse_yaml(text, shown)
    except SpecError as e:
        raise BudgetFileError(e.message, path=e.path or shown, line=e.line, got=e.got) from None
    if not isinstance(data, dict) or "checks" not in data:
        raise BudgetFileError("a budget file is a mapping with a 'checks' list", path=shown,
                              line=line_of(data))
    for k in data:
        if k not in ("checks", "convention", "mbcost"):
            raise BudgetFileError(f"unknown top-level field{suggest(k, ('checks', 'convention'))}",
                                  path=shown, line=line_of(data, k), field=str(k))
    default_conv = data.get("convention", DEFAULT_CONVENTION)
    _budget_convention(default_conv, shown, line_of(data, "convention"))
    checks = data["checks"]
    if not isinstance(checks, list) or not checks:
        raise BudgetFileError("must be a non-empty list of checks", path=shown,
                              line=line_of(data, "checks"), field="checks")
    if len(checks) > MAX_CHECKS:
        raise LimitError(f"more than {MAX_CHECKS} checks", path=shown, line=key_line(data, "checks"),
                         field="checks")
    out = []
    for i, item in enumerate(checks):
        line = line_of(checks, i)
        if not isinstance(item, dict):
            raise BudgetFileError("a check is a mapping like {spec: mobilenet_v1, max_madds: 150M}",
                                  path=shown, line=line, got=item)
        raw = checks[i]
        item = {}
        for k, v in raw.items():
            key = str(k).replace("-", "_")
            if key in item:
                raise BudgetFileError(f"'{k}' repeats another spelling of '{key}'", path=shown,
                                      line=line_of(raw, k), field=str(k))
            item[key] = v

        def where(key):
            for k in raw:
                if str(k).replace("-", "_") == key:
                    return line_of(raw, k)
            return line

        for k in item:
            if k not in BUDGET_KEYS:
                raise BudgetFileError(f"unknown field{suggest(k, BUDGET_KEYS)}", path=shown,
                                      line=where(k), field=k)
        spec = item.get("spec")
        if not isinstance(spec, str) or not spec:
            raise BudgetFileError("each check needs 'spec': a bundled name or a path", path=shown,
                                  line=where("spec"), field="spec", got=spec)
        if "\0" in spec or len(spec) > 4096:
            raise BudgetFileError("not a usable spec name or path", path=shown, line=where("spec"),
                                  field="spec", got=spec)
        sibling = Path(shown).parent / spec
        if not Path(spec).is_absolute() and exists(sibling):
            spec = str(sibling)
        limits = {}
        for q in QUANTITIES:
            key = f"max_{q}"
            if key in item:
                try:
                    limits[q] = parse_quantity(item[key], key)
                except UsageError as e:
                    raise BudgetFileError(str(e).split(": ", 1)[1], path=shown, line=where(key),
                                          field=key) from None
        memory = budget_memory(item, where, shown)
        if not limits and memory is None:
            raise BudgetFileError("each check needs max_madds and/or max_params", path=shown,
                                  line=line, field="max_madds")
        if "res" in item and "resolution" in item:
            raise BudgetFileError("give res or resolution, not both", path=shown,
                                  line=where("resolution"), field="resolution")
        res = item.get("res", item.get("resolution"))
        if res is not None and (isinstance(res, bool) or not isinstance(res, int) or res < 1):
            key = "res" if "res" in item else "resolution"
            raise BudgetFileError("must be a positive integer", path=shown, line=where(key),
                                  field=key, got=res)
        conv = item.get("convention", default_conv)
        _budget_convention(conv, shown, where("convention"))
        try:
            alpha = parse_alpha(item.get("alpha", 1))
            rho = parse_rho(item["rho"]) if item.get("rho") is not None else None
        except UsageError as e:
            key = "alpha" if str(e).startswith("alpha") else "rho"
            raise BudgetFileError(str(e), path=shown, line=where(key), field=key) from None
        out.append(BudgetEntry(spec, alpha, res, rho, conv, limits, line, where("spec"), memory))
    return out


def _budget_convention(name, path, line):
    if not isinstance(name, str) or name not in CONVENTIONS:
        raise BudgetFileError(f"unknown convention; one of {', '.join(CONVENTIONS)}", path=path,
                              line=line, field="convention", got=name)


def check_budget_file(path, top=3):
    """Check every entry of a budget file; a list of BudgetResult.

    The budget file and every spec it names draw from one YAML node budget and one
    expansion budget (spec.MAX_YAML_NODES, graph.MAX_WORK: what one spec may use), so
    a thousand aliases of a large check end early; each spec is read once. A spec path
    must be a regular file, and one that is not a spec is not shown (spec.load_spec)."""
    nodes = NodeBudget()
    with sharing_nodes(nodes):
        entries = load_budget(path)
    work = Work(MAX_WORK, f"the checks need more than {MAX_WORK} steps to expand in total "
                          "(layers, expression terms, repeats, branches, merge inputs, copied values)")
    results, specs = [], {}
    with sharing_nodes(nodes), sharing_work(work):
        for e in entries:
            try:
                if e.spec not in specs:
                    specs[e.spec] = load_spec(e.spec, _named_by_a_file=True)
                results.append(check_budget(specs[e.spec], e.limits, e.alpha, e.resolution, e.rho,
                                            e.convention, top, e.memory))
                results[-1].spec_path = e.spec  # as the budget file names it
            except UsageError as err:
                raise BudgetFileError(str(err), path=str(path), line=e.line) from None
            except SpecError as err:
                if work.used > work.limit:
                    raise BudgetFileError(work.what, path=str(path), line=e.line) from None
                if str(err.path) not in (e.spec, str(Path(e.spec))) or err.line is not None:
                    raise  # an error inside the spec file: it names that file and line
                raise BudgetFileError(err.message, path=str(path), line=e.spec_line, field="spec",
                                      got=e.spec) from None
    return results
