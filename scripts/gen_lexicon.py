#!/usr/bin/env python3
"""Regenerates the matcher's word lists in src/matcher/lexicon/ from maintained packages.

- common-words.txt: words common in a major language written in Latin letters, from the
  `wordfreq` package (PyPI; data CC BY-SA 4.0): English words with a Zipf frequency of at
  least 2.4 (about once in 4 million words: `goggle` is in, typos are not) and German,
  French, Spanish, Italian, Portuguese and Dutch words of at least 3.0. Accents are folded to
  ASCII (domain labels that spell these words do), only words of 3 or more letters a-z are
  kept. The matcher reads a lookalike that is itself such a word (`apply`, `goggle`, `mega`)
  as a word collision, not as evidence.
  Each line is the word, a tab, its highest Zipf frequency in those languages times ten, a
  tab, and its English one (0 when it is not an English word of at least 2.4): the matcher
  reads run-together words with them (`openairfestival` is `open air festival`, not `openai`
  and a stray `r`; `micropost` is not a typo of `microsoft`).
- english-core.txt: the lowercase words of SCOWL size 35 (Debian's `wamerican-small`,
  permissive SCOWL licence), the core vocabulary of English. A term that is one of them
  (`apple`, `outlook`, `delta`) is a generic word: finding it among other words says less
  than finding a coined name (`paypal`, `netflix`).

Run from the repo root: `pip install wordfreq==3.1.1 && python3 scripts/gen_lexicon.py`
(`apt-get download wamerican-small` is run into a temporary folder; nothing is installed).
"""
import re, subprocess, sys, tempfile, unicodedata
from pathlib import Path

from wordfreq import available_languages, iter_wordlist, zipf_frequency

OUT = Path(__file__).resolve().parents[1] / 'src' / 'matcher' / 'lexicon'
LANGUAGES = [('en', 2.4), ('de', 3.0), ('fr', 3.0), ('es', 3.0), ('it', 3.0), ('pt', 3.0), ('nl', 3.0)]
WORD = re.compile(r'[a-z]{3,30}')


def fold(word):
    return ''.join(c for c in unicodedata.normalize('NFKD', word) if not unicodedata.combining(c))


def common_words():
    """{word: (highest Zipf frequency × 10, English one or 0)}."""
    words = {}
    for lang, floor in LANGUAGES:
        wordlist = 'large' if lang in available_languages('large') else 'best'
        for w in iter_wordlist(lang, wordlist):
            zipf = zipf_frequency(w, lang, wordlist)
            if zipf < floor:
                break  # the list is in descending frequency
            f = fold(w)
            if WORD.fullmatch(f):
                z = round(zipf * 10)
                top, en = words.get(f, (0, 0))
                words[f] = (max(top, z), max(en, z if lang == 'en' else 0))
    return words


def english_core():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(['apt-get', 'download', 'wamerican-small'], cwd=tmp, check=True,
                       capture_output=True)
        deb = next(Path(tmp).glob('wamerican-small_*.deb'))
        subprocess.run(['dpkg-deb', '-x', str(deb), 'x'], cwd=tmp, check=True)
        version = deb.name.split('_')[1]
        text = Path(tmp, 'x/usr/share/dict/american-english-small').read_text(encoding='utf-8')
    return {w for w in text.splitlines() if WORD.fullmatch(w)}, version


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    common = common_words()
    core, version = english_core()
    (OUT / 'common-words.txt').write_text(
        ''.join(f'{w}\t{common[w][0]}\t{common[w][1]}\n' for w in sorted(common)),
        encoding='ascii')
    (OUT / 'frequent-words.txt').unlink(missing_ok=True)
    (OUT / 'english-core.txt').write_text('\n'.join(sorted(core)) + '\n', encoding='ascii')
    print(f'common-words.txt: {len(common)} words; '
          f'english-core.txt: {len(core)} words '
          f'(wamerican-small {version})')


if __name__ == '__main__':
    sys.exit(main())
