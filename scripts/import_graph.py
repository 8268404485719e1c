#!/usr/bin/env python3
"""The module-level import graph of src/: which module uses which.

Reads every `use crate::…` / `use super::…` tree and every inline `crate::x::…` path (and, in
the binary's files, `lookalike::…`), folds each file into its module (`--depth 1`: the
top-level module, `sinks`; `--depth 2`: the submodule, `sinks::webhook`), and prints the edges,
the cycles, the pairs of modules that import each other, and the edges that go up the layer
table below (a module importing one that sits above it in the data flow).

    scripts/import_graph.py                 edges, cycles, mutual pairs, upward edges
    scripts/import_graph.py --depth 2       the same between submodules
    scripts/import_graph.py --why store sinks   the lines that make the edge store -> sinks
    scripts/import_graph.py --tests         count test code too (tests.rs, #[cfg(test)] items)
    scripts/import_graph.py --check         exit 1 when there is a cycle or an upward edge
    scripts/import_graph.py --dot           the graph for Graphviz

Comments and string literals are skipped; test code is skipped unless --tests.
"""

import argparse
import os
import re
import sys
from collections import defaultdict

# Layers, bottom first: a module may import modules of its own layer or below, never above.
# The order follows the data flow of shared/DESIGN.md: the pipeline takes what sources yield,
# matches it and commits it to the store and outbox; sinks drain the outbox; the API and the
# exports read the store; `config` gathers every component's config; `app` and `main` on top.
LAYERS = [
    # helpers every layer may use
    ["lib", "text", "clock", "errors", "backoff", "metrics", "logging", "systemd", "memory"],
    ["domain"],
    ["finding", "watchlist"],
    ["matcher"],
    # the store depends on nothing above it
    ["store"],
    # readers of the store
    ["enrich", "hits", "scan", "permute"],
    ["export"],
    # the outbox's delivery
    ["sinks"],
    # sources hand names to the pipeline, which matches them and commits to the store and outbox
    ["sources"],
    ["pipeline"],
    ["api"],
    # the web console: pages on the API's listener, using its state and access check
    ["console"],
    # the service config gathers the components' own config types
    ["config"],
    ["certstream_server", "access"],
    ["app"],
    ["main"],
]

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def layer_of(module):
    top = module.split("::")[0]
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    return None


def strip_comments_and_strings(text):
    """Blanks out comments, string and char literals, keeping line breaks (for line numbers)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
            continue
        if text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        m = re.match(r'b?r(#*)"', text[i:i + 260]) if c in "rb" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) else None
        if m:
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + re.sub(r"[^\n]", " ", text[i + 2:j]))
            i = j
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('"' + re.sub(r"[^\n]", " ", text[i + 1:j]) + '"')
            i = j + 1
            continue
        if c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'\n])'", text[i:i + 12])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
                continue
        out.append(c)
        i += 1
    return "".join(out)


def item_end(text, start):
    """End of the item starting at `start`: its closing brace, or its `;` when none comes first."""
    depth = 0
    for j in range(start, len(text)):
        c = text[j]
        if c == ";" and depth == 0:
            return j + 1
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(text)


def strip_test_items(text):
    """Blanks out items marked #[cfg(test)] (test modules, test-only helpers)."""
    while True:
        m = re.search(r"#\[cfg\(test\)\]", text)
        if not m:
            return text
        end = item_end(text, m.end())
        text = text[: m.start()] + re.sub(r"[^\n]", " ", text[m.start():end]) + text[end:]


def module_of(path, src):
    """`src/sinks/webhook.rs` -> ["sinks", "webhook"]; `src/lib.rs` -> []; the binary -> ["main"]."""
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel in (["lib"],):
        return []
    # The binary: main.rs, cli.rs and its commands/.
    if rel in (["main"], ["cli"]) or rel[0] in ("bin", "commands"):
        return ["main"]
    if rel[-1] == "mod":
        rel = rel[:-1]
    return rel


def split_top(s):
    """Splits a use-group body at top-level commas."""
    parts, depth, cur = [], 0, ""
    for c in s:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e] (as lists of segments)."""
    tree = re.sub(r"\s+as\s+" + IDENT, "", tree)
    tree = re.sub(r"\s+", "", tree)
    i = tree.find("{")
    if i < 0:
        return [[s for s in tree.split("::") if s]]
    prefix = [s for s in tree[:i].split("::") if s]
    inner = tree[i + 1: tree.rfind("}")]
    out = []
    for part in split_top(inner):
        for p in expand_use(part):
            out.append(prefix + p)
    return out


def resolve(segments, here, modules, reexports):
    """Absolute module (tuple) a path lands in, as deep as it is a module."""
    if not segments:
        return None
    head = segments[0]
    if head in ("crate", "lookalike"):
        path = segments[1:]
    elif head == "super" or head == "self":
        base = list(here)
        rest = segments
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
        path = base + rest
    else:
        return None
    if not path:
        return ()
    if len(path) == 1 or tuple(path[:1]) not in modules:
        # An item of the crate root: a re-export names where it comes from.
        if path[0] in reexports:
            return reexports[path[0]]
        if (path[0],) in modules:
            return (path[0],)
        return ()
    best = ()
    for k in range(1, len(path) + 1):
        if tuple(path[:k]) in modules:
            best = tuple(path[:k])
    return best


def collect(src, tests):
    files = []
    for root, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                files.append(os.path.join(root, name))
    files.sort()
    modules = {()}
    for f in files:
        mod = module_of(f, src)
        if mod == ["main"]:
            modules.add(("main",))
            continue
        for k in range(1, len(mod) + 1):
            modules.add(tuple(mod[:k]))
    # lib.rs re-exports: `pub use domain::{Domain, DomainError};`
    reexports = {}
    lib = os.path.join(src, "lib.rs")
    if os.path.exists(lib):
        text = strip_comments_and_strings(open(lib, encoding="utf-8").read())
        for m in re.finditer(r"pub\s+use\s+([^;]+);", text):
            for segs in expand_use(m.group(1)):
                if segs and (segs[0],) in modules:
                    reexports[segs[-1]] = (segs[0],)
    uses = []  # (from module, to module, file, line number, line text)
    for f in files:
        mod = module_of(f, src)
        is_test_file = os.path.basename(f) == "tests.rs" or "tests" in mod
        if is_test_file and not tests:
            continue
        raw = open(f, encoding="utf-8").read()
        lines = raw.split("\n")
        text = strip_comments_and_strings(raw)
        if not tests:
            text = strip_test_items(text)
        here = tuple(mod)
        seen_spans = []
        for m in re.finditer(r"\buse\s+((?:crate|super|self|lookalike)\b[^;]*);", text):
            seen_spans.append((m.start(), m.end()))
            line = text.count("\n", 0, m.start()) + 1
            for segs in expand_use(m.group(1)):
                if segs and segs[-1] == "*":
                    segs = segs[:-1]
                target = resolve(segs, here, modules, reexports)
                if target is not None:
                    uses.append((here, target, f, line, lines[line - 1].strip()))
        for m in re.finditer(r"(?<![\w:])((?:crate|lookalike|super)(?:::" + IDENT + ")+)", text):
            if any(a <= m.start() < b for a, b in seen_spans):
                continue
            if mod != ["main"] and m.group(1).startswith("lookalike"):
                continue
            segs = m.group(1).split("::")
            target = resolve(segs, here, modules, reexports)
            line = text.count("\n", 0, m.start()) + 1
            if target is not None:
                uses.append((here, target, f, line, lines[line - 1].strip()))
    return modules, uses


def fold(module, depth):
    if not module:
        return "lib"
    return "::".join(module[:depth])


def cycles_of(nodes, edges):
    """Strongly connected components with more than one module (Tarjan), and the count of
    elementary cycles through them (capped)."""
    index, low, onstack, stack, sccs = {}, {}, set(), [], []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        onstack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in onstack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                onstack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sccs


def elementary_cycles(nodes, edges, cap=10000):
    """Elementary cycles (each listed once, from its smallest module), up to `cap`."""
    found = []
    order = sorted(nodes)
    pos = {v: i for i, v in enumerate(order)}
    for s in order:
        path, onpath = [s], {s}

        def dfs(v):
            for w in sorted(edges.get(v, ())):
                if len(found) >= cap:
                    return
                if w == s:
                    found.append(list(path))
                elif w not in onpath and pos[w] > pos[s]:
                    path.append(w)
                    onpath.add(w)
                    dfs(w)
                    onpath.discard(w)
                    path.pop()

        dfs(s)
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    ap.add_argument("--depth", type=int, default=1)
    ap.add_argument("--tests", action="store_true", help="count test code too")
    ap.add_argument("--why", nargs=2, metavar=("FROM", "TO"), help="the lines that make the edge FROM -> TO")
    ap.add_argument("--check", action="store_true", help="exit 1 on a cycle or an upward edge")
    ap.add_argument("--dot", action="store_true", help="print the graph for Graphviz")
    ap.add_argument("--quiet", action="store_true", help="only the figures")
    args = ap.parse_args()

    modules, uses = collect(os.path.normpath(args.src), args.tests)
    edges = defaultdict(set)
    why = defaultdict(list)
    nodes = set()
    for a, b, f, line, code in uses:
        fa, fb = fold(a, args.depth), fold(b, args.depth)
        nodes.update((fa, fb))
        if fa == fb:
            continue
        edges[fa].add(fb)
        why[(fa, fb)].append((f, line, code))

    if args.why:
        a, b = args.why
        hits = [(k, v) for k, v in why.items() if k[0] == a and k[1] == b]
        hits += [(k, v) for k, v in why.items() if (k[0].startswith(a + "::") or k[0] == a) and (k[1].startswith(b + "::") or k[1] == b) and k != (a, b)]
        if not hits:
            print(f"no edge {a} -> {b}")
            return 1
        for (fa, fb), places in sorted(hits):
            print(f"{fa} -> {fb}")
            for f, line, code in sorted(set(places)):
                print(f"  {os.path.relpath(f)}:{line}: {code}")
        return 0

    if args.dot:
        print("digraph imports {")
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print(f'  "{a}" -> "{b}";')
        print("}")
        return 0

    sccs = cycles_of(nodes, edges)
    cycles = elementary_cycles(nodes, edges)
    mutual = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if a in edges.get(b, ())})
    upward = []
    for a in sorted(edges):
        for b in sorted(edges[a]):
            la, lb = layer_of(a), layer_of(b)
            if la is not None and lb is not None and lb > la:
                upward.append((a, b))
    unknown = sorted({n.split("::")[0] for n in nodes if layer_of(n) is None})

    if not args.quiet:
        print(f"# modules: {len(nodes)}, edges: {sum(len(v) for v in edges.values())} (depth {args.depth}{', with tests' if args.tests else ''})")
        for a in sorted(edges):
            print(f"{a} -> {', '.join(sorted(edges[a]))}")
        print()
        for comp in sccs:
            print(f"strongly connected: {' '.join(comp)}")
        for c in cycles[:40]:
            print(f"cycle: {' -> '.join(c + [c[0]])}")
        if len(cycles) > 40:
            print(f"... {len(cycles) - 40} more cycles")
        for a, b in mutual:
            print(f"mutual: {a} <-> {b}")
        for a, b in upward:
            print(f"upward: {a} -> {b}  ({len(why[(a, b)])} uses)")
        for u in unknown:
            print(f"not in the layer table: {u}")
    more = "+" if len(cycles) >= 10000 else ""
    print(f"cycles: {len(cycles)}{more}  mutual pairs: {len(mutual)}  upward edges: {len(upward)}")
    if args.check and (cycles or upward or unknown):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
