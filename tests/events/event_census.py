#!/usr/bin/env python3
"""Census of the events in libicms databases: every type seen, with the data
fields each carries and their JSON types. Used to write and check the schemas
in docs/events/ (tests/app/test_events_schema.c validates against them).

    tests/events/event_census.py DB...   # prints one JSON object per type
"""
import json, sqlite3, sys
from collections import defaultdict

def jtype(v):
    if v is None: return "null"
    if isinstance(v, bool): return "boolean"
    if isinstance(v, int): return "integer"
    if isinstance(v, float): return "number"
    if isinstance(v, str): return "string"
    if isinstance(v, list): return "array"
    return "object"

seen = defaultdict(lambda: {"count": 0, "fields": defaultdict(lambda: {"n": 0, "types": set()})})
for path in sys.argv[1:]:
    try:
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        rows = con.execute("select v from kv where cast(v as text) like '{\"event_id\"%'").fetchall()
    except sqlite3.Error:
        continue
    for (v,) in rows:
        e = json.loads(v)
        s = seen[e["type"]]
        s["count"] += 1
        for k, val in e["data"].items():
            s["fields"][k]["n"] += 1
            s["fields"][k]["types"].add(jtype(val))
for t in sorted(seen):
    s = seen[t]
    print(json.dumps({"type": t, "count": s["count"], "fields": {
        k: {"required": f["n"] == s["count"], "types": sorted(f["types"])} for k, f in sorted(s["fields"].items())}}))
