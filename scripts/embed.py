#!/usr/bin/python3
"""Generates build/gen/embedded.c: the migrations and the OpenAPI document
as C data, so the binary carries everything it serves.

usage: embed.py OUT.c OPENAPI.yaml MIGRATION.sql...
"""
import json
import os
import re
import sys

import yaml


def c_string(data: bytes) -> str:
    out, line = [], []
    for b in data:
        line.append("0x%02x," % b)
        if len(line) == 24:
            out.append("".join(line))
            line = []
    out.append("".join(line) + "0x00")
    return "\n".join(out)


def main():
    out, spec, migrations = sys.argv[1], sys.argv[2], sorted(sys.argv[3:])
    parts = ['#include <stddef.h>', '#include "../../src/db/migrate.h"', ""]
    entries = []
    for i, path in enumerate(migrations):
        m = re.match(r"(\d{4})_([a-z0-9_]+)\.sql$", os.path.basename(path))
        if not m:
            sys.exit("embed.py: bad migration file name %s" % path)
        with open(path, "rb") as f:
            parts.append("static const char mig_%d[] = {\n%s\n};" % (i, c_string(f.read())))
        entries.append('\t{ %d, "%s", mig_%d },' % (int(m.group(1)), m.group(2), i))
    versions = [int(os.path.basename(p)[:4]) for p in migrations]
    if len(set(versions)) != len(versions):
        sys.exit("embed.py: two migrations share a version")
    parts.append("const struct migration hwc_migrations[] = {\n%s\n\t{ 0, NULL, NULL }\n};" % "\n".join(entries))
    parts.append("const int hwc_n_migrations = %d;" % len(entries))
    with open(spec, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    data = json.dumps(doc, separators=(",", ":"), sort_keys=False).encode()
    parts.append("const char hwc_openapi_json[] = {\n%s\n};" % c_string(data))
    parts.append("const size_t hwc_openapi_json_len = %d;" % len(data))
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(parts) + "\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
