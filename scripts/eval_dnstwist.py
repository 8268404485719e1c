#!/usr/bin/env python3
"""Recall of `lookalike scan` against dnstwist's permutations of the watched brands.

What it measures: for every brand in the watchlist (file or folder of *.toml) and every term
that is the first label of one of its official domains, the first such domain listed is fed
to dnstwist's fuzzers (all 16, with dnstwist's English dictionary and common-TLD list; no
DNS). Permutations equal to, or under,
an official domain of any brand, or matching the brand's `allow` rules, are dropped. The rest
go to one file, which `lookalike scan --format jsonl --min-score 0` reads once. A permutation
is found when an output line has the same A-label domain and the same brand, or a brand
sharing one of its terms (a name imitating a shared term is reported once, for the brand it
points to: Amazon Japan's `amazon.xyz` goes to Amazon).

Per dnstwist fuzzer it prints the permutations, how many are found at any score and at each
score band floor (40 is the store floor, 60 the default alert threshold), recall at the alert
threshold — the figure that counts, since it is what `lookalike run` alerts on — and "same
tech %" (share of the found ones whose `techniques` include the fuzzer's name in our terms,
see OURS). Each fuzzer runs on its own, so a domain made by two fuzzers counts in both rows;
the overall line counts each (brand, domain) once. "words" counts the permutations the matcher
judged word collisions (a lookalike that spells a common word: `mail.com` for `gmail.com`, kept
under the threshold unless other evidence adds up), and the last column is recall at the
threshold of the rest. Exits 1 if that overall recall is under --threshold (99 %).

Run (from the repo root, after `cargo build --release`):
    pip install dnstwist
    python3 scripts/eval_dnstwist.py [--misses 20] [--fuzzers homoglyph,omission] [--by-length]
    python3 scripts/eval_dnstwist.py --dry-run      # generation only: counts per fuzzer

dnstwist's PyPI package ships no dictionaries; they come from Debian's `dnstwist` package
(/usr/share/dnstwist/dictionaries). If that folder, $DNSTWIST_DICTS and the cache below are
all missing, the .deb is fetched with `apt-get download` and unpacked (nothing installed).
"""
import argparse, os, re, shutil, subprocess, sys, tempfile
from collections import defaultdict
from pathlib import Path

import dnstwist

import evalkit

FUZZERS = ['addition', 'bitsquatting', 'cyrillic', 'homoglyph', 'hyphenation', 'insertion',
           'omission', 'plural', 'repetition', 'replacement', 'subdomain', 'transposition',
           'vowel-swap', 'dictionary', 'tld-swap', 'various']
OURS = {'dictionary': 'combosquat', 'cyrillic': 'homoglyph', 'plural': 'addition',
        'various': 'missing-dot'}  # any other fuzzer keeps its dnstwist name
CACHE = Path.home() / '.cache' / 'lookalike' / 'dnstwist-dicts'


def dict_dir(explicit):
    """Folder holding english.dict and common_tlds.dict; fetched from Debian if none."""
    for d in (explicit, os.environ.get('DNSTWIST_DICTS'), '/usr/share/dnstwist/dictionaries', CACHE):
        if d and (Path(d) / 'english.dict').is_file():
            return Path(d)
    if explicit:
        sys.exit(f'no english.dict in {explicit}')
    print(f'fetching dnstwist dictionaries (apt-get download dnstwist) into {CACHE}', file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(['apt-get', 'download', 'dnstwist'], cwd=tmp, check=True, capture_output=True)
        deb = next(Path(tmp).glob('dnstwist_*.deb'))
        subprocess.run(['dpkg-deb', '-x', str(deb), 'x'], cwd=tmp, check=True)
        shutil.copytree(Path(tmp, 'x/usr/share/dnstwist/dictionaries'), CACHE, dirs_exist_ok=True)
    return CACHE


def read_dict(path, pattern):
    """Word list filtered exactly as dnstwist's CLI does for --dictionary / --tld."""
    words = set(Path(path).read_text(encoding='utf-8').lower().splitlines())
    return sorted(w for w in words if re.match(pattern, w))


def allowed(domain, rules):
    return any(evalkit.under(domain, evalkit.a_label(r[2:])) if r.startswith('*.')
               else domain == evalkit.a_label(r) for r in rules)


def generate(brands, words, tlds, fuzzers):
    """{fuzzer: {(brand, domain): term}} with official/allowed names removed; plus the drop
    count."""
    official = {d for b in brands for d in b['domains']}
    perms, dropped = defaultdict(dict), 0
    for b in brands:
        # Official domains whose first label is not a term (live.com, office.com for
        # Microsoft) are deliberately not watched.
        for dom in evalkit.seeds(b):
            term = dom.split('.')[0]
            for fz in fuzzers:
                f = dnstwist.Fuzzer(dom, dictionary=words, tld_dictionary=tlds)
                f.generate(fuzzers=[fz])
                for p in f.domains:
                    d = p['domain'].lower()
                    if any(evalkit.under(d, o) for o in official) or allowed(d, b['allow']):
                        dropped += 1
                    else:
                        perms[fz][(b['name'], d)] = term
    return perms, dropped


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--bin', default='target/release/lookalike')
    ap.add_argument('--watchlist', default='watchlists/')
    ap.add_argument('--dicts', help='folder with english.dict and common_tlds.dict')
    ap.add_argument('--fuzzers', default=','.join(FUZZERS), help='comma-separated subset')
    ap.add_argument('--misses', type=int, default=0, metavar='N',
                    help='show N misses at the alert threshold per fuzzer')
    ap.add_argument('--by-length', action='store_true', help='also a table per term length')
    ap.add_argument('--threshold', type=float, default=99.0,
                    help='minimum overall recall %% at the alert threshold')
    ap.add_argument('--dry-run', action='store_true', help='only generate and count permutations')
    args = ap.parse_args()

    fuzzers = [f.strip() for f in args.fuzzers.split(',') if f.strip()]
    if bad := set(fuzzers) - set(FUZZERS):
        sys.exit(f'unknown fuzzers: {", ".join(sorted(bad))}')
    brands = evalkit.load_brands(args.watchlist)
    if not brands:
        sys.exit(f'no [[brand]] in {args.watchlist}')
    d = dict_dir(args.dicts)
    words = read_dict(d / 'english.dict', r'^(?:(?:xn--)[a-z0-9-]{3,59}|[a-z0-9-]{1,63})$')
    tlds = read_dict(d / 'common_tlds.dict', r'^[a-z0-9-]{2,63}(?:\.[a-z0-9-]{2,63})?$')
    perms, dropped = generate(brands, words, tlds, fuzzers)
    pairs = {}
    for fz in fuzzers:
        pairs.update(perms[fz])
    print(f'dnstwist {dnstwist.__version__}: {len(brands)} brands, {len(words)} words, {len(tlds)} tlds '
          f'({d}); {len(pairs)} unique (brand, domain) pairs, {dropped} official/allowed dropped')

    if args.dry_run:
        for fz in fuzzers:
            print(f'{fz:<14}{len(perms[fz]):>9}')
        return 0

    raw = evalkit.scan(args.bin, args.watchlist, {dom for _, dom in pairs})
    sharing = evalkit.peers(brands)

    def finding(pair):
        """(score, techniques) of the finding for this (brand, domain), or of a term-sharing
        brand's, the best one."""
        brand, dom = pair
        got = [raw[(o, dom)] for o in sharing[brand] if (o, dom) in raw]
        return max(got, key=lambda g: g[0]) if got else None

    found = {p: f for p in pairs if (f := finding(p)) is not None}
    unregistrable = evalkit.public_suffixes(args.bin, args.watchlist,
                                            {p[1] for p in pairs if p not in found})
    if unregistrable:
        pairs = {p: t for p, t in pairs.items() if p[1] not in unregistrable}
        for fz in fuzzers:
            perms[fz] = {p: t for p, t in perms[fz].items() if p[1] not in unregistrable}
        print(f'{len(unregistrable)} permutations dropped that are public suffixes themselves '
              f'(nobody can register them; `scan` skips them): {", ".join(sorted(unregistrable)[:5])}'
              f'{" …" if len(unregistrable) > 5 else ""}')
    collided = {p for p, f in found.items() if evalkit.is_collision(f[2]) and f[0] < evalkit.THRESHOLD}
    print(evalkit.band_header('fuzzer', extra=f'{"same tech %":>13}{"words":>7}{"recall@60 w/o":>15}'))
    for fz in fuzzers:
        hits = [p for p in perms[fz] if p in found]
        same = sum(OURS.get(fz, fz) in found[p][1] for p in hits)
        words_n = sum(p in collided for p in perms[fz])
        rest = [found[p][0] for p in hits if p not in collided]
        print(evalkit.band_row(fz, [found[p][0] for p in hits], len(perms[fz]),
                               extra=f'{100 * same / max(len(hits), 1):>13.2f}{words_n:>7}'
                                     f'{evalkit.recall_at(rest, len(perms[fz]) - words_n):>14.2f}%'))
    scores = [f[0] for f in found.values()]
    rest = [f[0] for p, f in found.items() if p not in collided]
    print(evalkit.band_row('overall', scores, len(pairs),
                           extra=f'{"":>13}{len(collided):>7}'
                                 f'{evalkit.recall_at(rest, len(pairs) - len(collided)):>14.2f}%'))
    print(f'("words": permutations that spell a common word — `mail.com` for gmail, `goggle.com` for '
          f'google — which the matcher keeps under the alert threshold unless other evidence adds up; '
          f'"recall@60 w/o": recall at the threshold of the others)')
    via_peer = sum(p not in raw for p in found)
    print(f'({via_peer} of the found pairs were reported for a brand sharing the term)')
    recall = evalkit.recall_at(scores, len(pairs))

    if args.by_length:
        print('\n' + evalkit.band_header('term length'))
        lengths = defaultdict(list)
        for p, term in pairs.items():
            lengths[len(term)].append(p)
        for n in sorted(lengths):
            ps = lengths[n]
            print(evalkit.band_row(f'{n} chars', [found[p][0] for p in ps if p in found], len(ps)))

    if args.misses:
        for fz in fuzzers:
            missed = sorted(p for p in perms[fz] if p not in collided
                            and (p not in found or found[p][0] < evalkit.THRESHOLD))
            if missed:
                print(f'\nunder {evalkit.THRESHOLD} for {fz}, word collisions left out ({len(missed)}):')
                for brand, dom in missed[:args.misses]:
                    f = found.get((brand, dom))
                    got = f'{f[0]} {",".join(sorted(f[1]))}' if f else 'not found'
                    print(f'  {brand}: {dom}  ({got})')
    return 0 if evalkit.recall_at(rest, len(pairs) - len(collided)) >= args.threshold else 1


if __name__ == '__main__':
    sys.exit(main())
