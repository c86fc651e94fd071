#!/usr/bin/env python3
"""The library's public surface, roughly: public items in modules a user can
reach from `src/lib.rs` (every module on the path declared `pub mod`).

Counts lines declaring `pub fn|struct|enum|trait|type|const|static|mod|use`
(not `pub(crate)`/`pub(super)`), methods and fields included, outside
`#[cfg(test)]` modules. A gauge for the closing note (issue 17 point 4),
not an exact rustdoc count. Usage: scripts/api_surface.py [SRC_DIR]
"""
import os
import re
import sys

ITEM = re.compile(r"^\s*pub (fn|struct|enum|trait|type|const|static|mod|use|unsafe fn|async fn)\b")
FIELD = re.compile(r"^\s*pub [a-z_][a-z0-9_]*\s*:")
MOD = re.compile(r"^\s*(pub(\([^)]*\))? )?mod ([a-z_0-9]+)\s*;")


def module_file(dir_, name):
    for cand in (os.path.join(dir_, name + ".rs"), os.path.join(dir_, name, "mod.rs")):
        if os.path.exists(cand):
            return cand
    return None


def walk(path, public, out):
    text = open(path, encoding="utf-8").read()
    lines = text.splitlines()
    base = os.path.dirname(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    child_dir = base if stem in ("mod", "lib", "main") else os.path.join(base, stem)
    n = 0
    skip_test = False
    for i, line in enumerate(lines):
        if "#[cfg(test)]" in line:
            skip_test = True
            continue
        m = MOD.match(line)
        if m:
            if skip_test:
                skip_test = False
                continue
            f = module_file(child_dir, m.group(3))
            if f:
                walk(f, public and m.group(1) == "pub ", out)
        skip_test = False
        if public and (ITEM.match(line) or FIELD.match(line)):
            n += 1
    out.append((path, n, public))


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    out = []
    walk(os.path.join(src, "lib.rs"), True, out)
    total = sum(n for _, n, p in out if p)
    for path, n, p in sorted(out, key=lambda t: -t[1]):
        if p and n:
            print(f"{n:5d}  {os.path.relpath(path, src)}")
    print(f"{total:5d}  public items in {sum(1 for _, n, p in out if p)} public module files "
          f"({len(out)} module files in all)")


if __name__ == "__main__":
    main()
