#!/usr/bin/env python3
"""Refresh src/sources/ct/loglist_snapshot.json from the live CT log lists.

Downloads Google Chrome's v3 log list and Apple's log list, checks every entry
(log_id must equal base64(sha256(DER key))), merges the two by log_id and
writes one file in the Chrome v3 schema:

    {"version", "log_list_timestamp",
     "operators": [{"name", "email", "logs": [...], "tiled_logs": [...]}]}

Standard library only.  Typical use, from the repository root:

    python3 scripts/refresh_loglist.py                 # live lists -> snapshot
    python3 scripts/refresh_loglist.py --all-logs      # also pending/rejected/test logs
    python3 scripts/refresh_loglist.py --keep-previous # keep logs dropped upstream
    python3 scripts/refresh_loglist.py --chrome-file a.json --apple-file b.json --out /tmp/x.json

Merge rules
  * A log present in both lists keeps Chrome's entry (description, URLs, state,
    interval).  Fields Chrome lacks (e.g. temporal_interval) are filled from Apple.
  * A log only in Apple's list is added under the operator of the same name
    (compared case-insensitively, ignoring punctuation), or a new operator.
  * --keep-previous also keeps logs of the current snapshot that are in neither
    list any more (Chrome drops expired shards), unchanged.
  * Entries whose log_id does not match their key, or whose key is not base64,
    are dropped and reported on stderr.  The run fails if nothing valid is left.
  * State objects are copied exactly as the source list has them.
"""

import argparse
import base64
import binascii
import copy
import hashlib
import json
import os
import re
import sys
import tempfile
import urllib.request

CHROME_URL = "https://www.gstatic.com/ct/log_list/v3/log_list.json"
CHROME_ALL_URL = "https://www.gstatic.com/ct/log_list/v3/all_logs_list.json"
APPLE_URL = "https://valid.apple.com/ct/log_list/current_log_list.json"
DEFAULT_OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), os.pardir,
    "src", "sources", "ct", "loglist_snapshot.json")

# Fields of the Chrome v3 schema that are kept for each log.
RFC6962_FIELDS = ("description", "log_id", "key", "url", "mmd", "state",
                  "temporal_interval", "log_type")
TILED_FIELDS = ("description", "log_id", "key", "submission_url",
                "monitoring_url", "mmd", "state", "temporal_interval", "log_type")


def fetch_json(url, timeout=60):
    req = urllib.request.Request(url, headers={
        "User-Agent": "lookalike-loglist-refresh/1 (+scripts/refresh_loglist.py)",
        "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        if resp.status != 200:
            raise RuntimeError("%s: HTTP %d" % (url, resp.status))
        return json.loads(resp.read().decode("utf-8"))


def load_json(path):
    with open(path, "r", encoding="utf-8") as f:
        return json.load(f)


def check_log(log):
    """Return None if the entry is sound, else a reason string."""
    key, log_id = log.get("key"), log.get("log_id")
    if not isinstance(key, str) or not isinstance(log_id, str):
        return "missing key or log_id"
    try:
        der = base64.b64decode(key, validate=True)
        want = base64.b64decode(log_id, validate=True)
    except (binascii.Error, ValueError):
        return "key or log_id is not valid base64"
    if len(want) != 32:
        return "log_id is not 32 bytes"
    if hashlib.sha256(der).digest() != want:
        return "log_id != sha256(key)"
    if not isinstance(log.get("mmd"), int):
        return "missing mmd"
    return None


def norm_operator(name):
    return re.sub(r"[^a-z0-9]", "", (name or "").lower())


def collect(doc, source, problems):
    """Yield (operator_dict, kind, log) for every valid log of a list."""
    for op in doc.get("operators") or []:
        for kind, fields, urls in (("logs", RFC6962_FIELDS, ("url",)),
                                   ("tiled_logs", TILED_FIELDS,
                                    ("submission_url", "monitoring_url"))):
            for raw in op.get(kind) or []:
                log = {k: copy.deepcopy(raw[k]) for k in fields if k in raw}
                why = check_log(log)
                if why is None and not all(isinstance(log.get(u), str) and log[u] for u in urls):
                    why = "missing " + "/".join(urls)
                if why:
                    problems.append("%s: %s (%s): %s" % (
                        source, op.get("name"), raw.get("description"), why))
                    continue
                yield op, kind, log


def list_version(doc, prefix):
    for k in ("version", "assetVersionV2", "assetVersion"):
        if k in doc:
            return "%s-%s" % (prefix, doc[k])
    return prefix + "-unknown"


def merge(chrome, apple, previous=None):
    """Merge parsed lists. Returns (snapshot_dict, problems, stats)."""
    problems = []
    operators = []          # output order
    by_norm = {}            # normalized operator name -> output operator
    where = {}              # log_id -> (output operator, kind, log)
    stats = {"chrome": 0, "apple_only": 0, "apple_filled": 0, "kept_previous": 0}

    def operator_for(op):
        n = norm_operator(op.get("name"))
        out = by_norm.get(n)
        if out is None:
            out = {"name": op.get("name") or "unknown",
                   "email": list(op.get("email") or []),
                   "logs": [], "tiled_logs": []}
            by_norm[n] = out
            operators.append(out)
        else:
            for e in op.get("email") or []:
                if e not in out["email"]:
                    out["email"].append(e)
        return out

    for op, kind, log in collect(chrome, "chrome", problems):
        if log["log_id"] in where:
            problems.append("chrome: duplicate log_id %s" % log["log_id"])
            continue
        out = operator_for(op)
        out[kind].append(log)
        where[log["log_id"]] = (out, kind, log)
        stats["chrome"] += 1

    for op, kind, log in collect(apple or {}, "apple", problems):
        hit = where.get(log["log_id"])
        if hit:
            _, hkind, hlog = hit
            if hkind != kind:
                problems.append("apple: %s is under %s here but under %s in the list "
                                "merged first; kept the first" % (log.get("description"), kind, hkind))
                continue
            filled = False
            for k, v in log.items():
                if k not in hlog:
                    hlog[k] = v
                    filled = True
            stats["apple_filled"] += filled
            continue
        out = operator_for(op)
        out[kind].append(log)
        where[log["log_id"]] = (out, kind, log)
        stats["apple_only"] += 1

    if previous:
        for op, kind, log in collect(previous, "previous", problems):
            if log["log_id"] in where:
                continue
            out = operator_for(op)
            out[kind].append(log)
            where[log["log_id"]] = (out, kind, log)
            stats["kept_previous"] += 1

    for out in operators:
        for kind in ("logs", "tiled_logs"):
            out[kind].sort(key=lambda l: ((l.get("description") or "").lower(), l["log_id"]))
    operators = [o for o in operators if o["logs"] or o["tiled_logs"]]
    for o in operators:
        if not o["email"]:
            o["email"] = ["unknown@invalid"]   # schema requires a non-empty list

    snapshot = {
        "version": list_version(chrome, "chrome") + "+" + list_version(apple or {}, "apple"),
        "log_list_timestamp": chrome.get("log_list_timestamp") or (apple or {}).get("log_list_timestamp"),
        "operators": operators,
    }
    return snapshot, problems, stats


def write_atomic(path, doc):
    path = os.path.abspath(path)
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".loglist-", suffix=".json", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chrome-url", default=None,
                    help="default: %s (or %s with --all-logs)" % (CHROME_URL, CHROME_ALL_URL))
    ap.add_argument("--apple-url", default=APPLE_URL)
    ap.add_argument("--chrome-file", help="read Chrome's list from a file instead")
    ap.add_argument("--apple-file", help="read Apple's list from a file instead")
    ap.add_argument("--no-apple", action="store_true", help="Chrome list only")
    ap.add_argument("--all-logs", action="store_true",
                    help="use Chrome's all_logs_list.json (adds pending/rejected/test logs)")
    ap.add_argument("--keep-previous", action="store_true",
                    help="keep logs of the existing --out file that are in neither list")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--dry-run", action="store_true", help="report, do not write")
    args = ap.parse_args(argv)

    chrome_url = args.chrome_url or (CHROME_ALL_URL if args.all_logs else CHROME_URL)
    chrome = load_json(args.chrome_file) if args.chrome_file else fetch_json(chrome_url)
    apple = None
    if not args.no_apple:
        apple = load_json(args.apple_file) if args.apple_file else fetch_json(args.apple_url)
    previous = None
    if args.keep_previous and os.path.exists(args.out):
        previous = load_json(args.out)

    snapshot, problems, stats = merge(chrome, apple, previous)
    for p in problems:
        print("dropped/warning: " + p, file=sys.stderr)
    n = sum(len(o["logs"]) + len(o["tiled_logs"]) for o in snapshot["operators"])
    n_tiled = sum(len(o["tiled_logs"]) for o in snapshot["operators"])
    print("%s: %d logs (%d RFC 6962, %d tiled) from %d operators; chrome %d, apple-only %d, "
          "apple-filled %d, kept from previous %d" % (
              snapshot["version"], n, n - n_tiled, n_tiled, len(snapshot["operators"]),
              stats["chrome"], stats["apple_only"], stats["apple_filled"], stats["kept_previous"]),
          file=sys.stderr)
    if n == 0:
        print("refusing to write an empty snapshot", file=sys.stderr)
        return 1
    if not args.dry_run:
        write_atomic(args.out, snapshot)
        print("wrote " + os.path.normpath(args.out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
