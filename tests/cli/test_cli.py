#!/usr/bin/python3
"""End-to-end tests of the icms command-line tool, driven as a user would:
real processes, real SQLite files in a temporary folder, the real vectors.

    ICMS_CLI=build/src/cli/icms ICMS_TEST_DATA=tests/data /usr/bin/python3 tests/cli/test_cli.py

Standard library only (Debian's /usr/bin/python3).
"""
import base64
import hashlib
import socket
import json
import os
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid

# The NATS test helpers the bindings' tests use too.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings"))
from nats_helper import NatsClient, free_port, nats_server_binary  # noqa: E402

ICMS = os.environ.get("ICMS_CLI", "icms")
DATA = os.environ.get("ICMS_TEST_DATA", os.path.join(os.path.dirname(__file__), "..", "data"))
GAPCOIN = os.path.join(DATA, "gapcoin")

# The store key of the format stamp: the tuple ("meta", "format") as src/kv/keys.h encodes it
# (0x02, the string, 0x00 for each element).
FORMAT_KEY = bytes([2]) + b"meta" + bytes([0, 2]) + b"format" + bytes([0])
AUDIT_LO = bytes([2]) + b"audit" + bytes([0])
AUDIT_HI = bytes([2]) + b"audit" + bytes([1])


def load(name):
    with open(os.path.join(GAPCOIN, name)) as f:
        return json.load(f)


class Result:
    def __init__(self, proc, elapsed):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.elapsed = elapsed

    def json(self):
        return json.loads(self.out)

    def error(self):
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, "stderr is not one line: %r" % self.err
        return json.loads(lines[0])["error"]


def run(*args, stdin=None, env=None, cwd=None, timeout=120):
    e = dict(os.environ)
    e.pop("ICMS_DB", None)
    if env:
        e.update(env)
    t0 = time.monotonic()
    proc = subprocess.run([ICMS] + [str(a) for a in args], input=stdin, capture_output=True,
                          text=True, env=e, cwd=cwd, timeout=timeout)
    return Result(proc, time.monotonic() - t0)


class CliCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="icms-cli-")
        self.dir = self.tmp.name
        self.db = os.path.join(self.dir, "t.db")

    def tearDown(self):
        self.tmp.cleanup()

    def icms(self, *args, **kw):
        return run("--db", self.db, *args, **kw)

    def ok(self, *args, **kw):
        r = self.icms(*args, **kw)
        self.assertEqual(r.code, 0, "icms %s: %s" % (" ".join(map(str, args)), r.err))
        self.assertEqual(r.err, "")
        return r.json()

    def refused(self, code, *args, **kw):
        r = self.icms(*args, **kw)
        self.assertEqual(r.code, 1, "icms %s: %s %s" % (" ".join(map(str, args)), r.out, r.err))
        self.assertEqual(r.out, "")
        err = r.error()
        self.assertEqual(err["code"], code, err)
        self.assertTrue(err["message"])
        return err

    def usage(self, *args, **kw):
        r = self.icms(*args, **kw)
        self.assertEqual(r.code, 2, "icms %s: %s" % (" ".join(map(str, args)), r.err))
        self.assertEqual(r.out, "")
        self.assertTrue(r.err.startswith("icms: "), r.err)
        self.assertIn("usage: icms", r.err)
        return r.err

    def world(self):
        """An admin, an owner with KYC, two verified investors."""
        admin = self.ok("init", "--data", '{"name":"Ada","email":"ada@example.com"}')["admin"]["id"]
        ids = {"admin": admin}
        for name, role in (("owner", "OWNER"), ("inv", "INVESTOR"), ("inv2", "INVESTOR")):
            doc = {"name": name, "email": name + "@example.com", "roles": [role]}
            ids[name] = self.ok("--as", admin, "user", "create", "--data", json.dumps(doc))["id"]
        for name in ("inv", "inv2"):
            self.ok("--as", ids[name], "user", "kyc", ids[name], "PENDING", "--data", '{"document":"passport","country":"DE"}')
            self.ok("--as", admin, "user", "kyc", ids[name], "VERIFIED")
        return ids

    def project_doc(self, days=30, now_ms=None):
        now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now_ms / 1000 + days * 86400))
        return {"title": "Olive oil", "expiry_date": expiry,
                "shipping_costs": {"freight": 30000000000, "transport": 5000000000,
                                   "international_fees": 2500000000},
                "products": [{"name": "Olive oil 5l", "unit": "can", "quantity": 100,
                              "unit_price": 2500000000}]}


class HelpAndUsage(CliCase):
    def test_global_help_lists_every_noun(self):
        r = run("--help")
        self.assertEqual(r.code, 0)
        for noun in ("init", "user", "project", "product", "participation", "payment", "refund",
                     "payout", "release", "check", "events", "auth", "audit", "tick", "gapcoin",
                     "demo", "notify"):
            self.assertIn(noun, r.out)
        self.assertIn("Examples:", r.out)

    def test_help_at_every_level(self):
        nouns = {}
        for line in run("--help").out.split("Commands:")[1].splitlines():
            parts = line.split()
            if len(parts) >= 2 and "|" in parts[1]:
                nouns[parts[0]] = parts[1].split("|")
        self.assertIn("project", nouns)
        self.assertIn("decode-tx", nouns["gapcoin"])
        self.assertIn("set-payout-address", nouns["project"])
        self.assertEqual(nouns["release"], ["get", "list", "record"])
        for noun, verbs in nouns.items():
            r = run(noun, "--help")
            self.assertEqual(r.code, 0, noun)
            for verb in verbs:
                self.assertIn(verb, r.out)
                v = run(noun, verb, "--help")
                self.assertEqual(v.code, 0, (noun, verb))
                self.assertIn("usage: icms", v.out)
                self.assertIn("Example", v.out, (noun, verb))
        for single in ("init", "tick", "check", "demo"):
            r = run(single, "--help")
            self.assertEqual(r.code, 0)
            self.assertIn("Example", r.out)

    def test_usage_errors_exit_2_and_change_nothing(self):
        self.assertIn("no command", self.usage())
        self.assertIn("unknown command 'frobnicate'", self.usage("frobnicate"))
        self.assertIn("unknown verb 'fly'", self.usage("project", "fly"))
        self.assertIn("missing argument", self.usage("project", "get"))
        self.assertIn("unexpected argument 'extra'", self.usage("project", "get", "a", "extra"))
        self.assertIn("unknown option --colour", self.usage("project", "list", "--colour"))
        self.assertIn("--db needs a value", self.usage("project", "list", "--db"))
        self.assertIn("not several", self.usage("--as", str(uuid.uuid4()), "--host", "project", "list"))
        self.assertIn("--reason does not apply", self.usage("project", "publish", "x", "--reason", "r"))
        self.assertIn("needs --reason", self.usage("project", "cancel", "x"))
        self.assertIn("needs a JSON document", self.usage("project", "create"))
        self.assertIn("not both", self.usage("project", "create", "--data", "{}", "--json", "-"))
        self.assertIn("cannot read", self.usage("project", "create", "--json", "/nonexistent/p.json"))
        self.assertIn("--network must be", self.usage("--network", "moon", "gapcoin", "script", "x"))
        self.assertIn("--retries must be", self.usage("--retries", "0", "project", "list"))
        self.assertIn("missing argument", self.usage("project", "set-payout-address", "x"))
        self.assertIn("missing argument", self.usage("release", "get"))
        self.assertIn("missing argument", self.usage("release", "record", "x"))
        self.assertIn("unexpected argument", self.usage("release", "record", "x", "y", "z"))
        self.assertIn("unknown verb 'pay'", self.usage("release", "pay"))
        r = run("project")  # a noun without its verb: the verbs, on stderr
        self.assertEqual(r.code, 2)
        self.assertIn("publish", r.err)
        # none of these touched the database
        self.assertFalse(os.path.exists(self.db))


class Database(CliCase):
    def test_init_creates_then_reopens(self):
        r = self.ok("init")
        self.assertEqual(r, {"database": self.db, "created": True, "format": 2})
        self.assertEqual(self.ok("init")["created"], False)

    def test_bootstrap_once(self):
        admin = self.ok("init", "--data", '{"name":"Ada","email":"ada@example.com"}')["admin"]
        self.assertEqual(admin["roles"], ["ADMIN"])
        uuid.UUID(admin["id"])
        self.refused("ICMS_EEXISTS", "init", "--data", '{"name":"Bob","email":"bob@example.com"}')

    def test_db_from_environment(self):
        r = run("init", env={"ICMS_DB": self.db})
        self.assertEqual(r.code, 0, r.err)
        self.assertEqual(r.json()["database"], self.db)
        r = run("init", cwd=self.dir)  # default ./icms.db
        self.assertEqual(r.json()["database"], "icms.db")
        self.assertTrue(os.path.exists(os.path.join(self.dir, "icms.db")))

    def test_newer_format_exit_3(self):
        self.ok("init")
        con = sqlite3.connect(self.db)
        self.assertEqual(json.loads(con.execute("SELECT v FROM kv WHERE k = ?", (FORMAT_KEY,))
                                    .fetchone()[0]), {"format": 2})
        con.close()
        # the sqlite3 shell, as an operator would
        subprocess.run(["sqlite3", self.db, "INSERT OR REPLACE INTO kv(k, v) VALUES (X'%s', "
                        "CAST('{\"format\":99}' AS BLOB));" % FORMAT_KEY.hex()], check=True)
        r = self.icms("project", "list")
        self.assertEqual(r.code, 3, r.err)
        err = r.error()
        self.assertEqual(err["code"], "ICMS_EVERSION")
        self.assertIn("99", err["message"])
        self.assertEqual(self.icms("init").code, 3)

    def test_not_a_database_exit_3(self):
        with open(self.db, "wb") as f:
            f.write(b"this is not an SQLite file, just bytes" * 100)
        r = self.icms("project", "list")
        self.assertEqual(r.code, 3)
        self.assertEqual(r.error()["code"], "ICMS_ESTORAGE")

    def test_locked_database_exit_3_after_busy_timeout(self):
        ids = self.world()
        # another process holds the write lock
        holder = subprocess.Popen(
            ["/usr/bin/python3", "-c",
             "import sqlite3, sys\n"
             "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
             "c.execute('BEGIN IMMEDIATE')\n"
             "print('locked', flush=True)\n"
             "sys.stdin.read()\n", self.db],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(holder.stdout.readline().strip(), "locked")
            doc = json.dumps({"name": "Late", "email": "late@example.com"})
            r = self.icms("--retries", "1", "--as", ids["admin"], "user", "create", "--data", doc)
            self.assertEqual(r.code, 3, r.err)
            self.assertEqual(r.out, "")
            self.assertEqual(r.error()["code"], "ICMS_EBUSY")
            self.assertGreaterEqual(r.elapsed, 4.0)  # SQLite's busy timeout (5 s) ran out first
            # readers are not blocked by the writer (WAL)
            self.assertEqual(self.icms("--as", ids["admin"], "user", "get", ids["owner"]).code, 0)
        finally:
            holder.stdin.close()
            holder.wait()
            holder.stdout.close()
        # nothing was written; once the lock is gone the same command works
        doc = json.dumps({"name": "Late", "email": "late@example.com"})
        self.ok("--as", ids["admin"], "user", "create", "--data", doc)


class Commands(CliCase):
    def test_project_lifecycle_and_refusals(self):
        ids = self.world()
        owner, admin, inv = ids["owner"], ids["admin"], ids["inv"]
        path = os.path.join(self.dir, "p.json")
        with open(path, "w") as f:
            json.dump(self.project_doc(), f)
        p = self.ok("--as", owner, "project", "create", "--json", path)
        self.assertEqual(p["state"], "DRAFT")
        pid = p["id"]
        self.assertEqual(p["total_cost"], 100 * 2500000000 + 37500000000)
        # the same document from stdin
        p2 = self.ok("--as", owner, "project", "create", "--json", "-", stdin=json.dumps(self.project_doc()))
        self.assertNotEqual(p2["id"], pid)
        # products on a draft
        prod = self.ok("--as", owner, "product", "add", pid, "--data",
                       '{"name":"Olives","unit":"jar","quantity":10,"unit_price":700000000}')
        prod_id = [x for x in prod["products"] if x["name"] == "Olives"][0]["id"]
        upd = self.ok("--as", owner, "product", "update", pid, prod_id, "--data", '{"quantity":12}')
        self.assertEqual([x for x in upd["products"] if x["id"] == prod_id][0]["quantity"], 12)
        rem = self.ok("--as", owner, "product", "remove", pid, prod_id)
        self.assertEqual(len(rem["products"]), 1)
        self.assertEqual(self.ok("--as", owner, "project", "update", pid, "--data",
                                 '{"title":"Olive oil, Crete"}')["title"], "Olive oil, Crete")
        # refusals: exit 1, one error object, nothing on stdout
        self.refused("ICMS_EINVALID", "--as", owner, "project", "create", "--data", '{"title":1}')
        self.refused("ICMS_EINVALID", "--as", owner, "project", "create", "--data", "{not json")
        self.refused("ICMS_ENOTFOUND", "--as", owner, "project", "get", "01a21000-0000-7000-8000-000000000000")
        self.refused("ICMS_EINVALID", "--as", owner, "project", "get", "not-a-uuid")
        self.refused("ICMS_EINVALID_TRANSITION", "--as", admin, "project", "approve", pid)
        err = self.icms("--as", inv, "project", "publish", pid)
        self.assertEqual(err.code, 1)
        self.assertIn(err.error()["code"], ("ICMS_ENOTFOUND", "ICMS_EFORBIDDEN"))
        pub = self.ok("--as", owner, "project", "publish", pid)
        self.assertEqual(pub["state"], "PUBLISHED")
        listed = self.ok("project", "list", "--data", '{"state":"PUBLISHED"}')
        self.assertEqual([x["id"] for x in listed["items"]], [pid])
        # participations
        req = self.ok("--as", inv, "participation", "request", pid, "--data",
                      json.dumps({"type": "PRODUCTS", "items": [{"product_id": p["products"][0]["id"], "units": 10}]}))
        self.assertEqual(req["status"], "PENDING")
        self.assertGreater(req["commitment"], 0)
        self.refused("ICMS_EEXISTS", "--as", inv, "participation", "request", pid, "--data",
                     '{"type":"PROFIT","capital":100000000}')
        got = self.ok("--as", inv, "participation", "get", req["id"])
        self.assertEqual(got["id"], req["id"])
        self.assertEqual(len(self.ok("--as", owner, "participation", "list", "--data",
                                     json.dumps({"project_id": pid}))["items"]), 1)
        self.assertEqual(self.ok("--as", owner, "participation", "approve", req["id"])["status"], "APPROVED")
        self.assertEqual(self.ok("--as", owner, "project", "get", pid)["state"], "FUNDING")
        req2 = self.ok("--as", ids["inv2"], "participation", "request", pid, "--data",
                       '{"type":"PROFIT","capital":100000000}')
        self.assertEqual(self.ok("--as", owner, "participation", "reject", req2["id"], "--reason",
                                 "enough capital")["status"], "REJECTED")
        self.refused("ICMS_EINVALID_TRANSITION", "--as", ids["inv2"], "participation", "withdraw", req2["id"])
        # cancel with a reason
        c = self.ok("--as", owner, "project", "cancel", p2["id"], "--reason", "duplicate")
        self.assertEqual(c["state"], "CANCELLED")

    def test_users(self):
        ids = self.world()
        admin, inv = ids["admin"], ids["inv"]
        me = self.ok("--as", inv, "user", "get", inv)
        self.assertEqual(me["email"], "inv@example.com")
        self.assertEqual(me["kyc"]["status"], "VERIFIED")
        self.assertEqual(self.ok("--as", inv, "user", "update", inv, "--data", '{"name":"Ivan"}')["id"], inv)
        self.assertIn("OWNER", self.ok("--host", "user", "grant", inv, "OWNER")["roles"])
        self.assertNotIn("OWNER", self.ok("--as", admin, "user", "revoke", inv, "OWNER")["roles"])
        self.refused("ICMS_EFORBIDDEN", "--as", inv, "user", "grant", inv, "ADMIN")
        self.refused("ICMS_EINVALID", "--host", "user", "grant", inv, "KING")
        hist = self.ok("--as", inv, "user", "history", inv)
        self.assertEqual(hist["invested"], 0)
        self.assertEqual(self.ok("--host", "user", "deactivate", ids["inv2"])["status"], "DEACTIVATED")
        self.refused("ICMS_EUNAUTHENTICATED", "--as", ids["inv2"], "user", "get", ids["inv2"])
        self.assertEqual(self.ok("--as", inv, "user", "erase", inv)["status"], "ERASED")

    def test_kyc_optional_and_correlation_id(self):
        ids = self.world()
        late = self.ok("--as", ids["admin"], "user", "create", "--data",
                       '{"name":"Nokyc","email":"nokyc@example.com"}')["id"]
        p = self.ok("--as", ids["owner"], "project", "create", "--data", json.dumps(self.project_doc()))
        self.ok("--as", ids["owner"], "project", "publish", p["id"])
        doc = '{"type":"PROFIT","capital":100000000}'
        r = self.icms("--as", late, "participation", "request", p["id"], "--data", doc)
        self.assertEqual(r.code, 1)  # KYC not verified
        req = self.ok("--kyc-optional", "--as", late, "--correlation-id", "corr-42",
                      "participation", "request", p["id"], "--data", doc)
        self.assertEqual(req["status"], "PENDING")
        events = self.ok("--host", "events", "read", "t", "--max", "1000")["events"]
        mine = [e for e in events if e["type"] == "participation.requested"]
        self.assertEqual([e["correlation_id"] for e in mine], ["corr-42"])

    def test_idempotency_key(self):
        ids = self.world()
        doc = json.dumps(self.project_doc())
        a = self.icms("--as", ids["owner"], "--idempotency-key", "k1", "project", "create", "--data", doc)
        b = self.icms("--as", ids["owner"], "--idempotency-key", "k1", "project", "create", "--data", doc)
        self.assertEqual(a.code, 0)
        self.assertEqual(a.out, b.out)
        self.assertEqual(len(self.ok("--as", ids["owner"], "project", "list", "--data",
                                     json.dumps({"owner_id": ids["owner"]}))["items"]), 1)
        other = dict(self.project_doc(), title="Other")
        self.refused("ICMS_EIDEMPOTENCY", "--as", ids["owner"], "--idempotency-key", "k1",
                     "project", "create", "--data", json.dumps(other))

    def test_tick_expires_with_now(self):
        ids = self.world()
        p = self.ok("--as", ids["owner"], "project", "create", "--data", json.dumps(self.project_doc(days=2)))
        self.ok("--as", ids["owner"], "project", "publish", p["id"])
        self.assertEqual(self.ok("tick")["expired"], 0)
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3 * 86400))
        report = self.ok("tick", "--now", later)
        self.assertEqual(report["expired"], 1)
        self.assertEqual(self.ok("--as", ids["owner"], "project", "get", p["id"])["state"], "EXPIRED")
        self.assertIn("--now", self.usage("tick", "--now", "yesterday"))

    def test_audit_keypair_checkpoint_verify_and_tampering(self):
        ids = self.world()
        key = os.path.join(self.dir, "audit.key")
        pub = self.ok("audit", "keypair", "--secret-key-file", key)["public_key"]
        self.assertEqual(len(pub), 64)
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        with open(key) as f:
            self.assertEqual(len(f.read().strip()), 128)
        self.assertIn("cannot create", self.usage("audit", "keypair", "--secret-key-file", key))
        self.assertIn("--secret-key-file", self.usage("audit", "keypair"))
        cp = self.ok("audit", "checkpoint", "--secret-key-file", key)
        cpfile = os.path.join(self.dir, "cp.json")
        with open(cpfile, "w") as f:
            json.dump(cp, f)
        report = self.ok("audit", "verify", "--checkpoint", cpfile, "--public-key", pub)
        self.assertTrue(report["valid"])
        self.assertEqual(report["entries"], cp["seq"])
        self.assertIn("together", self.usage("audit", "verify", "--checkpoint", cpfile))
        # a wrong key: the checkpoint does not verify
        other = self.ok("audit", "keypair", "--secret-key-file", key + "2")["public_key"]
        self.assertEqual(self.icms("audit", "verify", "--checkpoint", cpfile, "--public-key", other).code, 1)
        # remove the last entry behind the library's back: exit 1 with the finding on stdout
        con = sqlite3.connect(self.db)
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            con.execute('DROP TRIGGER "%s"' % name)
        con.execute("DELETE FROM kv_log WHERE k = (SELECT max(k) FROM kv_log WHERE k >= ? AND k < ?)",
                    (AUDIT_LO, AUDIT_HI))
        con.commit()
        con.close()
        r = self.icms("audit", "verify", "--checkpoint", cpfile, "--public-key", pub)
        self.assertEqual(r.code, 1, r.err)
        self.assertFalse(r.json()["valid"])


class PaymentsAndEvents(CliCase):
    def funding_project(self, ids):
        p = self.ok("--as", ids["owner"], "project", "create", "--data", json.dumps(self.project_doc()))
        self.ok("--as", ids["owner"], "project", "publish", p["id"])
        part = self.ok("--as", ids["inv"], "participation", "request", p["id"], "--data",
                       '{"type":"PROFIT","capital":100000000000}')
        self.ok("--as", ids["owner"], "participation", "approve", part["id"])
        return p["id"], part["id"]

    def test_payment_needs_a_node_and_a_key(self):
        ids = self.world()
        pid, part = self.funding_project(ids)
        doc = json.dumps({"refund_address": "GcwphVTaks2XGGB8RUk7auWdgmG8CV14TF"})
        self.refused("ICMS_EINVALID", "--as", ids["inv"], "payment", "initiate", part, "--data", doc)
        # no node configured, then a node that is not there: storage/transport failure, exit 3
        for extra in ([], ["--rpc-url", "http://127.0.0.1:9/"]):
            r = self.icms("--as", ids["inv"], "--idempotency-key", "p1", *extra, "payment",
                          "initiate", part, "--data", doc)
            self.assertEqual(r.code, 3, r.err)
            self.assertEqual(r.error()["code"], "ICMS_ETRANSPORT")
        r = self.icms("--as", ids["inv"], "--idempotency-key", "p1", "payment", "initiate", part,
                      "--data", doc, env={"ICMS_RPC_URL": "http://127.0.0.1:9/"})
        self.assertEqual(r.code, 3)
        self.assertIn("cannot read the RPC password file",
                      self.usage("--rpc-url", "http://127.0.0.1:9/", "--rpc-password-file",
                                 os.path.join(self.dir, "none"), "project", "list"))
        # the password never appears on the command line, nor in an error message
        pw = os.path.join(self.dir, "rpc.pw")
        with open(pw, "w") as f:
            f.write("s3cret-pw\n")
        r = self.icms("--as", ids["inv"], "--idempotency-key", "p2", "--rpc-url", "http://127.0.0.1:9/",
                      "--rpc-user", "gap", "--rpc-password-file", pw, "payment", "initiate", part, "--data", doc)
        self.assertEqual(r.code, 3)
        self.assertNotIn("s3cret", r.err)
        self.refused("ICMS_EINVALID", "--as", ids["inv"], "payment", "submit",
                     "01a21000-0000-7000-8000-000000000000", "nothex")
        self.refused("ICMS_ENOTFOUND", "--as", ids["inv"], "payment", "get",
                     "01a21000-0000-7000-8000-000000000000")
        self.assertEqual(self.ok("--as", ids["inv"], "payment", "list", "--data",
                                 json.dumps({"investor_id": ids["inv"]}))["items"], [])
        self.assertEqual(self.ok("--host", "refund", "list", "--data",
                                 json.dumps({"project_id": pid}))["items"], [])
        self.assertEqual(self.ok("--host", "payout", "list", "--data",
                                 json.dumps({"project_id": pid}))["items"], [])
        self.refused("ICMS_EINVALID_TRANSITION", "--host", "project", "distribute", pid, "--data",
                     '{"profit":100}')

    def test_payout_address_and_releases_without_a_node(self):
        ids = self.world()
        owner, admin, inv = ids["owner"], ids["admin"], ids["inv"]
        address = "GcwphVTaks2XGGB8RUk7auWdgmG8CV14TF"
        pid, _ = self.funding_project(ids)
        p = self.ok("--as", owner, "project", "set-payout-address", pid, address)
        self.assertEqual(p["payout_address"], address)
        self.assertEqual(p["state"], "FUNDING")
        # only the owner (and the host) give it; a bad address is refused; nothing changes
        self.refused("ICMS_EFORBIDDEN", "--as", inv, "project", "set-payout-address", pid, address)
        self.refused("ICMS_EFORBIDDEN", "--as", admin, "project", "set-payout-address", pid, address)
        self.refused("ICMS_EINVALID", "--as", owner, "project", "set-payout-address", pid, "not-an-address")
        self.refused("ICMS_EINVALID", "--as", owner, "project", "set-payout-address", pid,
                     "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn")  # a testnet address on a main database
        self.refused("ICMS_ENOTFOUND", "--as", owner, "project", "set-payout-address",
                     "01a21000-0000-7000-8000-000000000000", address)
        self.assertEqual(self.ok("--host", "project", "set-payout-address", pid, address)["payout_address"],
                         address)
        # who reads it: the owner, admins, the host; not investors nor anonymous readers
        for who in (["--as", owner], ["--as", admin], ["--host"]):
            self.assertEqual(self.ok(*who, "project", "get", pid)["payout_address"], address)
            listed = self.ok(*who, "project", "list", "--data", json.dumps({"owner_id": owner}))
            self.assertEqual([x.get("payout_address") for x in listed["items"]], [address])
        for who in (["--as", inv], ["--as", ids["inv2"]], []):
            got = self.ok(*who, "project", "get", pid)
            self.assertEqual(got["id"], pid)
            self.assertNotIn("payout_address", got)
            listed = self.ok(*who, "project", "list", "--data", '{"state":"FUNDING"}')
            self.assertEqual([x["id"] for x in listed["items"]], [pid])
            self.assertNotIn("payout_address", listed["items"][0])
        # no release before approval; the listing's rules
        self.assertEqual(self.ok("--host", "release", "list", "--data", '{"status":"DUE"}')["items"], [])
        self.assertEqual(self.ok("--as", owner, "release", "list", "--data",
                                 json.dumps({"project_id": pid}))["items"], [])
        self.refused("ICMS_EINVALID", "--host", "release", "list")
        self.refused("ICMS_EINVALID", "--host", "release", "list", "--data", '{"status":"LOST"}')
        self.refused("ICMS_EFORBIDDEN", "release", "list", "--data", '{"status":"DUE"}')
        self.refused("ICMS_EFORBIDDEN", "--as", inv, "release", "list", "--data",
                     json.dumps({"owner_id": owner}))
        self.refused("ICMS_ENOTFOUND", "--host", "release", "get", "01a21000-0000-7000-8000-000000000000")
        self.refused("ICMS_EINVALID", "--host", "release", "get", "not-a-uuid")
        self.refused("ICMS_EINVALID", "--host", "release", "record",
                     "01a21000-0000-7000-8000-000000000000", "nothex")
        self.refused("ICMS_EFORBIDDEN", "--as", inv, "release", "record",
                     "01a21000-0000-7000-8000-000000000000", "ab" * 32)
        # approval without the node: the release is made in the approving transaction,
        # but a project still FUNDING is not approved
        self.refused("ICMS_EINVALID_TRANSITION", "--as", admin, "project", "approve", pid)

    def test_payment_against_a_fake_node_over_http(self):
        """initiate, submit, verify through the real libcurl transport, with a password file;
        then approval releases the escrow, and the owner's release is recorded once."""
        addresses = load("addresses.json")
        wallet = addresses["p2pkh_mainnet"]
        script = "76a914" + addresses["hash160"] + "88ac"
        capital = 123456789012
        pay = {"name": "pay", "inputs": [{"txid": "ab" * 32, "vout": 0, "script": "00"}],
               "outputs": [{"value": capital, "script": script}]}
        coinbase = {"name": "cb", "inputs": [{"txid": "00" * 32, "vout": 4294967295, "script": "0101"}],
                    "outputs": [{"value": 5000000000, "script": script}]}
        owner_address = addresses["other_real_mainnet_p2pkh"][1]
        owner_script = "76a914" + owner_address["hash160"] + "88ac"
        # what the host's wallet pays the owner once the project is approved
        release = {"name": "release", "inputs": [{"txid": "cd" * 32, "vout": 0, "script": "00"}],
                   "outputs": [{"value": capital, "script": owner_script}]}
        coinbase2 = {"name": "cb2", "inputs": [{"txid": "00" * 32, "vout": 4294967295, "script": "0102"}],
                     "outputs": [{"value": 5000000000, "script": script}]}
        scenario = {"generation": "0.16.3", "network": "main", "rpcuser": "gapuser",
                    "rpcpassword": "s3cret-Pa55word",
                    "blocks": [{"time": 1413914400, "txs": [coinbase]}],
                    "mempool": [pay],
                    "steps": [{"blocks": [{"time": 1413914550, "txs": [pay]}], "mempool": []},
                              {"blocks": [{"time": 1413914700, "txs": [coinbase2, release]}],
                               "mempool": []}],
                    "wallet": {"new_addresses": [wallet]}}
        path = os.path.join(self.dir, "scenario.json")
        with open(path, "w") as f:
            json.dump(scenario, f)
        node_py = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fake_gapcoind",
                               "fake_gapcoind.py")
        node = subprocess.Popen(["/usr/bin/python3", node_py, path], stdout=subprocess.PIPE, text=True)
        try:
            info = json.loads(node.stdout.readline())
            url = "http://127.0.0.1:%d/" % info["port"]
            txid = info["txids"]["pay"]
            pw = os.path.join(self.dir, "rpc.pw")
            with open(pw, "w") as f:
                f.write("s3cret-Pa55word\n")
            wrong = os.path.join(self.dir, "wrong.pw")
            with open(wrong, "w") as f:
                f.write("nope\n")
            rpc = ["--rpc-url", url, "--rpc-user", "gapuser", "--rpc-password-file", pw]
            ids = self.world()
            doc = dict(self.project_doc(), confirmations=1, products=[
                {"name": "Oil", "unit": "can", "quantity": 1, "unit_price": capital - 37500000000}])
            p = self.ok("--as", ids["owner"], "project", "create", "--data", json.dumps(doc))
            self.assertEqual(p["total_cost"], capital)
            self.ok("--as", ids["owner"], "project", "publish", p["id"])
            part = self.ok("--as", ids["inv"], "participation", "request", p["id"], "--data",
                           json.dumps({"type": "PROFIT", "capital": capital}))
            self.ok("--as", ids["owner"], "participation", "approve", part["id"])
            init = ["--as", ids["inv"], "--idempotency-key", "pay-1", "payment", "initiate", part["id"],
                    "--data", json.dumps({"refund_address": addresses["other_real_mainnet_p2pkh"][0]["address"]})]
            # wrong credentials: the node answers 401, and nothing is written
            r = self.icms("--rpc-url", url, "--rpc-user", "gapuser", "--rpc-password-file", wrong, *init)
            self.assertEqual(r.code, 1, r.err)
            self.assertEqual(r.error()["code"], "ICMS_EUNAUTHENTICATED")
            self.assertNotIn("nope", r.err)
            payment = self.ok(*rpc, *init)
            self.assertEqual(payment["address"], wallet)
            self.assertEqual(payment["amount"], capital)
            self.assertEqual(self.ok("--as", ids["inv"], "payment", "submit", payment["id"], txid)["status"],
                             "SUBMITTED")
            v = self.ok("--host", *rpc, "payment", "verify", payment["id"])
            self.assertEqual(v["status"], "SUBMITTED")  # in the mempool
            # the node mines a block with it
            req = urllib.request.Request(url, data=b'{"id":1,"method":"fake_step","params":[]}',
                                         headers={"Authorization": "Basic " + base64.b64encode(
                                             b"gapuser:s3cret-Pa55word").decode()})
            urllib.request.urlopen(req).read()
            v = self.ok("--host", *rpc, "payment", "verify", payment["id"])
            self.assertEqual(v["status"], "CONFIRMED")
            self.assertEqual(v["credited"], capital)
            project = self.ok("--as", ids["owner"], "project", "get", p["id"])
            self.assertEqual(project["funded"], capital)
            self.assertEqual(project["state"], "PENDING_ADMIN_APPROVAL")
            self.assertTrue(self.ok("--host", "check")["ok"])
            # approval needs the owner's address; then the escrow is released to it
            self.refused("ICMS_EINVALID_TRANSITION", "--as", ids["admin"], "project", "approve", p["id"])
            self.ok("--as", ids["owner"], "project", "set-payout-address", p["id"], owner_address["address"])
            approved = self.ok("--as", ids["admin"], "project", "approve", p["id"])
            self.assertEqual(approved["state"], "APPROVED")
            rid = approved["release_id"]
            self.refused("ICMS_EINVALID_TRANSITION", "--as", ids["owner"], "project",
                         "set-payout-address", p["id"], addresses["p2pkh_mainnet"])
            due = self.ok("--host", "release", "list", "--data", '{"status":"DUE"}')["items"]
            self.assertEqual([r["id"] for r in due], [rid])
            r = self.ok("--as", ids["owner"], "release", "get", rid)
            self.assertEqual((r["status"], r["amount"], r["address"], r["project_id"], r["owner_id"]),
                             ("DUE", capital, owner_address["address"], p["id"], ids["owner"]))
            self.assertIsNone(r["txid"])
            self.refused("ICMS_EFORBIDDEN", "--as", ids["inv"], "release", "get", rid)
            self.assertEqual(self.ok("--as", ids["inv"], "release", "list", "--data",
                                     json.dumps({"project_id": p["id"]}))["items"], [])
            paid = info["txids"]["release"]
            # not mined yet: refused, still due; the owner may not record it
            self.refused("ICMS_EINVALID_TRANSITION", "--host", *rpc, "release", "record", rid, paid)
            self.refused("ICMS_EFORBIDDEN", "--as", ids["owner"], *rpc, "release", "record", rid, paid)
            urllib.request.urlopen(req).read()  # the node mines it
            # a transaction that pays the owner nothing
            self.refused("ICMS_EINVALID", "--host", *rpc, "release", "record", rid, txid)
            self.assertEqual(self.ok("--as", ids["owner"], "release", "get", rid)["status"], "DUE")
            r = self.ok("--host", *rpc, "release", "record", rid, paid)
            self.assertEqual((r["status"], r["txid"]), ("PAID", paid))
            self.refused("ICMS_EINVALID_TRANSITION", "--host", *rpc, "release", "record", rid, paid)
            self.assertEqual(self.ok("--as", ids["owner"], "release", "list", "--data",
                                     '{"status":"PAID"}')["items"][0]["id"], rid)
            self.assertEqual(self.ok("--host", "release", "list", "--data", '{"status":"DUE"}')["items"], [])
            self.assertTrue(self.ok("--host", "check")["ok"])
        finally:
            node.kill()
            node.wait()
            node.stdout.close()

    def test_check_finds_a_tampered_balance(self):
        ids = self.world()
        pid, _ = self.funding_project(ids)
        self.refused("ICMS_EFORBIDDEN", "--as", ids["inv"], "check")
        report = self.ok("--host", "check")
        self.assertEqual(report["ok"], True)
        self.assertEqual(report["violations"], [])
        # raise the project's funded amount behind the library's back
        con = sqlite3.connect(self.db)
        rows = [(k, v) for k, v in con.execute("SELECT k, v FROM kv") if pid.encode() in bytes(v)
                and b'"funded":0' in bytes(v) and b'"title"' in bytes(v)]
        self.assertEqual(len(rows), 1)
        k, v = rows[0]
        con.execute("UPDATE kv SET v = ? WHERE k = ?", (bytes(v).replace(b'"funded":0', b'"funded":7'), k))
        con.commit()
        con.close()
        r = self.icms("--host", "check")
        self.assertEqual(r.code, 1, r.err)
        report = r.json()
        self.assertEqual(report["ok"], False)
        self.assertGreater(len(report["violations"]), 0)

    def test_events_read_ack_tail(self):
        ids = self.world()
        self.refused("ICMS_EFORBIDDEN", "--as", ids["inv"], "events", "read", "ops")
        first = self.ok("--host", "events", "read", "ops", "--max", "2")
        self.assertEqual([e["seq"] for e in first["events"]], [1, 2])
        self.assertEqual(first["acked"], 0)
        self.assertEqual(self.ok("--host", "events", "ack", "ops", "2"), {"consumer": "ops", "acked": 2})
        again = self.ok("--host", "events", "read", "ops", "--max", "1")
        self.assertEqual(again["events"][0]["seq"], 3)
        self.assertEqual(self.ok("--host", "events", "read", "ops", "--after", "0", "--max", "1")["events"][0]["seq"], 1)
        # tail prints one event a line and acknowledges what it printed
        r = self.icms("--host", "events", "tail", "ops", "--max", "3")
        self.assertEqual(r.code, 0, r.err)
        lines = [json.loads(x) for x in r.out.splitlines()]
        self.assertEqual([e["seq"] for e in lines], [3, 4, 5])
        consumers = self.ok("--host", "events", "consumers")["consumers"]
        self.assertEqual([c["acked"] for c in consumers if c["name"] == "ops"], [5])
        self.usage("--host", "events", "read", "ops", "--max", "0")
        self.usage("--host", "events", "ack", "ops", "minus")
        self.refused("ICMS_EINVALID", "--host", "events", "ack", "ops", "999999")


class Auth(CliCase):
    def test_password_login_token_refresh_logout(self):
        admin = self.ok("init", "--data", '{"name":"Ada","email":"ada@example.com"}')["admin"]["id"]
        mk = os.path.join(self.dir, "master.key")
        with open(mk, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        key = ["--master-key-file", mk]
        self.assertIn("master key", self.usage("--as", admin, "auth", "password", admin,
                                               "--password-file", "-", stdin="pw"))
        self.assertIn("--password-file", self.usage("--as", admin, "auth", "password", admin, *key))
        self.usage("--as", admin, "auth", "password", admin, "--password", "x", *key)
        self.assertIn("stdin", self.usage("auth", "login", "--json", "-", "--password-file", "-", *key))
        bad = os.path.join(self.dir, "bad.key")
        with open(bad, "w") as f:
            f.write("abcd\n")
        self.refused("ICMS_EINVALID", "--as", admin, "auth", "password", admin, "--password-file", "-",
                     "--master-key-file", bad, stdin="correct horse battery\n")
        r = self.ok("--as", admin, "auth", "password", admin, "--password-file", "-", *key,
                    stdin="correct horse battery\n")
        self.assertEqual(r, {"user_id": admin, "password_set": True})
        login = ["auth", "login", "--data", '{"email":"ada@example.com"}', "--password-file", "-"] + key
        self.refused("ICMS_EUNAUTHENTICATED", *login, stdin="wrong password\n")
        pair = self.ok(*login, stdin="correct horse battery\n")
        token = pair["access_token"]
        self.assertEqual(pair["user_id"], admin)
        # the token acts as its user, in every command
        self.assertEqual(self.ok("--token", token, "user", "get", admin)["email"], "ada@example.com")
        claims = self.ok("--token", token, "auth", "verify", *key)
        self.assertEqual(claims["sub"], admin)
        self.refused("ICMS_EUNAUTHENTICATED", "--token", "garbage", "user", "get", admin)
        self.assertIn("not several", self.usage("--token", token, "--as", admin, "user", "get", admin))
        sessions = self.ok("--token", token, "auth", "sessions", admin)["sessions"]
        self.assertEqual([x["id"] for x in sessions], [pair["session_id"]])
        self.assertEqual(len(self.ok("auth", "jwks", *key)["keys"]), 1)
        # refresh tokens come from a file or stdin and are single use
        new = self.ok("auth", "refresh", "--refresh-token-file", "-", *key, stdin=pair["refresh_token"] + "\n")
        self.assertNotEqual(new["refresh_token"], pair["refresh_token"])
        self.refused("ICMS_EUNAUTHENTICATED", "auth", "refresh", "--refresh-token-file", "-", *key,
                     stdin=pair["refresh_token"] + "\n")
        # reuse revoked the session: the new access token is refused too
        self.refused("ICMS_EUNAUTHENTICATED", "--token", new["access_token"], "user", "get", admin)
        pair2 = self.ok(*login, stdin="correct horse battery\n")
        out = self.ok("--token", pair2["access_token"], "auth", "logout", pair2["session_id"])
        self.assertEqual(out["revoked"], True)
        self.refused("ICMS_EUNAUTHENTICATED", "--token", pair2["access_token"], "user", "get", admin)
        self.assertEqual(self.ok("--host", "auth", "logout-all", admin)["user_id"], admin)
        self.assertIn("kid", self.ok("--host", "auth", "rotate-keys", *key))



    def test_external_login_state_pkce_and_linking(self):
        # start: a fresh state and PKCE pair each time, no database needed
        a, b = self.ok("auth", "external-start"), self.ok("auth", "external-start")
        self.assertNotEqual(a["state"], b["state"])
        self.assertEqual(a["code_challenge_method"], "S256")
        self.assertEqual(len(a["code_verifier"]), 43)
        digest = hashlib.sha256(a["code_verifier"].encode()).digest()
        self.assertEqual(a["code_challenge"], base64.urlsafe_b64encode(digest).decode().rstrip("="))
        self.assertFalse(os.path.exists(self.db))
        # pkce-check: the verifier from a file or stdin, never the command line
        # (a challenge is base64url and may start with '-', so it comes after --)
        self.assertEqual(self.ok("auth", "pkce-check", "--verifier-file", "-", "--",
                                 a["code_challenge"], stdin=a["code_verifier"] + "\n"),
                         {"valid": True})
        self.refused("ICMS_EUNAUTHENTICATED", "auth", "pkce-check", "--verifier-file", "-", "--",
                     b["code_challenge"], stdin=a["code_verifier"] + "\n")
        # one that does start with '-' is read as the challenge there, not as an option
        dashed = "-" + "A" * 42
        self.refused("ICMS_EUNAUTHENTICATED", "auth", "pkce-check", "--verifier-file", "-", "--",
                     dashed, stdin=a["code_verifier"] + "\n")
        self.usage("auth", "pkce-check", "--verifier-file", "-", dashed,
                   stdin=a["code_verifier"] + "\n")
        self.assertIn("--verifier-file", self.usage("auth", "pkce-check", "--", a["code_challenge"]))
        self.usage("auth", "pkce-check", "--verifier", a["code_verifier"], "--", a["code_challenge"])
        self.usage("auth", "pkce-check")
        # finish: the provider's claims as a document, the state checked against the kept one
        admin = self.ok("init", "--data", '{"name":"Ada","email":"ada@example.com"}')["admin"]["id"]
        mk = os.path.join(self.dir, "master.key")
        with open(mk, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        key = ["--master-key-file", mk]
        state = os.path.join(self.dir, "state.txt")
        with open(state, "w") as f:
            f.write(a["state"] + "\n")
        ident = {"provider": "google", "subject": "g-1234", "email": "bea@example.com",
                 "email_verified": True, "name": "Bea", "state": a["state"]}
        count = len(self.ok("--host", "events", "read", "x", "--after", "0", "--max", "1000")["events"])
        wrong = dict(ident, state=b["state"])
        self.refused("ICMS_EUNAUTHENTICATED", "auth", "external-finish", "--state-file", state,
                     "--data", json.dumps(wrong), *key)
        nostate = dict(ident)
        del nostate["state"]
        self.refused("ICMS_EUNAUTHENTICATED", "auth", "external-finish", "--state-file", state,
                     "--data", json.dumps(nostate), *key)
        self.refused("ICMS_EINVALID", "auth", "external-finish", "--data",
                     json.dumps(dict(ident, email_verified=False)), *key)
        self.refused("ICMS_EINVALID", "auth", "external-finish", "--data",
                     json.dumps(dict(ident, email_verified="yes")), *key)
        self.refused("ICMS_EINVALID", "auth", "external-finish", "--data", '{"provider":"google"}', *key)
        self.refused("ICMS_EEXISTS", "auth", "external-finish", "--data",
                     json.dumps(dict(ident, subject="g-9", email="ada@example.com")), *key)
        self.assertIn("needs a JSON document", self.usage("auth", "external-finish", *key))
        self.assertIn("master key", self.usage("auth", "external-finish", "--data", json.dumps(ident)))
        self.assertIn("stdin", self.usage("auth", "external-finish", "--json", "-", "--state-file", "-", *key))
        self.usage("auth", "external-finish", "--state", a["state"], "--data", json.dumps(ident), *key)
        # none of the refusals wrote anything
        self.assertEqual(len(self.ok("--host", "events", "read", "x", "--after", "0", "--max", "1000")["events"]), count)
        pair = self.ok("auth", "external-finish", "--state-file", "-", "--data", json.dumps(ident), *key,
                       stdin=a["state"] + "\n")
        bea = pair["user_id"]
        self.assertNotEqual(bea, admin)
        self.assertEqual(self.ok("--token", pair["access_token"], "user", "get", bea)["email"], "bea@example.com")
        again = self.ok("auth", "external-finish", "--data", json.dumps(nostate), *key)
        self.assertEqual(again["user_id"], bea)
        self.assertNotEqual(again["session_id"], pair["session_id"])
        # link another provider to the signed-in user; it then signs the same user in
        apple = '{"provider":"apple","subject":"a-7"}'
        self.refused("ICMS_EFORBIDDEN", "auth", "link-identity", "--data", apple, *key)
        linked = self.ok("--token", pair["access_token"], "auth", "link-identity", "--data", apple, *key)
        self.assertEqual(linked, {"user_id": bea, "provider": "apple", "linked": True})
        self.refused("ICMS_EEXISTS", "--as", admin, "auth", "link-identity", "--data", apple, *key)
        self.refused("ICMS_EINVALID", "--as", admin, "auth", "link-identity", "--data", '{"subject":"x"}', *key)
        self.assertEqual(self.ok("auth", "external-finish", "--data", apple, *key)["user_id"], bea)

class NatsAndNotify(CliCase):
    def start_nats(self, port=None):
        """A JetStream server (self.nats_proc); port: the same one again, on the same store."""
        binary = nats_server_binary()
        if not binary:
            self.skipTest("nats-server is not installed")
        port = port or free_port()
        store = os.path.join(self.dir, "js")
        proc = subprocess.Popen([binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.nats_proc = proc
        self.addCleanup(lambda: (proc.terminate(), proc.wait(10)))
        for _ in range(250):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                time.sleep(0.02)
        self.fail("nats-server did not start")

    def all_events(self):
        return self.ok("--host", "events", "read", "everything", "--after", "0", "--max", "1000")["events"]

    def test_publish_nats(self):
        ids = self.world()
        events = self.all_events()
        self.assertGreater(len(events), 3)
        # usage errors: exit 2
        self.usage("events", "publish-nats", "--follow", "0")
        self.usage("events", "publish-nats", "--follow", "soon")
        self.assertIn("--url does not apply", self.usage("--host", "events", "consumers", "--url", "x"))
        # no server: exit 3, the events wait in the outbox
        down = "nats://127.0.0.1:%d" % free_port()
        r = self.icms("events", "publish-nats", "--url", down, "--create-stream")
        self.assertEqual(r.code, 3, r.err)
        self.assertEqual(r.out, "")
        self.assertEqual(r.error()["code"], "ICMS_ETRANSPORT")
        port = self.start_nats()
        url = "nats://127.0.0.1:%d" % port
        # a stream that does not exist and is not to be created: exit 3, nothing published
        r = self.icms("events", "publish-nats", "--url", url)
        self.assertEqual(r.code, 3, r.err)
        self.assertIn("stream ICMS does not exist", r.error()["message"])
        out = self.ok("events", "publish-nats", "--url", url, "--create-stream")
        self.assertEqual(out["published"], len(events))
        self.assertEqual((out["stream"], out["subject_prefix"], out["consumer"]), ("ICMS", "icms.", "nats"))
        # the server holds them, in seq order, subject = prefix + type, deduplicated by event id
        nc = NatsClient(port)
        self.addCleanup(nc.close)
        info = nc.request("$JS.API.STREAM.INFO.ICMS", None)
        self.assertEqual(info["state"]["messages"], len(events), info)
        for i, e in enumerate(events):
            m = nc.request("$JS.API.STREAM.MSG.GET.ICMS", {"seq": i + 1})["message"]
            self.assertEqual(m["subject"], "icms." + e["type"])
            self.assertIn(e["event_id"], base64.b64decode(m["data"]).decode())
            self.assertIn(("Nats-Msg-Id: " + e["event_id"]).encode(), base64.b64decode(m["hdrs"]))
        # once published, not again
        self.assertEqual(self.ok("events", "publish-nats", "--url", url)["published"], 0)
        # --follow: new events are published while it runs, then it stops by itself
        t0 = time.monotonic()
        follow = subprocess.Popen([ICMS, "--db", self.db, "events", "publish-nats", "--url", url,
                                   "--follow", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        time.sleep(1.0)  # an event made while it runs
        self.ok("--host", "user", "create", "--data", '{"name":"Zoe","email":"zoe@example.com"}')
        fout, ferr = follow.communicate(timeout=60)
        self.assertGreaterEqual(time.monotonic() - t0, 2.0)
        self.assertEqual((follow.returncode, ferr), (0, ""))
        out = json.loads(fout)
        self.assertEqual(out["published"], 1)
        self.assertGreater(out["rounds"], 1)
        info = nc.request("$JS.API.STREAM.INFO.ICMS", None)
        self.assertEqual(info["state"]["messages"], len(events) + 1)
        # another consumer, prefix and stream: the whole outbox again, under its own subjects
        out = self.ok("events", "publish-nats", "--url", url, "--stream", "AUDIT", "--subject-prefix",
                      "shop.", "--consumer", "nats-audit", "--create-stream")
        self.assertEqual(out["published"], len(events) + 1)
        m = nc.request("$JS.API.STREAM.MSG.GET.AUDIT", {"seq": 1})["message"]
        self.assertEqual(m["subject"], "shop." + events[0]["type"])

    def test_publish_nats_server_killed_mid_stream(self):
        """The server dies after some events were acknowledged: exit 3, and stderr says how far it got."""
        self.world()
        events = self.all_events()
        last = events[-1]["seq"]
        port = self.start_nats()
        url = "nats://127.0.0.1:%d" % port
        follow = subprocess.Popen([ICMS, "--db", self.db, "events", "publish-nats", "--url", url,
                                   "--create-stream", "--follow", "120"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: follow.poll() is None and (follow.kill(), follow.wait(10)))
        # wait until the publisher has moved its cursor past every event (acknowledged by the
        # server), so that the kill below comes strictly between two rounds
        def cursor():
            consumers = self.ok("--host", "events", "consumers")["consumers"]
            return next((c["acked"] for c in consumers if c["name"] == "nats"), 0)
        deadline = time.monotonic() + 60
        while cursor() != last:
            self.assertIsNone(follow.poll(), follow.stderr.read() if follow.poll() is not None else "")
            self.assertLess(time.monotonic(), deadline, "the publisher never caught up")
            time.sleep(0.05)
        self.nats_proc.kill()  # SIGKILL: the server goes away without a word
        self.nats_proc.wait(10)
        # a new event: the next round publishes it to a server that is gone
        ugo = self.ok("--host", "user", "create", "--data", '{"name":"Ugo","email":"ugo@example.com"}')
        fout, ferr = follow.communicate(timeout=60)
        self.assertEqual(follow.returncode, 3, ferr)
        self.assertEqual(fout, "")
        lines = ferr.strip().splitlines()
        self.assertEqual(len(lines), 1, ferr)
        report = json.loads(lines[0])
        self.assertEqual(report["error"]["code"], "ICMS_ETRANSPORT")
        self.assertEqual(report["published"], len(events), report)
        self.assertEqual(report["cursor"], last, report)
        self.assertEqual((report["url"], report["stream"], report["consumer"]), (url, "ICMS", "nats"))
        self.assertGreater(report["rounds"], 1)
        self.assertEqual(cursor(), last)  # the cursor did not move past what the server held
        # the same server back on its store: it holds exactly what the error said was published
        self.start_nats(port)
        nc = NatsClient(port)
        self.addCleanup(nc.close)
        info = nc.request("$JS.API.STREAM.INFO.ICMS", None)
        self.assertEqual(info["state"]["messages"], report["published"], info)
        self.assertEqual(info["state"]["last_seq"], report["published"], info)
        # and the next run picks up from the cursor: only the new event, once
        self.assertEqual(self.ok("events", "publish-nats", "--url", url)["published"], 1)
        info = nc.request("$JS.API.STREAM.INFO.ICMS", None)
        self.assertEqual(info["state"]["messages"], len(events) + 1, info)
        m = nc.request("$JS.API.STREAM.MSG.GET.ICMS", {"seq": len(events) + 1})["message"]
        self.assertEqual(m["subject"], "icms.user.created")
        published = json.loads(base64.b64decode(m["data"]))
        self.assertEqual((published["seq"], published["subject"]), (last + 1, ugo["id"]))

    def test_publish_nats_down_from_the_start(self):
        """Nothing acknowledged: the error still says so (published 0, cursor where it was)."""
        self.world()
        down = "nats://127.0.0.1:%d" % free_port()
        r = self.icms("events", "publish-nats", "--url", down)
        self.assertEqual(r.code, 3, r.err)
        report = json.loads(r.err.strip())
        self.assertEqual(report["error"]["code"], "ICMS_ETRANSPORT")
        self.assertEqual((report["published"], report["cursor"], report["rounds"]), (0, 0, 1))

    def test_notify_run_prefs_list_retry(self):
        ids = self.world()
        owner, inv = ids["owner"], ids["inv"]
        spool = os.path.join(self.dir, "spool.jsonl")
        # preferences
        self.assertEqual(self.ok("--as", owner, "notify", "prefs", owner),
                         {"email": True, "push": True, "sms": False})
        self.refused("ICMS_ENOTFOUND", "--as", inv, "notify", "prefs", owner)
        self.refused("ICMS_ENOTFOUND", "--as", inv, "notify", "set-prefs", owner, "--data", '{"sms":true}')
        self.refused("ICMS_EINVALID", "--as", owner, "notify", "set-prefs", owner, "--data", '{"sms":"yes"}')
        self.assertIn("needs a JSON document", self.usage("--as", owner, "notify", "set-prefs", owner))
        self.assertEqual(self.ok("--as", owner, "notify", "set-prefs", owner, "--data", '{"push":false}'),
                         {"email": True, "push": False, "sms": False})
        self.assertEqual(self.ok("--host", "notify", "prefs", owner)["push"], False)
        # an event that tells the owner: a participation request
        p = self.ok("--as", owner, "project", "create", "--data", json.dumps(self.project_doc()))
        self.ok("--as", owner, "project", "publish", p["id"])
        self.ok("--as", inv, "participation", "request", p["id"], "--data",
                '{"type":"PROFIT","capital":100000000000}')
        self.assertIn("--spool", self.usage("--host", "notify", "run"))
        self.assertIn("stdout carries the report", self.usage("notify", "run", "--spool", "-"))
        self.assertIn("cannot open", self.usage("notify", "run", "--spool", "/nonexistent/dir/s.jsonl"))
        # a spool that cannot be written: the notification fails and waits, nothing lost
        now = int(time.time())
        at = lambda hours: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + hours * 3600))
        first = self.ok("--now", at(1), "notify", "run", "--spool", "/dev/full")
        self.assertGreaterEqual(first["created"], 1)
        self.assertEqual((first["sent"], first["failed"]), (0, first["created"]))
        pending = self.ok("--host", "notify", "list", "PENDING")["items"]
        self.assertEqual(len(pending), first["created"])
        self.refused("ICMS_EFORBIDDEN", "--as", inv, "notify", "list", "PENDING")
        self.refused("ICMS_EINVALID", "--host", "notify", "list", "LOST")
        # failing on: dead-lettered after the attempts (8 by default), one run a day apart
        for day in range(2, 12):
            self.ok("--now", at(24 * day), "notify", "run", "--spool", "/dev/full")
        dead = self.ok("--host", "notify", "list", "DEAD")["items"]
        self.assertEqual(len(dead), first["created"])
        self.assertEqual(self.ok("--host", "notify", "list", "PENDING")["items"], [])
        other = dead[0]["id"][:-1] + ("0" if dead[0]["id"][-1] != "0" else "1")
        self.refused("ICMS_ENOTFOUND", "--host", "notify", "retry", other)
        self.refused("ICMS_EINVALID", "--host", "notify", "retry", "not-an-id")
        self.refused("ICMS_EFORBIDDEN", "--as", inv, "notify", "retry", dead[0]["id"])
        for d in dead:
            self.ok("--host", "notify", "retry", d["id"])
        self.refused("ICMS_EINVALID_TRANSITION", "--host", "notify", "retry", dead[0]["id"])
        # a writable spool: each one a JSON line for the owner, by email only (push is off)
        report = self.ok("--now", at(24 * 13), "notify", "run", "--spool", spool)
        self.assertEqual(report["sent"], len(dead))
        with open(spool) as f:
            lines = [json.loads(x) for x in f.read().splitlines()]
        self.assertEqual(len(lines), report["sent"])
        self.assertEqual(stat.S_IMODE(os.stat(spool).st_mode), 0o600)
        mine = [x for x in lines if x["template"] == "participation.requested.owner"]
        self.assertEqual([(x["user_id"], x["channel"], x["address"]) for x in mine],
                         [(owner, "email", "owner@example.com")])
        self.assertEqual(mine[0]["attempt"], 1)
        self.assertIsInstance(mine[0]["data"], dict)
        self.assertEqual(len(self.ok("--host", "notify", "list", "SENT")["items"]), report["sent"])
        self.assertEqual(self.ok("--now", at(24 * 14), "notify", "run", "--spool", spool)["sent"], 0)
        with open(spool) as f:
            self.assertEqual(len(f.read().splitlines()), len(lines))


class Gapcoin(CliCase):
    @classmethod
    def setUpClass(cls):
        cls.genesis = load("genesis.json")
        cls.headers = load("mainnet_headers_1_9.json")["headers"]
        cls.addresses = load("addresses.json")

    def test_decode_header_vectors(self):
        g = self.genesis["mainnet"]
        h = self.ok("gapcoin", "decode-header", g["header_hex"])
        for field in ("hash", "version", "prev_hash", "merkle_root", "time", "n_difficulty",
                      "nonce", "shift"):
            self.assertEqual(h[field], g[field], field)
        self.assertEqual(h["adder"], g["adder_hex"])
        self.assertEqual(h["size"], g["header_size"])
        prev = g["hash"]
        for v in self.headers:
            h = self.ok("gapcoin", "decode-header", v["header_hex"])
            self.assertEqual(h["hash"], v["hash"])
            self.assertEqual(h["prev_hash"], prev)
            self.assertEqual(h["n_difficulty"], v["n_difficulty"])
            self.assertEqual(h["adder"], v["adder_hex"])
            prev = v["hash"]
        self.refused("ICMS_EINVALID", "gapcoin", "decode-header", g["header_hex"][:-2])
        self.refused("ICMS_EINVALID", "gapcoin", "decode-header", "zz")

    def test_verify_header_exact_pow_and_mutation(self):
        for v in [dict(self.genesis["mainnet"], height=0)] + self.headers:
            r = self.ok("gapcoin", "verify-header", v["header_hex"])
            self.assertEqual(r["valid"], True)
            self.assertEqual(r["hash"], v["hash"])
            self.assertEqual(r["gap"], v["pow"]["gap"])
            self.assertEqual(r["merit"], v["pow"]["merit_u64"])
            self.assertEqual(r["achieved"], v["pow"]["achieved_u64"])
        raw = bytearray.fromhex(self.headers[0]["header_hex"])
        raw[40] ^= 1  # the merkle root: another hash, no prime gap there
        r = self.icms("gapcoin", "verify-header", raw.hex())
        self.assertEqual(r.code, 1)
        out = r.json()
        self.assertEqual(out["valid"], False)
        self.assertTrue(out["reason"])

    def chain_text(self):
        return "\n".join([self.genesis["mainnet"]["header_hex"]] + [v["header_hex"] for v in self.headers]) + "\n"

    def test_verify_chain_file_and_stdin(self):
        path = os.path.join(self.dir, "chain.txt")
        with open(path, "w") as f:
            f.write("# genesis and mainnet 1-9\n" + self.chain_text())
        r = self.ok("gapcoin", "verify-chain", path)
        self.assertEqual(r["valid"], True)
        self.assertEqual(r["count"], 10)
        self.assertEqual(r["tip"], self.headers[-1]["hash"])
        r2 = self.ok("gapcoin", "verify-chain", stdin=self.chain_text())
        self.assertEqual(r2["tip"], r["tip"])
        # swap two headers: the link breaks at the first moved one
        lines = self.chain_text().split()
        lines[4], lines[5] = lines[5], lines[4]
        r = self.icms("gapcoin", "verify-chain", "--first-height", "0", stdin="\n".join(lines))
        self.assertEqual(r.code, 1)
        out = r.json()
        self.assertEqual(out["valid"], False)
        self.assertEqual(out["index"], 4)
        self.assertEqual(out["height"], 4)
        self.assertEqual(out["count"], 4)
        self.assertTrue(out["reason"])
        r = self.icms("gapcoin", "verify-chain", stdin="nothex\n")
        self.assertEqual(r.code, 1)
        self.assertEqual(r.json()["index"], 0)
        self.assertEqual(self.icms("gapcoin", "verify-chain", stdin="\n").code, 1)
        self.usage("gapcoin", "verify-chain", os.path.join(self.dir, "missing.txt"))

    def test_decode_tx(self):
        cb = self.genesis["coinbase_tx"]
        tx = self.ok("gapcoin", "decode-tx", cb["hex"])
        self.assertEqual(tx["txid"], cb["txid"])
        self.assertEqual(tx["wtxid"], cb["txid"])
        self.assertEqual(tx["size"], cb["size"])
        self.assertEqual(tx["version"], 1)
        self.assertEqual(tx["locktime"], 0)
        self.assertEqual(tx["inputs"][0]["txid"], "00" * 32)
        self.assertEqual(tx["inputs"][0]["vout"], 0xffffffff)
        self.assertIn(cb["scriptsig_message"].encode().hex(), tx["inputs"][0]["script_sig"])
        self.assertEqual(tx["inputs"][0]["witness"], [])
        out = tx["outputs"][0]
        self.assertEqual(out["n"], 0)
        self.assertEqual(out["value"], cb["outputs"][0]["value"])
        self.assertEqual(out["type"], "p2pk")
        self.assertEqual(out["address"], cb["outputs"][0]["address_mainnet"])
        test = self.ok("--network", "test", "gapcoin", "decode-tx", cb["hex"])
        self.assertEqual(test["outputs"][0]["address"], cb["outputs"][0]["address_testnet"])
        # a P2PKH output with a large value, exact to the base unit
        h160 = self.addresses["hash160"]
        value = 2099999999999999
        raw = ("01000000" + "01" + "11" * 32 + "00000000" + "00" + "ffffffff" + "01" +
               value.to_bytes(8, "little").hex() + "19" + "76a914" + h160 + "88ac" + "00000000")
        tx = self.ok("gapcoin", "decode-tx", raw)
        self.assertIn('"value":2099999999999999', self.icms("gapcoin", "decode-tx", raw).out)
        self.assertEqual(tx["outputs"][0]["address"], self.addresses["p2pkh_mainnet"])
        self.assertEqual(tx["outputs"][0]["type"], "p2pkh")
        self.refused("ICMS_EINVALID", "gapcoin", "decode-tx", raw + "00")  # trailing byte
        self.refused("ICMS_EINVALID", "gapcoin", "decode-tx", raw[:-10])
        self.refused("ICMS_EINVALID", "gapcoin", "decode-tx", "0")

    def test_verify_proof(self):
        g = self.genesis["mainnet"]
        r = self.ok("gapcoin", "verify-proof", g["merkle_proof_hex"])
        self.assertEqual(r["valid"], True)
        self.assertEqual(r["hash"], g["hash"])
        self.assertEqual(r["txids"], [self.genesis["coinbase_tx"]["txid"]])
        raw = bytearray.fromhex(g["merkle_proof_hex"])
        raw[-3] ^= 0x55  # inside the hashes: the root no longer matches
        r = self.icms("gapcoin", "verify-proof", raw.hex())
        self.assertEqual(r.code, 1)
        self.assertEqual(r.json()["valid"], False)

    def test_address_and_script(self):
        a = self.addresses
        p2pkh = "76a914" + a["hash160"] + "88ac"
        r = self.ok("gapcoin", "address", p2pkh)
        self.assertEqual(r["address"], a["p2pkh_mainnet"])
        self.assertEqual(r["type"], "p2pkh")
        p2wpkh = "0014" + a["hash160"]
        self.assertEqual(self.ok("gapcoin", "address", p2wpkh, "--node", "0.16")["address"], a["bech32_v0_hrp_gp"])
        r = self.ok("gapcoin", "address", p2wpkh)
        self.assertEqual(r["address"], a["bech32m_v0_hrp_gap_2606"])
        self.assertEqual(r["addresses"]["0.9"], None)
        self.refused("ICMS_ENOTFOUND", "gapcoin", "address", p2wpkh, "--node", "0.9")
        self.refused("ICMS_ENOTFOUND", "gapcoin", "address", "6a0568656c6c6f")  # OP_RETURN
        self.usage("gapcoin", "address", p2pkh, "--node", "7")
        p2sh = "a914" + a["p2sh_hash160"] + "87"
        self.assertEqual(self.ok("gapcoin", "address", p2sh)["address"], a["p2sh_p2wpkh_mainnet"])
        for addr, script in ((a["p2pkh_mainnet"], p2pkh), (a["bech32_v0_hrp_gp"], p2wpkh),
                             (a["bech32m_v0_hrp_gap_2606"], p2wpkh), (a["p2sh_p2wpkh_mainnet"], p2sh)):
            r = self.ok("gapcoin", "script", addr)
            self.assertEqual(r["script"], script, addr)
            self.assertEqual(r["network"], "main")
        bad = a["p2pkh_mainnet"][:-1] + ("1" if a["p2pkh_mainnet"][-1] != "1" else "2")
        self.refused("ICMS_EINVALID", "gapcoin", "script", bad)
        self.refused("ICMS_EINVALID", "--network", "test", "gapcoin", "script", a["p2pkh_mainnet"])


class Demo(CliCase):
    def test_demo_json(self):
        r = run("demo", "--json", "--dir", os.path.join(self.dir, "demo"))
        self.assertEqual(r.code, 0, r.out + r.err)
        out = r.json()
        self.assertTrue(out["ok"])
        self.assertEqual(out["unexpected"], 0)
        self.assertTrue(all(s["ok"] for s in out["steps"]))
        refused = [s["outcome"] for s in out["steps"] if s["outcome"] != "ICMS_OK"]
        self.assertIn("ICMS_EINVALID_TRANSITION", refused)  # an invalid transition
        self.assertIn("ICMS_EFORBIDDEN", refused)
        self.assertIn("ICMS_EEXISTS", refused)  # a txid already attached to another payment
        self.assertIn("ICMS_ECORRUPT", refused)  # SPV mode checks the (simulated) proof of work
        last = out["steps"][-1]
        self.assertEqual(last["project_state"], "COMPLETED")
        self.assertEqual(last["funded"], last["target"])
        states = [s["project_state"] for s in out["steps"] if "project_state" in s]
        for state in ("PUBLISHED", "FUNDING", "PENDING_ADMIN_APPROVAL", "APPROVED", "IN_TRANSIT"):
            self.assertIn(state, states)
        # funding grows only when a payment confirms at depth
        verified = [s for s in out["steps"] if s["action"].startswith("verify payment")]
        self.assertEqual([s["state"] for s in verified], ["SUBMITTED", "SUBMITTED", "CONFIRMED", "CONFIRMED"])
        self.assertEqual(verified[0]["funded"], 0)
        self.assertEqual(verified[1]["funded"], 0)
        self.assertGreater(verified[2]["funded"], 0)
        self.assertIn("refund due 5 GAP", verified[3]["detail"])
        types = [e["type"] for e in out["event_log"]["events"]]
        for t in ("project.published", "payment.confirmed", "refund.due", "project.completed"):
            self.assertIn(t, types)
        payouts = [s for s in out["steps"] if s["action"] == "list payouts due"][0]
        self.assertTrue(payouts["ok"])
        check = [s for s in out["steps"] if s["action"].startswith("check")][0]
        self.assertEqual(check["detail"], "ok: true, 0 violation(s)")
        self.assertTrue(os.path.exists(out["database"]))
        # the database it leaves is an ordinary one the CLI reads
        admin = out["steps"][0]
        self.assertEqual(admin["state"], "ACTIVE")
        r = run("--db", out["database"], "--host", "project", "list")
        self.assertEqual(r.code, 0, r.err)
        self.assertEqual(len(r.json()["items"]), 1)
        # a folder that already holds a demo is refused
        self.assertEqual(run("demo", "--dir", os.path.join(self.dir, "demo")).code, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
