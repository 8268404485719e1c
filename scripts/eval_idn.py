#!/usr/bin/env python3
"""Recall of `lookalike scan` on real registered IDN homographs (idn-homographs-2017.csv).

Rows whose target brand label is a term of a watched brand are fed to `scan --min-score 0`
as punycode `.com` names; a row is found when a finding names a brand with that term.
Rows held by the brand itself (first column 1) are included: they are still lookalikes.
Prints how many are found at any score and at each band floor, and recall at the alert
threshold.

    python3 scripts/eval_idn.py [--csv ../shared/corpus/idn-homographs-2017.csv] [--misses]
"""
import argparse, csv, json, subprocess, sys, tempfile, tomllib
from pathlib import Path

import evalkit

ap = argparse.ArgumentParser()
ap.add_argument('--csv', default=str(Path(__file__).resolve().parents[2] / 'shared/corpus/idn-homographs-2017.csv'))
ap.add_argument('--bin', default='target/release/lookalike')
ap.add_argument('--watchlist', default='watchlists/')
ap.add_argument('--misses', action='store_true')
args = ap.parse_args()
if not Path(args.csv).is_file():
    sys.exit(f'skipped: {args.csv} is absent (the corpus is not part of the project)')

terms = {}
for f in sorted(Path(args.watchlist).glob('*.toml')):
    for b in tomllib.loads(f.read_text()).get('brand', []):
        for t in b.get('terms') or [d.split('.')[0] for d in b['domains']]:
            terms.setdefault(t, set()).add(b['name'])

rows = [r for r in csv.reader(open(args.csv, encoding='utf-8')) if len(r) > 3 and r[1] in terms]
names = {f'{r[3]}.com': r[1] for r in rows}
with tempfile.NamedTemporaryFile('w', suffix='.txt') as tmp:
    tmp.write('\n'.join(names) + '\n')
    tmp.flush()
    out = subprocess.run([args.bin, 'scan', '--watchlist', args.watchlist, '--format', 'jsonl',
                          '--min-score', '0', tmp.name], capture_output=True, text=True, check=True).stdout
found = {}
for line in out.splitlines():
    f = json.loads(line)
    found.setdefault(f['domain'], {})
    found[f['domain']][f['brand']] = max(f['score'], found[f['domain']].get(f['brand'], 0))
best = {n: max((s for b, s in found.get(n, {}).items() if b in terms[t]), default=None)
        for n, t in names.items()}
hit = [n for n, s in best.items() if s is not None]
print(f'{len(rows)} rows on watched terms ({len(names)} names): {len(hit)} found at any score')
print(evalkit.band_header('IDN homographs', width=16))
print(evalkit.band_row('names', [best[n] for n in hit], len(names), width=16))
if args.misses:
    for n, t in names.items():
        if n not in hit:
            print(' ', n, n.encode().decode('idna'), t)
