"""Validates a lookalike STIX export with the reference library, strictly.

    python3 validate_stix.py BUNDLE.json [HOSTILE.json]

BUNDLE.json is parsed by `stix2.parse(..., allow_custom=False)`: every object must be valid
STIX 2.1 (required properties, types, timestamps, vocabularies the library checks, and each
indicator's pattern through stix2-patterns). Beyond that it checks what the library does not:
every observable's id is the one STIX 2.1 derives from its value, every reference resolves
inside the bundle, and each indicator's pattern names exactly one domain-name value, which is
read back. HOSTILE.json, if given, is a list of {"name", "pattern"}: each pattern must make a
valid indicator whose one value reads back as the name, byte for byte.

Prints a JSON summary on stdout; exits non-zero (with the error on stderr) on any failure.
"""
import json
import re
import sys

import stix2
from stix2patterns.v21.pattern import Pattern


def literal(token):
    assert token[0] == "'" and token[-1] == "'", token
    return re.sub(r"\\(.)", r"\1", token[1:-1], flags=re.S)


def pattern_values(pattern):
    comparisons = Pattern(pattern).inspect().comparisons
    assert list(comparisons) == ["domain-name"], comparisons
    out = []
    for path, op, value in comparisons["domain-name"]:
        assert path == ["value"] and op == "=", (path, op)
        out.append(literal(value))
    return out


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    bundle = stix2.parse(text, allow_custom=False)
    objects = {o.id: o for o in bundle.objects}
    assert len(objects) == len(bundle.objects), "duplicate ids"
    types = {}
    indicators = {}
    relationships = []
    for o in bundle.objects:
        types[o.type] = types.get(o.type, 0) + 1
        if o.type in ("domain-name", "ipv4-addr", "ipv6-addr"):
            cls = {"domain-name": stix2.v21.DomainName, "ipv4-addr": stix2.v21.IPv4Address,
                   "ipv6-addr": stix2.v21.IPv6Address}[o.type]
            assert cls(value=o.value).id == o.id, f"{o.id} is not the id STIX derives from {o.value!r}"
        for ref in ("created_by_ref", "source_ref", "target_ref"):
            if ref in o:
                assert o[ref] in objects, f"{o.id}: {ref} {o[ref]} is not in the bundle"
        if o.type == "indicator":
            values = pattern_values(o.pattern)
            assert len(values) == 1, values
            indicators[o.id] = {
                "value": values[0], "name": o.name, "confidence": o.confidence,
                "valid_from": o.valid_from.isoformat(), "created": o.created.isoformat(),
                "modified": o.modified.isoformat(), "labels": list(o.get("labels", [])),
                "indicator_types": list(o.indicator_types), "description": o.description,
            }
        if o.type == "relationship":
            relationships.append([objects[o.source_ref].type, o.relationship_type,
                                  objects[o.target_ref].type])
    hostile = []
    if len(sys.argv) > 2:
        for case in json.load(open(sys.argv[2], encoding="utf-8")):
            ind = stix2.v21.Indicator(pattern=case["pattern"], pattern_type="stix",
                                      valid_from="2026-11-28T06:41:07Z", allow_custom=False)
            values = pattern_values(ind.pattern)
            assert values == [case["name"]], (values, case["name"])
            hostile.append(case["name"])
    json.dump({"objects": len(bundle.objects), "types": types, "indicators": indicators,
               "relationships": sorted(map(list, {tuple(r) for r in relationships})),
               "hostile_ok": len(hostile), "bundle_id": bundle.id}, sys.stdout)


if __name__ == "__main__":
    main()
