"""A tiny JSON Schema (draft 2020-12) validator for the subset mbcost's schemas use.

Supported: $ref (local #/...), type, const, enum, properties, required,
additionalProperties, items, minItems, maxItems, minProperties, maxProperties,
propertyNames, pattern, minimum, anyOf, oneOf, not. Annotations (title,
description, default, $schema) are ignored; any other keyword is an error, so a
schema can never pass by using something this validator does not check.
"""

import re

ANNOTATIONS = {"$schema", "$defs", "title", "description", "default", "examples"}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def _same(a, b):
    """JSON equality: true is not 1, 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def errors(value, schema, root=None, where="$"):
    """Every way value fails schema, as 'PATH: problem' strings (empty list: valid)."""
    root = schema if root is None else root
    if schema is True:
        return []
    if schema is False:
        return [f"{where}: not allowed"]
    out = []
    for key, sub in schema.items():
        if key in ANNOTATIONS:
            continue
        if key == "$ref":
            assert sub.startswith("#/"), sub
            target = root
            for part in sub[2:].split("/"):
                target = target[part]
            out += errors(value, target, root, where)
        elif key == "type":
            names = [sub] if isinstance(sub, str) else sub
            if not any(TYPES[n](value) for n in names):
                out.append(f"{where}: expected {'/'.join(names)}, got {value!r}")
        elif key == "const":
            if not _same(value, sub):
                out.append(f"{where}: expected {sub!r}, got {value!r}")
        elif key == "enum":
            if not any(_same(value, e) for e in sub):
                out.append(f"{where}: {value!r} not one of {sub!r}")
        elif key == "properties":
            if isinstance(value, dict):
                for k, s in sub.items():
                    if k in value:
                        out += errors(value[k], s, root, f"{where}.{k}")
        elif key == "required":
            if isinstance(value, dict):
                out += [f"{where}: missing required '{k}'" for k in sub if k not in value]
        elif key == "additionalProperties":
            if isinstance(value, dict):
                known = schema.get("properties", {})
                for k, v in value.items():
                    if k not in known:
                        out += errors(v, sub, root, f"{where}.{k}") if sub is not False else [
                            f"{where}: unknown property '{k}'"]
        elif key == "propertyNames":
            if isinstance(value, dict):
                for k in value:
                    out += errors(k, sub, root, f"{where}[name {k!r}]")
        elif key == "items":
            if isinstance(value, list):
                for i, v in enumerate(value):
                    out += errors(v, sub, root, f"{where}[{i}]")
        elif key in ("minItems", "minProperties"):
            if isinstance(value, (list, dict)) and len(value) < sub:
                out.append(f"{where}: fewer than {sub} items")
        elif key in ("maxItems", "maxProperties"):
            if isinstance(value, (list, dict)) and len(value) > sub:
                out.append(f"{where}: more than {sub} items")
        elif key == "pattern":
            if isinstance(value, str) and not re.search(sub, value):
                out.append(f"{where}: {value!r} does not match {sub}")
        elif key == "minimum":
            if TYPES["number"](value) and value < sub:
                out.append(f"{where}: {value} < {sub}")
        elif key == "anyOf":
            if not any(not errors(value, s, root, where) for s in sub):
                out.append(f"{where}: matches none of {len(sub)} alternatives ({value!r:.60})")
        elif key == "oneOf":
            n = sum(not errors(value, s, root, where) for s in sub)
            if n != 1:
                out.append(f"{where}: matches {n} of the oneOf alternatives, not exactly 1")
        elif key == "not":
            if not errors(value, sub, root, where):
                out.append(f"{where}: matches a schema it must not match")
        else:
            raise ValueError(f"minischema does not support the keyword {key!r}")
    return out


def keywords(schema):
    """Every keyword used anywhere in schema (to check this validator covers them)."""
    found = set()
    if isinstance(schema, dict):
        for k, v in schema.items():
            found.add(k)
            if k in ("properties", "$defs"):
                for s in v.values():
                    found |= keywords(s)
            elif k in ("const", "enum", "default", "examples", "required"):
                continue
            elif isinstance(v, (dict, list)):
                found |= keywords(v)
    elif isinstance(schema, list):
        for s in schema:
            found |= keywords(s)
    return found
