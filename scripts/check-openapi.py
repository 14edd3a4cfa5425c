#!/usr/bin/python3
"""Holds docs/openapi.yaml to the server's route table, both ways.

The route table comes from the real binary (`hwc3d routes`: method, pattern,
access, rate-limit class, body kind and handler name).  For every route the
document must have the operation, and every documented operation must be a
route.  Each operation must also carry:

  operationId  the route's C handler name;
  security     what the access flag enforces: `[]` for public routes,
               `[{}, {bearer: []}]` for optional ones (a token, when sent,
               must be valid), `[{bearer: []}]` for user, verified and admin;
  responses    the 4xx the route can answer (dispatcher and handler):
               401 and 403 where a token is looked at (invalid token; banned
               account, missing role or unverified email), 429 where a rate
               limit applies, 404 where the path has parameters (and 422
               where one must be an integer),
               400/413/415/422 where a JSON or multipart body is read, 422
               where query parameters are read.

Usage: scripts/check-openapi.py [--binary build/test/hwc3d] [--doc docs/openapi.yaml]
Exit status 0 when they agree, 1 with every difference listed, 2 when the
route table cannot be had.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEME = "bearer"
SECURITY = {
    "public": [],
    "optional": [{}, {SCHEME: []}],
    "user": [{SCHEME: []}],
    "verified": [{SCHEME: []}],
    "admin": [{SCHEME: []}],
}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def route_table(binary):
    """`hwc3d routes`, run in an empty directory (no .env, no data)."""
    with tempfile.TemporaryDirectory(prefix="hwc3d-routes.") as d:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATA_DIR": d}
        try:
            p = subprocess.run([binary, "routes"], capture_output=True, text=True, cwd=d, env=env,
                               timeout=60)
        except OSError as e:
            print(f"check-openapi: cannot run {binary}: {e} (make test-build first)", file=sys.stderr)
            sys.exit(2)
    if p.returncode != 0:
        print(f"check-openapi: `{binary} routes` failed ({p.returncode}): {p.stderr.strip()}", file=sys.stderr)
        sys.exit(2)
    return json.loads(p.stdout)


def doc_path(pattern):
    """/api/models/{id:int} -> /api/models/{id}"""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", pattern)


def resolve(doc, node):
    """Follows a local $ref (#/components/...)."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"non-local $ref {ref}")
        node = doc
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def parameters(doc, path_item, op):
    return [resolve(doc, p) for p in path_item.get("parameters", []) + op.get("parameters", [])]


def required_responses(doc, route, path_item, op):
    """The 4xx codes the dispatcher can answer on this route, with why."""
    need = {}
    if route["access"] != "public":
        need["401"] = "a token is looked at"
        need["403"] = ("a banned account" if route["access"] in ("optional", "user") else
                       "an unverified email" if route["access"] == "verified" else "no admin role")
    if route["rate_limit"] != "none":
        need["429"] = f"rate-limit class {route['rate_limit']}"
    if "{" in route["path"]:
        need["404"] = "a path parameter names something that may not exist"
    if ":int}" in route["path"]:
        need["422"] = "an {x:int} path parameter may not be a positive integer"
    if route["body"] in ("json", "multipart"):
        for code in ("400", "413", "415", "422"):
            need.setdefault(code, f"a {route['body']} body is read")
    if any(p.get("in") == "query" for p in parameters(doc, path_item, op)):
        need.setdefault("422", "query parameters are read")
    return need


def check(routes, doc):
    problems = []
    documented = {}
    for path, item in (doc.get("paths") or {}).items():
        for method in METHODS:
            if method in item:
                documented[(method.upper(), path)] = item[method]

    seen_ids = {}
    for (method, path), op in documented.items():
        oid = op.get("operationId")
        if oid in seen_ids:
            problems.append(f"{method} {path}: operationId {oid} is also used by {seen_ids[oid]}")
        elif oid:
            seen_ids[oid] = f"{method} {path}"

    in_table = set()
    for route in routes:
        key = (route["method"], doc_path(route["path"]))
        in_table.add(key)
        where = f"{route['method']} {route['path']}"
        op = documented.get(key)
        if op is None:
            problems.append(f"{where}: in the route table, missing from the document")
            continue
        if not route.get("handler"):
            problems.append(f"{where}: `hwc3d routes` could not name the handler")
        elif op.get("operationId") != route["handler"]:
            problems.append(f"{where}: operationId {op.get('operationId')!r}, handler {route['handler']!r}")
        want = SECURITY[route["access"]]
        if "security" not in op:
            problems.append(f"{where}: no security (access {route['access']}: want {want})")
        elif op["security"] != want:
            problems.append(f"{where}: security {op['security']} but access {route['access']} wants {want}")
        responses = {str(k) for k in (op.get("responses") or {})}
        item = doc["paths"][key[1]]
        for code, why in sorted(required_responses(doc, route, item, op).items()):
            if code not in responses:
                problems.append(f"{where}: no {code} response ({why})")
        for p in parameters(doc, item, op):
            if p.get("in") == "path" and "{" + p.get("name", "") + "}" not in key[1]:
                problems.append(f"{where}: path parameter {p.get('name')} is not in the path")

    for key in sorted(set(documented) - in_table):
        problems.append(f"{key[0]} {key[1]}: documented, but no such route in the table")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_bin = os.path.join(REPO, "build", "test", "hwc3d")
    if not os.path.exists(default_bin):
        default_bin = os.path.join(REPO, "build", "hwc3d")
    ap.add_argument("--binary", default=default_bin)
    ap.add_argument("--doc", default=os.path.join(REPO, "docs", "openapi.yaml"))
    args = ap.parse_args()
    routes = route_table(os.path.abspath(args.binary))
    with open(args.doc) as f:
        doc = yaml.safe_load(f)
    problems = check(routes, doc)
    for p in problems:
        print("check-openapi:", p, file=sys.stderr)
    if problems:
        print(f"check-openapi: {len(problems)} differences between {os.path.relpath(args.doc)} "
              f"and the route table", file=sys.stderr)
        return 1
    print(f"check-openapi: {len(routes)} routes and {os.path.relpath(args.doc)} agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
