#!/usr/bin/env python3
"""Write docs/events/<type>.json, one JSON Schema (draft 2020-12) per event type.

The data fields of each type come from a census of real events (event_census.py
over the databases the test suites and `icms demo` leave behind), checked by a
person, plus the types below that the census did not see; the envelope is the
same for every type. tests/app/test_events_schema.c validates every event the
suites produce against these files.

    tests/events/event_census.py DB... > census.txt
    tests/events/gen_schemas.py census.txt docs/events
"""
import json, os, sys

ENVELOPE = ["event_id", "type", "occurred_at", "correlation_id", "source", "schema_version",
            "subject", "seq", "data"]

# What the census cannot see yet (no suite emits them), read from the code.
SUPPLEMENT = {
    "session.invalidated": {"session_id": ("string", True), "user_id": ("string", True),
                            "reason": ("string", True)},
    "auth.keys_rotated": {"kid": ("string", True), "retired": ("array", True)},
    "payment.expired": {},
}

# Fields whose presence the census under-counts (events made by hand in a test).
SUBJECTS = {
    "project": "the project's id", "participation": "the participation request's id",
    "payment": "the payment's id", "refund": "the refund's id", "payout": "the payout's id",
    "user": "the user's id", "session": "the session's id", "auth": "the new signing key's id",
}

DESCRIBE = {
    "user_id": "the user concerned (UUID)",
    "investor_id": "the investor (UUID)",
    "project_id": "the project (UUID)",
    "participation_id": "the participation request (UUID)",
    "payment_id": "the payment (UUID)",
    "payout_id": "the payout (UUID)",
    "refund_id": "the refund (UUID)",
    "session_id": "the session (UUID)",
    "product_id": "the product added to the catalog (UUID)",
    "amount": "base units (1 GAP = 100000000)",
    "credited": "base units credited to the project",
    "received": "base units the transaction paid",
    "refund_due": "base units owed back to the investor",
    "commitment": "base units the request commits",
    "total_cost": "the project's landed cost in base units",
    "profit": "base units distributed",
    "from": "the state before", "to": "the state after",
    "status": "the record's status after the change",
    "type": "PRODUCTS or PROFIT",
    "reason": "why, in words",
    "txid": "the Gapcoin transaction id (hex)",
    "role": "OWNER, INVESTOR or ADMIN",
    "fields": "names of the fields that changed",
    "method": "how the session was opened",
    "kid": "the new key's id", "retired": "ids of the keys retired",
}


def schema(event_type, fields):
    kind = event_type.split(".")[0]
    props = {}
    for name, (jtype, _required) in sorted(fields.items()):
        p = {"type": jtype}
        if name in DESCRIBE:
            p["description"] = DESCRIBE[name]
        if jtype == "array":
            p["items"] = {"type": "string"}
        props[name] = p
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:libicms:event:%s:1" % event_type,
        "title": event_type,
        "description": "libicms event %s (schema_version 1). subject: %s." %
                       (event_type, SUBJECTS.get(kind, "the record's id")),
        "type": "object",
        "required": ENVELOPE,
        "additionalProperties": False,
        "properties": {
            "event_id": {"type": "string", "format": "uuid", "description": "UUIDv7"},
            "type": {"const": event_type},
            "occurred_at": {"type": "string", "format": "date-time"},
            "correlation_id": {"type": ["string", "null"]},
            "source": {"const": "libicms"},
            "schema_version": {"const": 1},
            "subject": {"type": "string"},
            "seq": {"type": "integer", "minimum": 1},
            "data": {
                "type": "object",
                "required": sorted(n for n, (_t, r) in fields.items() if r),
                "properties": props,
            },
        },
    }


def main():
    census, out = sys.argv[1], sys.argv[2]
    types = {}
    for line in open(census):
        c = json.loads(line)
        if "." not in c["type"] or c["type"].startswith("widget."):
            continue
        types[c["type"]] = {k: (v["types"][0] if len(v["types"]) == 1 else v["types"], v["required"])
                            for k, v in c["fields"].items()}
    for t, f in SUPPLEMENT.items():
        types.setdefault(t, f)
    os.makedirs(out, exist_ok=True)
    for t, f in sorted(types.items()):
        with open(os.path.join(out, t + ".json"), "w") as fh:
            json.dump(schema(t, f), fh, indent=2)
            fh.write("\n")
    print("\n".join(sorted(types)))


main()
