#!/usr/bin/env python3
"""Recall of `lookalike scan` against ail-typo-squatting's permutations of the watched brands.

Beside eval_dnstwist.py, the same measure with the other public permutation generator
(PyPI `ail-typo-squatting`, CIRCL's AIL project): for every term that is the
first label of an official domain, the first such domain listed goes through each of its
algorithms; permutations equal to or under an official domain
of any brand, or matching the brand's `allow`, are dropped; the rest are scanned once at
`--min-score 0`. Per algorithm it prints how many are found at any score and at each band
floor, recall at the alert threshold (the figure that counts), the permutations the matcher
judged word collisions ("words": `papal.com` for paypal.com, kept under the threshold unless
other evidence adds up), and recall at the threshold of the rest.

`addDynamicDns` puts the name under every dynamic-DNS provider's domain (tens of thousands
per brand); it is capped at --ddns-limit per official domain. Algorithms that need the
network (`wrongSld` fetches a list) may produce nothing offline; the table says so.

Run (from the repo root, after `cargo build --release`):
    pip install ail-typo-squatting
    python3 scripts/eval_ail.py [--misses 20] [--algorithms omission,homoglyph]
"""
import argparse, contextlib, io, logging, sys
from collections import defaultdict

import evalkit

logging.disable(logging.CRITICAL)  # tldextract warns when it cannot refresh the PSL offline
import ail_typo_squatting.typo as ail  # noqa: E402

ALGORITHMS = ail.const_get_algo_name_list()
# Reported, not held to the 97 % target: they change two characters at once (any two, not a
# typo anyone makes) or reorder the whole label.
REPORTED_ONLY = {'doubleReplacement', 'changeOrder'}


def allowed(domain, rules):
    return any(evalkit.under(domain, evalkit.a_label(r[2:])) if r.startswith('*.')
               else domain == evalkit.a_label(r) for r in rules)


def generate(brands, algorithms, ddns_limit):
    official = {d for b in brands for d in b['domains']}
    perms, dropped = defaultdict(set), 0
    for b in brands:
        for dom in evalkit.seeds(b):
            for algo in algorithms:
                limit = ddns_limit if algo == 'addDynamicDns' else 1_000_000
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    try:
                        out = getattr(ail, algo)(dom, [], False, limit, givevariations=True)
                    except Exception:  # an algorithm that needs the network, offline
                        out = []
                for variation in out:
                    d = evalkit.a_label(variation[0] if isinstance(variation, list) else variation)
                    if not d or d == dom:
                        continue
                    if any(evalkit.under(d, o) for o in official) or allowed(d, b['allow']):
                        dropped += 1
                    else:
                        perms[algo].add((b['name'], d))
    return perms, dropped


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--bin', default='target/release/lookalike')
    ap.add_argument('--watchlist', default='watchlists/')
    ap.add_argument('--algorithms', default=','.join(ALGORITHMS))
    ap.add_argument('--ddns-limit', type=int, default=2000)
    ap.add_argument('--misses', type=int, default=0, metavar='N')
    ap.add_argument('--threshold', type=float, default=97.0,
                    help='minimum recall %% at the alert threshold, without word collisions, '
                         'for every algorithm but ' + ', '.join(sorted(REPORTED_ONLY)))
    args = ap.parse_args()
    algorithms = [a for a in args.algorithms.split(',') if a]
    brands = evalkit.load_brands(args.watchlist)
    perms, dropped = generate(brands, algorithms, args.ddns_limit)
    pairs = set().union(*perms.values()) if perms else set()
    print(f'ail-typo-squatting: {len(brands)} brands; {len(pairs)} unique (brand, domain) pairs, '
          f'{dropped} official/allowed dropped')
    raw = evalkit.scan(args.bin, args.watchlist, {d for _, d in pairs})
    sharing = evalkit.peers(brands)

    def finding(pair):
        brand, dom = pair
        got = [raw[(o, dom)] for o in sharing[brand] if (o, dom) in raw]
        return max(got, key=lambda g: g[0]) if got else None

    found = {p: f for p in pairs if (f := finding(p)) is not None}
    unregistrable = evalkit.public_suffixes(args.bin, args.watchlist,
                                            {p[1] for p in pairs if p not in found})
    if unregistrable:
        pairs = {p for p in pairs if p[1] not in unregistrable}
        for algo in algorithms:
            perms[algo] = {p for p in perms[algo] if p[1] not in unregistrable}
        print(f'{len(unregistrable)} permutations dropped that are public suffixes themselves '
              f'(nobody can register them; `scan` skips them): {", ".join(sorted(unregistrable)[:5])}'
              f'{" …" if len(unregistrable) > 5 else ""}')
    collided = {p for p, f in found.items()
                if evalkit.is_collision(f[2]) and f[0] < evalkit.THRESHOLD}
    print(evalkit.band_header('algorithm', width=19, extra=f'{"words":>7}{"recall@60 w/o":>15}'))
    failing = []
    for algo in algorithms:
        ps = perms[algo]
        if not ps:
            print(f'{algo:<19}{0:>8}   (no permutations: needs the network, or none apply)')
            continue
        words_n = sum(p in collided for p in ps)
        rest = [found[p][0] for p in ps if p in found and p not in collided]
        recall = evalkit.recall_at(rest, len(ps) - words_n)
        print(evalkit.band_row(algo, [found[p][0] for p in ps if p in found], len(ps), width=19,
                               extra=f'{words_n:>7}{recall:>14.2f}%'))
        if algo not in REPORTED_ONLY and recall < args.threshold:
            failing.append(algo)
    rest = [f[0] for p, f in found.items() if p not in collided]
    print(evalkit.band_row('overall', [f[0] for f in found.values()], len(pairs), width=19,
                           extra=f'{len(collided):>7}'
                                 f'{evalkit.recall_at(rest, len(pairs) - len(collided)):>14.2f}%'))
    if args.misses:
        for algo in algorithms:
            missed = sorted(p for p in perms[algo]
                            if p not in collided and (p not in found or found[p][0] < evalkit.THRESHOLD))
            if missed:
                print(f'\nunder {evalkit.THRESHOLD} for {algo} ({len(missed)}):')
                for brand, dom in missed[:args.misses]:
                    f = found.get((brand, dom))
                    got = f'{f[0]} {",".join(sorted(f[1]))}' if f else 'not found'
                    print(f'  {brand}: {dom}  ({got})')
    if failing:
        print(f'\nunder {args.threshold}% at the threshold: {", ".join(failing)}')
    return 1 if failing else 0


if __name__ == '__main__':
    sys.exit(main())
