#!/usr/bin/env python3
"""Import cycles between the top-level modules of src/ (stdlib only).

A top-level module is `src/<name>.rs` or the folder `src/<name>/` (lib.rs
and main.rs are the crate root and the binary, not modules). Module A uses
module B when a file of A names a path that starts at the crate root and
reaches B: `use crate::b::…`, `use crate::{b, …}`, `crate::b::f(…)` in an
expression, or a `super::` chain that climbs out of A (`super::b` in
`src/a.rs`, `super::super::b` in `src/a/x.rs`).

What it ignores, and why:
  - comments and string literals (doc links are not dependencies);
  - every item under `#[cfg(test)]` (an inline `mod tests { … }`, a test
    helper fn or use) and the files of a `#[cfg(test)] mod x;`: a test may
    reach across layers without making the library's modules a cycle.
    Only the exact attribute `#[cfg(test)]` is recognised.
  - paths to names of the crate root that are not modules (re-exports,
    `#[macro_export]` macros).

It prints every edge (`a -> b`, with how many references and the first
file:line), then every cycle: each strongly connected component of more
than one module, with the edges inside it. Exit status: 0 when there is
no cycle, 1 when there is one, 2 when src/ cannot be read.

Usage: scripts/module_cycles.py [SRC_DIR]   (default: src next to scripts/)
"""

import os
import re
import signal
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments_and_strings(text):
    """Blank out comments, string and char literals, keeping newlines (so
    line numbers stay right) and everything else byte for byte."""
    out = []
    i, n = 0, len(text)

    def blank(s):
        return "".join("\n" if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif re.match(r'b?r#*"', text[i:i + 260]) and not re.match(r"[A-Za-z0-9_]", text[i - 1] if i else " "):
            m = re.match(r'b?r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(blank(text[i:j]))
            i = j
        elif c == '"' or (c == "b" and text.startswith('b"', i) and not re.match(r"[A-Za-z0-9_]", text[i - 1] if i else " ")):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(n, j + 1)
            out.append(blank(text[i:j]))
            i = j
        elif c == "'":
            # A char literal ('a', '\n', '\u{1F600}'), or a lifetime ('a).
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:])
            if m:
                out.append(blank(m.group(0)))
                i += m.end()
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def item_end(text, start):
    """The end of the item that starts at `start`: after its first `;` at
    bracket depth 0 or the `}` that brings the depth back to 0."""
    depth, i, n = 0, start, len(text)
    while i < n:
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0 and c == "}":
                return i + 1
        elif c == ";" and depth == 0:
            return i + 1
        i += 1
    return n


CFG_TEST = re.compile(r"#\[\s*cfg\s*\(\s*test\s*\)\s*\]")
ATTR = re.compile(r"\s*#\[[^\]]*\]")
MOD_DECL = re.compile(r"\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;")


def drop_test_items(text):
    """Blank out every item under #[cfg(test)]; return the text and the
    names of `#[cfg(test)] mod x;` declarations (files to skip)."""
    test_mods = []
    while True:
        m = CFG_TEST.search(text)
        if not m:
            return text, test_mods
        start = m.end()
        while True:
            a = ATTR.match(text, start)
            if not a:
                break
            start = a.end()
        d = MOD_DECL.match(text, start)
        if d:
            test_mods.append(d.group(1))
        end = item_end(text, start)
        span = text[m.start():end]
        text = text[:m.start()] + "".join("\n" if c == "\n" else " " for c in span) + text[end:]


def module_path(src, path):
    """Module path of a file: src/a.rs -> [a], src/a/mod.rs -> [a],
    src/a/b.rs -> [a, b]."""
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] == "mod":
        rel = rel[:-1]
    return rel


def test_files(src, path, names):
    """The files of `#[cfg(test)] mod name;` declared in `path`."""
    if os.path.basename(path) in ("mod.rs", "lib.rs", "main.rs"):
        base = os.path.dirname(path)
    else:
        base = path[:-3]
    out = set()
    for name in names:
        out.add(os.path.normpath(os.path.join(base, name + ".rs")))
        out.add(os.path.normpath(os.path.join(base, name, "mod.rs")))
    return out


PATH = re.compile(r"(?<![A-Za-z0-9_:$])(crate|super(?:\s*::\s*super)*)\s*::\s*(\{|" + IDENT + ")")
INLINE_MOD = re.compile(r"\bmod\s+(" + IDENT + r")\s*\{")


def group_heads(text, open_brace):
    """First identifiers of the items of a `{a::x, b, c::{d}}` use group."""
    end = item_end(text, open_brace)
    inner = text[open_brace + 1:end - 1]
    heads, depth, cur = [], 0, ""
    for c in inner + ",":
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if c == "," and depth == 0:
            m = re.match(r"\s*(" + IDENT + ")", cur)
            if m:
                heads.append(m.group(1))
            cur = ""
        else:
            cur += c
    return heads


def references(text, file_mod):
    """(top-level name, offset) for every path in `text` that leaves the
    crate root, given the file's module path."""
    # Inline modules change what `super` means: track them by offset.
    inline = []  # (start, end, name)
    for m in INLINE_MOD.finditer(text):
        inline.append((m.end() - 1, item_end(text, m.end() - 1), m.group(1)))
    out = []
    for m in PATH.finditer(text):
        head, first = m.group(1), m.group(2)
        if head == "crate":
            names = group_heads(text, m.end() - 1) if first == "{" else [first]
        else:
            supers = head.count("super")
            here = file_mod + [name for (s, e, name) in inline if s < m.start() < e]
            if supers < len(here):
                continue  # stays inside the module
            up = here[:len(here) - supers]
            if up:
                continue  # impossible above the root; stay quiet
            names = group_heads(text, m.end() - 1) if first == "{" else [first]
        for name in names:
            if name not in ("self", "super", "crate"):
                out.append((name, m.start()))
    return out


def top_level_modules(src):
    mods = set()
    for entry in os.listdir(src):
        p = os.path.join(src, entry)
        if entry.endswith(".rs") and entry not in ("lib.rs", "main.rs"):
            mods.add(entry[:-3])
        elif os.path.isdir(p) and entry != "bin":
            mods.add(entry)
    return mods


def files_of(src, mod):
    out = []
    if os.path.isfile(os.path.join(src, mod + ".rs")):
        out.append(os.path.join(src, mod + ".rs"))
    for root, dirs, files in os.walk(os.path.join(src, mod)):
        dirs.sort()
        out += [os.path.join(root, f) for f in sorted(files) if f.endswith(".rs")]
    return out


def sccs(nodes, edges):
    """Tarjan's strongly connected components, in a fixed order."""
    index, low, on, stack, comps = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            comps.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sorted(comps)


def main(argv):
    # Piped into `head`, stop quietly when the reader goes away.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    here = os.path.dirname(os.path.abspath(__file__))
    src = argv[1] if len(argv) > 1 else os.path.join(here, "..", "src")
    src = os.path.normpath(src)
    if not os.path.isdir(src):
        print(f"module_cycles: {src}: not a folder; give the crate's src/", file=sys.stderr)
        return 2
    mods = top_level_modules(src)
    # edge -> [count, first "file:line"]
    edges = {}
    skip = set()
    texts = {}
    for mod in sorted(mods):
        for path in files_of(src, mod):
            with open(path, encoding="utf-8") as f:
                raw = f.read()
            text, test_mods = drop_test_items(strip_comments_and_strings(raw))
            skip |= test_files(src, path, test_mods)
            texts[path] = (mod, text)
    for path in sorted(texts):
        if os.path.normpath(path) in skip:
            continue
        mod, text = texts[path]
        for name, offset in references(text, module_path(src, path)):
            if name == mod or name not in mods:
                continue
            line = text.count("\n", 0, offset) + 1
            key = (mod, name)
            if key not in edges:
                edges[key] = [0, f"{os.path.relpath(path, os.path.dirname(src))}:{line}"]
            edges[key][0] += 1

    graph = {}
    for (a, b) in edges:
        graph.setdefault(a, set()).add(b)
    print(f"{len(mods)} top-level modules, {len(edges)} edges (a -> b: a uses b)")
    for (a, b) in sorted(edges):
        count, first = edges[(a, b)]
        print(f"  {a} -> {b}  ({count}, first at {first})")
    cycles = [c for c in sccs(mods, graph) if len(c) > 1]
    if not cycles:
        print("no import cycle")
        return 0
    print(f"{len(cycles)} import cycle(s) (strongly connected components):")
    for comp in cycles:
        print("  " + " <-> ".join(comp))
        for (a, b) in sorted(edges):
            if a in comp and b in comp:
                count, first = edges[(a, b)]
                print(f"    {a} -> {b}  ({count}, first at {first})")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
