#!/usr/bin/env python3
"""Recall of `lookalike scan` against dnstwist's permutations of the watched brands.

What it measures: for every brand in the watchlist (file or folder of *.toml), every
official domain is fed to dnstwist's fuzzers (all 16, with dnstwist's English dictionary
and common-TLD list; no DNS). Permutations equal to, or under, an official domain of any
brand, or matching the brand's `allow` rules, are dropped. The rest go to one file, which
`lookalike scan --format jsonl --min-score 0` reads. A permutation is found when an output
line has the same A-label domain and the same brand, or a brand sharing one of its terms: a
name imitating a shared term is reported once, for the brand it points to (Amazon Japan's
`amazon.xyz` goes to Amazon), and the line after the table says how many were found that way. Per dnstwist fuzzer it prints
permutations, found, recall % and "same technique %" (share of found ones whose finding's
`techniques` include the fuzzer's name in our terms, see OURS). Each fuzzer runs on its own,
so a domain made by two fuzzers counts in both rows; the overall line counts each
(brand, domain) once. Exits 1 if overall recall < --threshold (99 %).

Run (from the repo root, after `cargo build --release`):
    pip install dnstwist
    python3 scripts/eval_dnstwist.py [--misses 20] [--fuzzers homoglyph,omission]
    python3 scripts/eval_dnstwist.py --dry-run      # generation only: counts per fuzzer

dnstwist's PyPI package ships no dictionaries; they come from Debian's `dnstwist` package
(/usr/share/dnstwist/dictionaries). If that folder, $DNSTWIST_DICTS and the cache below are
all missing, the .deb is fetched with `apt-get download` and unpacked (nothing installed).
"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, tomllib
from collections import defaultdict
from pathlib import Path

import dnstwist

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


def a_label(name):
    name = name.strip().lower().rstrip('.')
    try:
        return name.encode('idna').decode('ascii').lower()
    except UnicodeError:
        return name


def under(domain, parent):
    return domain == parent or domain.endswith('.' + parent)


def load_brands(watchlist):
    """[(name, official A-labels, allow rules)] from a .toml file or every *.toml in a folder."""
    path = Path(watchlist)
    files = sorted(path.glob('*.toml')) if path.is_dir() else [path]
    brands = []
    for f in files:
        for b in tomllib.loads(f.read_text(encoding='utf-8')).get('brand', []):
            # A brand is watched through its terms: official domains whose first label is not a
            # term (live.com, office.com for Microsoft) are deliberately not watched.
            domains = [a_label(d) for d in b['domains']]
            terms = {a_label(t) for t in b.get('terms', [])} or {d.split('.')[0] for d in domains}
            watched = [d for d in domains if d.split('.')[0] in terms]
            brands.append((b['name'], watched, b.get('allow', []), domains, terms))
    return brands


def peers(brands):
    """{brand: brands sharing a term with it, itself included}."""
    return {name: {other for other, *_, t2 in brands if t2 & terms}
            for name, *_, terms in brands}


def allowed(domain, rules):
    return any(under(domain, a_label(r[2:])) if r.startswith('*.') else domain == a_label(r)
               for r in rules)


def generate(brands, words, tlds, fuzzers):
    """{fuzzer: {(brand, domain)}} with official/allowed names removed; plus the drop count."""
    official = {d for *_, doms, _ in brands for d in doms}
    perms, dropped = defaultdict(set), 0
    for name, domains, allow, _, _ in brands:
        for dom in domains:
            for fz in fuzzers:
                f = dnstwist.Fuzzer(dom, dictionary=words, tld_dictionary=tlds)
                f.generate(fuzzers=[fz])
                for p in f.domains:
                    d = p['domain'].lower()
                    if any(under(d, o) for o in official) or allowed(d, allow):
                        dropped += 1
                    else:
                        perms[fz].add((name, d))
    return perms, dropped


def scan(binary, watchlist, domains):
    """Run the scanner on the domains; {(brand, domain): set(techniques)}."""
    with tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False) as tmp:
        tmp.write('\n'.join(sorted(domains)) + '\n')
    try:
        cmd = [binary, 'scan', '--watchlist', watchlist, '--format', 'jsonl', '--min-score', '0', tmp.name]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        os.unlink(tmp.name)
    found = defaultdict(set)
    for line in proc.stdout.splitlines():
        if line.strip():
            obj = json.loads(line)
            found[(obj['brand'], a_label(obj['domain']))].update(obj.get('techniques', []))
    if proc.returncode != 0:
        print(f'warning: {" ".join(cmd[:2])} exited {proc.returncode}: {proc.stderr.strip()[-500:]}',
              file=sys.stderr)
        if not found:
            sys.exit(2)
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--bin', default='target/release/lookalike')
    ap.add_argument('--watchlist', default='watchlists/')
    ap.add_argument('--dicts', help='folder with english.dict and common_tlds.dict')
    ap.add_argument('--fuzzers', default=','.join(FUZZERS), help='comma-separated subset')
    ap.add_argument('--misses', type=int, default=0, metavar='N', help='show N misses per fuzzer')
    ap.add_argument('--threshold', type=float, default=99.0, help='minimum overall recall %%')
    ap.add_argument('--dry-run', action='store_true', help='only generate and count permutations')
    args = ap.parse_args()

    fuzzers = [f.strip() for f in args.fuzzers.split(',') if f.strip()]
    if bad := set(fuzzers) - set(FUZZERS):
        sys.exit(f'unknown fuzzers: {", ".join(sorted(bad))}')
    brands = load_brands(args.watchlist)
    if not brands:
        sys.exit(f'no [[brand]] in {args.watchlist}')
    d = dict_dir(args.dicts)
    words = read_dict(d / 'english.dict', r'^(?:(?:xn--)[a-z0-9-]{3,59}|[a-z0-9-]{1,63})$')
    tlds = read_dict(d / 'common_tlds.dict', r'^[a-z0-9-]{2,63}(?:\.[a-z0-9-]{2,63})?$')
    perms, dropped = generate(brands, words, tlds, fuzzers)
    pairs = set().union(*perms.values())
    print(f'dnstwist {dnstwist.__version__}: {len(brands)} brands, {len(words)} words, {len(tlds)} tlds '
          f'({d}); {len(pairs)} unique (brand, domain) pairs, {dropped} official/allowed dropped')

    if args.dry_run:
        for fz in fuzzers:
            print(f'{fz:<14}{len(perms[fz]):>9}')
        return 0

    if not shutil.which(args.bin):
        sys.exit(f'{args.bin}: no such executable (build it: cargo build --release)')
    raw = scan(args.bin, args.watchlist, {dom for _, dom in pairs})
    sharing = peers(brands)

    def finding(pair):
        """Techniques of the finding for this (brand, domain), or of a term-sharing brand's."""
        brand, dom = pair
        if pair in raw:
            return raw[pair]
        for other in sorted(sharing[brand] - {brand}):
            if (other, dom) in raw:
                return raw[(other, dom)]
        return None

    found = {p: t for p in pairs if (t := finding(p)) is not None}
    print(f'\n{"fuzzer":<14}{"perms":>9}{"found":>9}{"recall %":>10}{"same tech %":>13}')
    for fz in fuzzers:
        hits = [p for p in perms[fz] if p in found]
        same = sum(OURS.get(fz, fz) in found[p] for p in hits)
        n = len(perms[fz])
        print(f'{fz:<14}{n:>9}{len(hits):>9}{100 * len(hits) / max(n, 1):>10.2f}'
              f'{100 * same / max(len(hits), 1):>13.2f}')
    total = len(found)
    recall = 100 * total / max(len(pairs), 1)
    print(f'{"overall":<14}{len(pairs):>9}{total:>9}{recall:>10.2f}')
    via_peer = sum(p not in raw for p in found)
    print(f'({via_peer} of the found pairs were reported for a brand sharing the term)')

    if args.misses:
        for fz in fuzzers:
            missed = sorted(p for p in perms[fz] if p not in found)
            if missed:
                print(f'\nmissed by {fz} ({len(missed)}):')
                for brand, dom in missed[:args.misses]:
                    print(f'  {brand}: {dom}')
    return 0 if recall >= args.threshold else 1


if __name__ == '__main__':
    sys.exit(main())
