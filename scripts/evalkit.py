"""Shared pieces of the evaluation scripts: watchlists, running `lookalike scan`, score bands.

Every script measures what `lookalike run` keeps and alerts: it scans at `--min-score 0` once
and reports, per row of its table, how many were found at any score and at each band floor
(40 = the store floor, 60 = the default alert threshold). Recall "at the threshold" is the
column that counts.
"""
import json, os, re, subprocess, sys, tempfile, tomllib
from collections import defaultdict
from pathlib import Path

BANDS = [0, 40, 50, 60, 70, 80]
THRESHOLD = 60  # [alerts] min_score's default
CORPUS = Path(__file__).resolve().parents[2] / 'shared' / 'corpus'


def a_label(name):
    name = name.strip().lower().rstrip('.')
    try:
        return name.encode('idna').decode('ascii').lower()
    except UnicodeError:
        return name


def under(domain, parent):
    return domain == parent or domain.endswith('.' + parent)


def watchlist_files(watchlist):
    path = Path(watchlist)
    return sorted(path.glob('*.toml')) if path.is_dir() else [path]


def load_brands(watchlist):
    """[{name, domains (A-label), terms, allow}] from a .toml file or a folder of them."""
    brands = []
    for f in watchlist_files(watchlist):
        for b in tomllib.loads(f.read_text(encoding='utf-8')).get('brand', []):
            domains = [a_label(d) for d in b['domains']]
            terms = {a_label(t) for t in b.get('terms', [])} or {d.split('.')[0] for d in domains}
            brands.append({'name': b['name'], 'domains': domains, 'terms': terms,
                           'allow': b.get('allow', [])})
    return brands


def seeds(brand):
    """The official domains a permutation generator starts from: for each term that is the
    first label of one of the brand's domains, the first such domain listed (`google.com`,
    not also its 180 country domains, which would weigh one term 180 times)."""
    seen, out = set(), []
    for dom in brand['domains']:
        label = dom.split('.')[0]
        if label in brand['terms'] and label not in seen:
            seen.add(label)
            out.append(dom)
    return out


def peers(brands):
    """{brand: brands sharing a term with it, itself included}."""
    return {b['name']: {o['name'] for o in brands if o['terms'] & b['terms']} for b in brands}


def scan(binary, watchlist, names, extra=()):
    """Runs `scan --min-score 0` on the names; {(brand, A-label domain): (score, techniques)},
    keeping the best score per pair."""
    if not Path(binary).is_file():
        sys.exit(f'{binary}: no such executable (build it: cargo build --release)')
    with tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False) as tmp:
        tmp.write('\n'.join(sorted(set(names))) + '\n')
    try:
        cmd = [binary, 'scan', '--watchlist', str(watchlist), '--format', 'jsonl',
               '--min-score', '0', *extra, tmp.name]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        os.unlink(tmp.name)
    if proc.returncode != 0:
        sys.exit(f'{" ".join(cmd[:2])} exited {proc.returncode}: {proc.stderr.strip()[-500:]}')
    found = {}
    for line in proc.stdout.splitlines():
        if line.strip():
            obj = json.loads(line)
            key = (obj['brand'], a_label(obj['domain']))
            if key not in found or obj['score'] > found[key][0]:
                found[key] = (obj['score'], set(obj.get('techniques', [])), obj)
    return found


def public_suffixes(binary, watchlist, names):
    """The names that are themselves public suffixes (`aeon.kobe.jp` under `*.kobe.jp`,
    `chatgpt.site`): nobody can register one, so no permutation that is one can be a
    lookalike. `lookalike check` says so for each on stderr, and `scan` skips them."""
    if not names:
        return set()
    if not Path(binary).is_file():
        sys.exit(f'{binary}: no such executable (build it: cargo build --release)')
    proc = subprocess.run([binary, 'check', '--watchlist', str(watchlist), '-'],
                          input='\n'.join(sorted(names)) + '\n', capture_output=True, text=True)
    # 0: every name read; 2: some name is not a domain one can hold (those are what we want).
    if proc.returncode not in (0, 2):
        sys.exit(f'{binary} check exited {proc.returncode}: {proc.stderr.strip()[-500:]}')
    found = {m.group(1) for m in re.finditer(
        r"^lookalike: '([^']+)': '[^']+' is a public suffix", proc.stderr, re.M)}
    if proc.returncode == 2 and not found and 'public suffix' in proc.stderr:
        sys.exit(f'{binary} check: cannot read which names are public suffixes from: '
                 f'{proc.stderr.strip()[:300]}')
    return found


def is_collision(finding):
    """Whether the matcher judged the name a word collision (a lookalike that spells a common
    word: `goggle`, `cloud`, `pcloud`), which is kept under the alert threshold by design."""
    return any(r.endswith(' is a common word') or r.endswith(', the way products are named')
               or r.endswith(' reads as ordinary words run together')
               or r.endswith(', another name made the same way') for r in finding['reasons'])


def band_header(label='', width=14, extra=''):
    cols = ''.join(f'{">=" + str(b):>8}' for b in BANDS)
    return f'{label:<{width}}{"names":>8}{cols}{"recall@" + str(THRESHOLD):>11}{extra}'


def band_row(label, scores, total, width=14, extra=''):
    """`scores`: the best score of each found item (missing items are not in it)."""
    counts = [sum(s >= b for s in scores) for b in BANDS]
    at = counts[BANDS.index(THRESHOLD)]
    cols = ''.join(f'{c:>8}' for c in counts)
    return f'{label:<{width}}{total:>8}{cols}{100 * at / max(total, 1):>10.2f}%{extra}'


def recall_at(scores, total, floor=THRESHOLD):
    return 100 * sum(s >= floor for s in scores) / max(total, 1)
