#!/usr/bin/env python3
"""Recall on real phishing aimed at people in Japan: JPCERT/CC's published phishing URLs
(github.com/JPCERTCC/phishurl-list, one CSV per month: date, URL, the brand imitated), for the
brands the shipped watchlists carry. Not part of the project: point it at a checkout.

Each host is counted once per brand. A host on one of the brand's own domains is left out.
For each brand it prints how many hosts `lookalike scan` reports for that brand at the alert
threshold (60), in the store floor's band (40-59) and at any score, and how many name the
brand at all (a term of the brand, ASCII, in the host): most phishing hosts in these lists
are random or another site's, and no name matcher can find those.

    python3 scripts/eval_jpcert.py PATH/phishurl-list [--since 2024] [--misses BRAND] [--dump F]
"""
import argparse, collections, csv, glob, os, re, sys
import urllib.parse
from pathlib import Path

import evalkit

# JPCERT/CC's description -> the shipped brand's name (only brands the watchlists carry).
BRANDS = {
    'Apple ID': 'Apple', 'Apple Store': 'Apple',
    'イオンカード': 'AEON Card', 'iAEON': 'AEON Card', 'イオン銀行': 'AEON Card',
    'えきねっと': 'JR East', 'Viewcard': 'JR East',
    'メルカリ': 'Mercari',
    '三井住友カード': 'SMBC', 'Vpass': 'SMBC', '三井住友銀行': 'SMBC', 'Vポイント': 'SMBC',
    'JCB': 'JCB',
    'クレディセゾン': 'Saison Card', 'SAISON CARD': 'Saison Card',
    'Amazon': 'Amazon Japan',
    '三菱UFJ銀行': 'MUFG', '三菱UFJニコス': 'MUFG',
    'エポスカード': 'Epos Card',
    'ヤマト運輸': 'Yamato Transport',
    'softbank': 'SoftBank',
    'みずほ銀行': 'Mizuho',
    'ETC利用照会サービス': 'ETC Usage Inquiry',
    'au': 'au (KDDI)',
    '楽天カード': 'Rakuten', '楽天': 'Rakuten', '楽天銀行': 'Rakuten', '楽天証券': 'Rakuten',
    'Orico': 'Orico',
    'NTT docomo': 'NTT Docomo',
    '国税庁': 'National Tax Agency',
    '日本郵便': 'Japan Post',
    'りそな銀行': 'Resona', '\u3000りそな銀行': 'Resona', 'りそなカード': 'Resona',
    'Sagawa Express': 'Sagawa Express',
    'Yahoo! JAPAN': 'Yahoo! JAPAN',
    'Microsoft': 'Microsoft', 'Outlook.com': 'Microsoft',
    'PayPal': 'PayPal',
    'マイナポータル': 'Mynaportal',
    '日本年金機構': 'Japan Pension Service',
}
# A brand that shares its terms with another counts when either is reported.
SAME = {'Amazon Japan': {'Amazon Japan', 'Amazon'}}

ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
ap.add_argument('path', help='a phishurl-list checkout, or CSV files')
ap.add_argument('--since', default='2024', help='first year read (default 2024)')
ap.add_argument('--bin', default='target/release/lookalike')
ap.add_argument('--watchlist', default='watchlists/')
ap.add_argument('--misses', help='list the hosts of this brand that name it but stay under 60')
ap.add_argument('--dump', help='write every host that names its brand, with its score and reason, '
                'to this TSV file (for reading what is missed)')
args = ap.parse_args()

files = [args.path] if os.path.isfile(args.path) else sorted(
    f for f in glob.glob(os.path.join(args.path, '*', '*.csv'))
    if Path(f).stem[:4] >= args.since)
if not files:
    sys.exit(f'skipped: no CSV under {args.path}')

brands = {b['name']: b for b in evalkit.load_brands(args.watchlist)}
official = {name: b['domains'] for name, b in brands.items()}
terms = {name: b['terms'] for name, b in brands.items()}
pairs = set()
for f in files:
    with open(f, encoding='utf-8', errors='replace') as fh:
        for row in csv.reader(fh):
            if len(row) < 3 or row[2].strip() not in BRANDS and row[2] not in BRANDS:
                continue
            brand = BRANDS.get(row[2]) or BRANDS[row[2].strip()]
            host = (urllib.parse.urlsplit(row[1].strip()).hostname or '').rstrip('.').lower()
            if not host or re.fullmatch(r'[\d.]+|\[.*\]', host):
                continue
            # Off the brand's own domains (and those of a brand sharing its terms: Amazon
            # Japan's phishing is not hosted on amazonaws.com, but its buckets are Amazon's).
            owners = SAME.get(brand, {brand}) & brands.keys()
            if brand not in brands or any(evalkit.under(host, d)
                                          for b in owners for d in official[b]):
                continue
            pairs.add((host, brand))

found = evalkit.scan(args.bin, args.watchlist, [h for h, _ in pairs])

def score(host, brand):
    return max(found.get((b, evalkit.a_label(host)), (0,))[0] for b in SAME.get(brand, {brand}))

def names(host, brand):
    flat = re.sub(r'[^a-z0-9]', '', host)
    return any(t in flat for t in terms.get(brand, ()) if t.isascii())

rows = collections.defaultdict(lambda: collections.Counter())
for host, brand in pairs:
    s = score(host, brand)
    c = rows[brand]
    c['hosts'] += 1
    n = names(host, brand)
    c['names'] += n
    for band in (0, 40, 60):
        if s >= max(band, 1):
            c[f'>={band}'] += 1
            c[f'names>={band}'] += n
print(f'{len(files)} files, {len(pairs)} (host, brand) pairs off the brands\' own domains\n')
print(f'{"brand":<22} {"hosts":>6} {"found":>6} {">=40":>6} {">=60":>6}   {"name it":>7} {">=60":>6} {"recall":>7}')
total = collections.Counter()
for brand, c in sorted(rows.items(), key=lambda kv: -kv[1]['hosts']):
    total.update(c)
    r = c['names>=60'] / c['names'] * 100 if c['names'] else float('nan')
    print(f'{brand:<22} {c["hosts"]:>6} {c[">=0"]:>6} {c[">=40"]:>6} {c[">=60"]:>6}   '
          f'{c["names"]:>7} {c["names>=60"]:>6} {r:>6.2f}%')
r = total['names>=60'] / total['names'] * 100
print(f'{"all":<22} {total["hosts"]:>6} {total[">=0"]:>6} {total[">=40"]:>6} {total[">=60"]:>6}   '
      f'{total["names"]:>7} {total["names>=60"]:>6} {r:>6.2f}%')
print(f'\nrecall at 60 of the hosts that name their brand: {total["names>=60"]} of '
      f'{total["names"]} = {r:.2f}%; of every host: {total[">=60"]} of {total["hosts"]} = '
      f'{total[">=60"] / total["hosts"] * 100:.2f}%')
if args.misses:
    for host, brand in sorted(pairs):
        if brand == args.misses and names(host, brand) and score(host, brand) < 60:
            print(f'  {score(host, brand):>3} {host}')
if args.dump:
    # One line per host that names its brand: score, brand, host, registrable, first reason.
    with open(args.dump, 'w') as out:
        for host, brand in sorted(pairs):
            if not names(host, brand):
                continue
            hits = [found.get((b, evalkit.a_label(host))) for b in SAME.get(brand, {brand})]
            score_, _, f = max((h for h in hits if h), key=lambda h: h[0],
                               default=(0, set(), {}))
            reason = (f.get('reasons') or [''])[0]
            out.write(f"{score_}\t{brand}\t{host}\t{f.get('registrable', '')}\t{reason}\n")
