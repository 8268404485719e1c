#!/usr/bin/env python3
"""Recall of `lookalike scan` on real phishing hosts (phishtank-brand-in-domain.tsv).

Rows whose target is a watched brand (PhishTank's target names mapped below) and whose host is
not under one of that brand's official domains (abuse of the brand's own hosting is not a
lookalike) are scanned; a row is found when a finding names the brand, or a brand sharing its
terms. Prints the rows found at each score band, per brand, and recall at the alert threshold.

    python3 scripts/eval_phishtank.py [--tsv FILE] [--misses 40] [--below 40]
"""
import argparse, csv, sys
from collections import defaultdict
from pathlib import Path

import evalkit

TARGETS = {'PayPal': 'PayPal', 'Microsoft': 'Microsoft', 'Apple': 'Apple', 'Amazon.com': 'Amazon',
           'Facebook': 'Meta', 'Netflix': 'Netflix', 'Google': 'Google'}

ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
ap.add_argument('--tsv', default=str(evalkit.CORPUS / 'phishtank-brand-in-domain.tsv'))
ap.add_argument('--bin', default='target/release/lookalike')
ap.add_argument('--watchlist', default='watchlists/')
ap.add_argument('--targets', help='extra PhishTank target=brand pairs, separated by semicolons')
ap.add_argument('--misses', type=int, default=0, metavar='N', help='list N rows not found at all')
ap.add_argument('--below', type=int, default=0, metavar='N',
                help='list N rows found under the alert threshold, with their scores')
args = ap.parse_args()
if not Path(args.tsv).is_file():
    sys.exit(f'skipped: {args.tsv} is absent (the corpus is not part of the project)')
targets = dict(TARGETS)
for pair in filter(None, (args.targets or '').split(';')):
    k, v = pair.split('=', 1)
    targets[k] = v

brands = {b['name']: b for b in evalkit.load_brands(args.watchlist)}
sharing = evalkit.peers(list(brands.values()))
rows, own = [], 0
with open(args.tsv, encoding='utf-8') as f:
    for r in csv.DictReader(f, delimiter='\t'):
        brand = targets.get(r['target'])
        if brand not in brands:
            continue
        host = evalkit.a_label(r['host'])
        if any(evalkit.under(host, d) for d in brands[brand]['domains']):
            own += 1
            continue
        rows.append((brand, host))
found = evalkit.scan(args.bin, args.watchlist, [h for _, h in rows])


def best(brand, host):
    scores = [found[(b, host)] for b in sharing[brand] if (b, host) in found]
    return max(scores, key=lambda s: s[0]) if scores else None


print(f'{len(rows)} rows on watched brands ({own} more on the brand\'s own domains, left out)')
print(evalkit.band_header('brand'))
per = defaultdict(list)
for brand, host in rows:
    per[brand].append((host, best(brand, host)))
every = []
for brand in sorted(per, key=lambda b: -len(per[b])):
    scores = [s[0] for _, s in per[brand] if s]
    every += scores
    print(evalkit.band_row(brand, scores, len(per[brand])))
print(evalkit.band_row('overall', every, len(rows)))
if args.misses:
    print('\nnot found:')
    for brand in per:
        for host, s in per[brand]:
            if s is None:
                print(f'  {brand}: {host}')
if args.below:
    print(f'\nfound under {evalkit.THRESHOLD}:')
    shown = 0
    for brand in per:
        for host, s in sorted(per[brand], key=lambda x: (x[1] or (0,))[0]):
            if s and s[0] < evalkit.THRESHOLD and shown < args.below:
                shown += 1
                print(f'  {s[0]:>3} {brand}: {host}  {",".join(sorted(s[1]))}')
