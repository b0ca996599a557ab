#!/usr/bin/env python3
"""Checks recorded live API responses against the OpenAPI 3.1 document.

Usage: openapi_check.py <openapi.yaml> <responses.json>

`responses.json` is a list of {"method", "path" (the document's path template, e.g.
/api/reporter/clues/{id}), "status", "content_type" (or null), "headers" ({name: value},
lower-case names), "body" (the parsed JSON body, or null)}. Each response must be documented
for its operation and status, carry the documented content type, match the documented schema
(JSON Schema 2020-12 with the document's own $refs, formats checked) and carry the headers the
document requires. Prints every mismatch and exits 1 when there is one. Used by the tests
(`functions/intake/tests/openapi.rs`); jsonschema, referencing and PyYAML come with the venv's
pinned cfn-lint / aws-sam-translator.
"""
import json
import sys

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE = "urn:12336:openapi"


def pointer(*parts):
    return "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def main(doc_path, responses_path):
    with open(doc_path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    with open(responses_path, encoding="utf-8") as f:
        records = json.load(f)
    registry = Registry().with_resource(BASE, Resource.from_contents(doc, default_specification=DRAFT202012))
    components = doc.get("components", {}).get("responses", {})
    failures = []
    for r in records:
        what = f"{r['method']} {r['path']} → {r['status']}"
        op = doc.get("paths", {}).get(r["path"], {}).get(r["method"].lower())
        if op is None:
            failures.append(f"{what}: the operation is not documented")
            continue
        status = str(r["status"])
        responses = op.get("responses", {})
        key = status if status in responses else ("default" if "default" in responses else None)
        if key is None:
            failures.append(f"{what}: status not documented (documented: {sorted(responses)})")
            continue
        resp = responses[key]
        where = ("paths", r["path"], r["method"].lower(), "responses", key)
        if "$ref" in resp:
            name = resp["$ref"].rsplit("/", 1)[-1]
            resp = components[name]
            where = ("components", "responses", name)
        for name, h in (resp.get("headers") or {}).items():
            if h.get("required") and name.lower() not in r.get("headers", {}):
                failures.append(f"{what}: required header {name} missing")
        content = resp.get("content")
        if not content:
            continue
        ctype = (r.get("content_type") or "").split(";")[0].strip()
        if ctype not in content:
            failures.append(f"{what}: content type {ctype!r} not documented ({sorted(content)})")
            continue
        if "schema" not in content[ctype]:
            continue
        ref = BASE + "#/" + pointer(*where, "content", ctype, "schema")
        validator = Draft202012Validator(
            {"$ref": ref}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        for e in validator.iter_errors(r["body"]):
            at = "/".join(str(p) for p in e.absolute_path)
            failures.append(f"{what}: body at /{at}: {e.message[:300]}")
    for f in failures:
        print(f)
    print(f"{len(records)} responses checked, {len(failures)} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
