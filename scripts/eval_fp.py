#!/usr/bin/env python3
"""False positives of `lookalike scan` on names that are mostly not lookalikes: what an
analyst would have to read at the default alert threshold, and what is kept for triage.

Scans a file of names (one per line, or .zst) once at `--min-score 0` and prints, per
(registrable domain, brand) pair, the best finding at or above the alert threshold: score,
brand, the name seen, the first reason — one line each, grouped by brand, for reading. Then
how many pairs sit at the threshold and in the store floor's band (40–59).

A finding is *clearly wrong* when the name does not refer to the brand at all (another
company's or a place's name, an ordinary word or compound): a brand-protection analyst would
close it as a false positive without a second look. Brand-owned names, resellers, fan and
SEO sites that use the brand's name are right findings. `--wrong FILE` takes a list of
registrable domains judged wrong (one per line, kept outside the project: the corpus is not
ours to copy) and prints the count per million names.

    python3 scripts/eval_fp.py ../shared/corpus/ct-names-1m.txt.zst [--wrong ~/ct-wrong.txt]
"""
import argparse, collections, json, os, subprocess, sys, tempfile
from pathlib import Path

import evalkit

ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
ap.add_argument('input')
ap.add_argument('--bin', default='target/release/lookalike')
ap.add_argument('--watchlist', default='watchlists/')
ap.add_argument('--wrong', help='registrable domains judged clearly wrong, one per line')
ap.add_argument('--quiet', action='store_true', help='counts only, no list')
args = ap.parse_args()
if not Path(args.input).is_file():
    sys.exit(f'skipped: {args.input} is absent (the corpus is not part of the project)')

path = args.input
tmp = None
if path.endswith('.zst'):
    tmp = tempfile.NamedTemporaryFile(suffix='.txt', delete=False)
    subprocess.run(['zstd', '-d', '-q', '-f', '-c', path], stdout=tmp, check=True)
    tmp.close()
    path = tmp.name
try:
    names = sum(1 for line in open(path, encoding='utf-8', errors='replace')
                if line.strip() and not line.startswith('#'))
    proc = subprocess.run([args.bin, 'scan', '--watchlist', args.watchlist, '--format', 'jsonl',
                           '--min-score', '0', path], capture_output=True, text=True)
finally:
    if tmp:
        os.unlink(tmp.name)
if proc.returncode != 0:
    sys.exit(proc.stderr)

best = {}
for line in proc.stdout.splitlines():
    f = json.loads(line)
    key = (f['registrable'], f['brand'])
    if key not in best or f['score'] > best[key]['score']:
        best[key] = f
alerting = {k: f for k, f in best.items() if f['score'] >= evalkit.THRESHOLD}
triage = {k: f for k, f in best.items() if 40 <= f['score'] < evalkit.THRESHOLD}
if not args.quiet:
    by_brand = collections.defaultdict(list)
    for (reg, brand), f in alerting.items():
        by_brand[brand].append(f)
    for brand in sorted(by_brand):
        print(f'\n{brand} ({len(by_brand[brand])})')
        for f in sorted(by_brand[brand], key=lambda f: f['registrable']):
            print(f"  {f['score']:>3} {f['domain'][:60]:<60} {f['reasons'][0][:80]}")
print(f'\n{names} names; {len(alerting)} (registrable, brand) pairs at {evalkit.THRESHOLD} or more; '
      f'{len(triage)} at 40-59 (stored for triage, not alerted)')
if args.wrong:
    wrong = {l.strip() for l in open(args.wrong) if l.strip() and not l.startswith('#')}
    hit = sorted({reg for reg, _ in alerting} & wrong)
    print(f'clearly wrong at {evalkit.THRESHOLD} or more: {len(hit)} '
          f'({1e6 * len(hit) / max(names, 1):.0f} per million names)')
    for reg in hit:
        print(f'  {reg}')
