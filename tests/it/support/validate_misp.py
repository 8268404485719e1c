"""Validates a lookalike MISP feed folder with PyMISP, the way MISP's tools read feeds.

    python3 validate_misp.py DIR

For each event the manifest names, `<uuid>.json` is loaded by PyMISP's `MISPEvent.load_file`
(which checks attribute types, categories, to_ids and timestamps); then:
- the event's manifest entry must be what PyMISP derives from the event (`event.manifest`);
- the file must be exactly PyMISP's own feed output for the event (`event.to_feed()`), so
  nothing in it is lost or read differently;
- hashes.csv must be PyMISP's `md5(value),uuid` lines (`attributes_hashes('md5')`), as
  `pymisp.tools.feed.feed_meta_generator` writes them.
No other event files may be in the folder. Prints a JSON summary on stdout.
"""
import json
import os
import sys

from pymisp import MISPEvent


def main():
    folder = sys.argv[1]
    manifest = json.load(open(os.path.join(folder, "manifest.json"), encoding="utf-8"))
    hashes = set(open(os.path.join(folder, "hashes.csv"), encoding="utf-8").read().split())
    expected_hashes = set()
    events = {}
    for uuid, meta in manifest.items():
        path = os.path.join(folder, f"{uuid}.json")
        raw = json.load(open(path, encoding="utf-8"))
        event = MISPEvent()
        event.load_file(path)
        assert event.uuid == uuid, (event.uuid, uuid)
        derived = event.manifest[uuid]
        assert derived == meta, f"manifest entry of {uuid}:\n{meta}\nPyMISP derives:\n{derived}"
        fed = event.to_feed()
        assert fed == raw, f"{uuid}.json differs from PyMISP's feed output:\n{json.dumps(raw, sort_keys=True)}\n{json.dumps(fed, sort_keys=True)}"
        expected_hashes |= {f"{h},{event.uuid}" for h in event.attributes_hashes("md5")}
        events[uuid] = {
            "info": event.info, "date": event.date.isoformat(), "orgc": event.Orgc.name,
            "threat_level_id": event.threat_level_id, "analysis": event.analysis,
            "tags": [t.name for t in event.tags],
            "attributes": [{"type": a.type, "value": a.value, "to_ids": a.to_ids,
                            "category": a.category, "comment": a.comment,
                            "tags": [t.name for t in a.tags]} for a in event.attributes],
        }
    assert hashes == expected_hashes, f"hashes.csv:\n{sorted(hashes)}\nexpected:\n{sorted(expected_hashes)}"
    extra = [f for f in os.listdir(folder)
             if f.endswith(".json") and f != "manifest.json" and f[:-5] not in manifest]
    assert not extra, f"event files the manifest does not name: {extra}"
    json.dump({"events": events, "hashes": len(hashes)}, sys.stdout)


if __name__ == "__main__":
    main()
