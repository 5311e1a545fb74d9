#!/usr/bin/env python3
"""The library's folders are its pipeline: read -> select -> render ->
publish, and check beside them. A stage may use the stages before it and the
shared files at the top of src/lib, never a later stage: this script
follows every quoted #include (transitively, so a shared header cannot
smuggle one in) and names each file that breaks the rule.

Usage: check_stages.py SRC_LIB_DIR
"""
import os
import re
import sys

# What each stage may include besides itself and the top of src/lib.
ALLOWED = {
    "read": {"read"},
    "select": {"read", "select"},
    "render": {"read", "select", "render"},
    "publish": {"read", "select", "render", "publish"},
    "check": {"read", "check"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def stage_of(lib, path):
    rel = os.path.relpath(path, lib)
    parts = rel.split(os.sep)
    return parts[0] if len(parts) > 1 else None


def resolve(lib, including, name):
    for base in (os.path.dirname(including), lib):
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(cand):
            return cand
    return None  # the public header or a system one


def closure(lib, path, memo):
    if path in memo:
        return memo[path]
    memo[path] = set()  # breaks include cycles
    found = set()
    with open(path, encoding="utf-8") as f:
        for name in INCLUDE.findall(f.read()):
            dep = resolve(lib, path, name)
            if dep is None:
                continue
            found.add(dep)
            found |= closure(lib, dep, memo)
    memo[path] = found
    return found


def main():
    lib = os.path.abspath(sys.argv[1])
    stages = sorted(d for d in os.listdir(lib)
                    if os.path.isdir(os.path.join(lib, d)))
    unknown = [d for d in stages if d not in ALLOWED]
    if unknown:
        print("unknown stage folder(s) in src/lib: %s (add them to ALLOWED)"
              % ", ".join(unknown))
        return 1
    memo = {}
    bad = 0
    checked = 0
    for stage in stages:
        for root, _, files in os.walk(os.path.join(lib, stage)):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(root, name)
                checked += 1
                for dep in sorted(closure(lib, path, memo)):
                    dep_stage = stage_of(lib, dep)
                    if dep_stage is not None and dep_stage not in ALLOWED[stage]:
                        print("%s (%s) includes %s (%s), a later stage"
                              % (os.path.relpath(path, lib), stage,
                                 os.path.relpath(dep, lib), dep_stage))
                        bad += 1
    if checked == 0:
        print("no source files found under %s" % lib)
        return 1
    print("%d files checked, %d includes across stages" % (checked, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
