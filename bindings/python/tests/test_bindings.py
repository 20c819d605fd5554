"""The Python binding's suite: the end-to-end scenario, error mapping, host
callbacks and a memory-growth check. Run by bindings/python/test.sh with
Debian's /usr/bin/python3 and the standard library's unittest."""

import gc
import os
import sys
import tempfile
import threading
import traceback
import unittest

import icms

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
import end_to_end  # noqa: E402

NOW = 1767225600000


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


class Fixture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "icms.db")

    def tearDown(self):
        self.tmp.cleanup()

    def users(self, db):
        admin = db.user_bootstrap_admin(icms.HOST, {"name": "Ada", "email": "ada@example.com"})
        a = icms.Request.user(admin)
        owner = db.user_create(a, {"name": "Otto", "email": "otto@example.com", "roles": ["OWNER"]})
        inv = db.user_create(a, {"name": "Ines", "email": "ines@example.com"})
        return a, icms.Request.user(owner), icms.Request.user(inv)

    def project(self, db, owner):
        return db.project_create(owner, {
            "title": "Crate", "expiry_date": "2026-02-01T00:00:00Z",
            "shipping_costs": {"freight": 50_000_000}, "min_ticket": 1,
            "products": [{"name": "Crate", "unit": "crate", "quantity": 1,
                          "unit_price": 100_000_000}]})


class EndToEnd(Fixture):
    def check(self, seen, node):
        self.assertEqual(seen["kyc"], "VERIFIED")
        self.assertEqual(seen["total_cost"], node["target"])
        self.assertEqual(seen["after_approval"], "FUNDING")
        self.assertEqual(seen["address"], node["addresses"][0])
        self.assertEqual(seen["confirmations"], [0, 1])
        self.assertEqual(seen["payment"], "CONFIRMED")
        self.assertEqual(seen["funded"], node["target"])
        self.assertEqual(seen["after_payment"], "PENDING_ADMIN_APPROVAL")
        self.assertEqual(seen["final"], "COMPLETED")
        self.assertEqual(seen["payout_amount"], node["target"] + node["profit"])
        self.assertEqual(seen["payout"], "PAID")
        self.assertEqual(seen["owner_reads_address"], node["owner_address"])
        self.assertFalse(seen["investor_reads_address"])
        self.assertEqual(seen["release_due"], ("DUE", node["target"], node["owner_address"]))
        self.assertEqual(seen["releases_due"], [True])
        self.assertEqual(seen["release"], ("PAID", True))
        self.assertEqual(seen["releases_paid"], 1)
        self.assertTrue(seen["check"]["ok"], seen["check"])

    def play(self, transport):
        proc, node = end_to_end.start_node(self.tmp.name)
        try:
            seen = end_to_end.run(self.path, node, transport)
        finally:
            end_to_end.stop_node(proc)
        self.check(seen, node)

    def test_scenario_over_a_python_transport(self):
        self.play("python")

    def test_scenario_over_libcurl(self):
        self.play("curl")

    def test_integers_beyond_2_53_stay_exact(self):
        # Python's json keeps big ints exact. Out: a price near int64's top reaches the
        # library exactly (it names the sum it refuses: no funding target may exceed
        # Gapcoin's supply). Back: money near the cap comes back exact.
        def gold(price):
            return {"title": "Big", "expiry_date": "2026-02-01T00:00:00Z",
                    "shipping_costs": {"freight": 1}, "min_ticket": 1,
                    "products": [{"name": "Gold", "unit": "bar", "quantity": 1,
                                  "unit_price": price}]}
        with icms.Database(self.path, clock=NOW, sync=2) as db:
            _, owner, _ = self.users(db)
            price = 2**62 + 1
            with self.assertRaises(icms.Invalid) as caught:
                db.project_create(owner, gold(price))
            self.assertIn(str(price + 1), str(caught.exception))
            near = 2**50 + 1
            p = db.project_create(owner, gold(near))
            self.assertEqual(p["total_cost"], near + 1)
            self.assertIsInstance(p["total_cost"], int)


class Errors(Fixture):
    def test_each_code_maps_to_its_class(self):
        with icms.Database(self.path, clock=NOW, sync=2) as db:
            admin, owner, inv = self.users(db)
            cases = [
                (icms.Invalid, lambda: db.user_get(icms.HOST, "not-a-uuid")),
                (icms.NotFound, lambda: db.project_get(admin, "019b76da-a800-772e-94bb-16096678d52d")),
                (icms.Forbidden, lambda: db.user_create(owner, {"name": "X", "email": "x@example.com"})),
                (icms.Exists, lambda: db.user_create(admin, {"name": "Y", "email": "otto@example.com"})),
                (icms.Exists, lambda: db.user_bootstrap_admin(icms.HOST, {"name": "Z", "email": "z@example.com"})),
                (icms.Unauthenticated, lambda: db.project_list(icms.Request.token("garbage"), None)),
            ]
            for cls, call in cases:
                with self.subTest(cls=cls.__name__):
                    with self.assertRaises(cls) as ctx:
                        call()
                    e = ctx.exception
                    self.assertIsInstance(e, icms.Error)
                    self.assertEqual(e.code, cls.code)
                    self.assertTrue(e.message)
                    self.assertTrue(e.name.startswith("ICMS_E"))
            p = self.project(db, owner)
            db.project_publish(owner, p["id"])
            with self.assertRaises(icms.InvalidTransition) as ctx:
                db.project_publish(owner, p["id"])
            self.assertEqual(ctx.exception.code, -6)
            # Idempotency: same key, different request.
            keyed = admin.with_(idempotency_key="k1")
            db.user_create(keyed, {"name": "A", "email": "a1@example.com"})
            with self.assertRaises(icms.Idempotency):
                db.user_create(keyed, {"name": "B", "email": "b1@example.com"})

    def test_payout_address_and_releases(self):
        # Without a node: the owner's address, who reads it, and every release refusal.
        address, missing = "GcwphVTaks2XGGB8RUk7auWdgmG8CV14TF", "019b76da-a800-772e-94bb-16096678d52d"
        with icms.Database(self.path, clock=NOW, sync=2) as db:
            admin, owner, inv = self.users(db)
            pid = self.project(db, owner)["id"]
            p = db.project_set_payout_address(owner, pid, address)
            self.assertEqual(p["payout_address"], address)
            self.assertEqual(db.project_set_payout_address(icms.HOST, pid, address)["payout_address"],
                             address)
            with self.assertRaises(icms.Forbidden):
                db.project_set_payout_address(admin, pid, address)
            with self.assertRaises(icms.Invalid):
                db.project_set_payout_address(owner, pid, "not-an-address")
            with self.assertRaises(icms.NotFound):
                db.project_set_payout_address(owner, missing, address)
            db.project_publish(owner, pid)
            with self.assertRaises(icms.Forbidden):
                db.project_set_payout_address(inv, pid, address)
            for who in (owner, admin, icms.HOST):
                self.assertEqual(db.project_get(who, pid)["payout_address"], address)
            for who in (inv, icms.ANONYMOUS):
                self.assertNotIn("payout_address", db.project_get(who, pid))
                listed = db.project_list(who, {"state": "PUBLISHED"})["items"]
                self.assertEqual([x["id"] for x in listed], [pid])
                self.assertNotIn("payout_address", listed[0])
            self.assertEqual(db.release_list(icms.HOST, {"status": "DUE"}),
                             {"items": [], "next": None})
            self.assertEqual(db.release_list(owner, {"project_id": pid})["items"], [])
            with self.assertRaises(icms.Invalid):
                db.release_list(icms.HOST, None)  # at least one of project, owner, status
            with self.assertRaises(icms.Forbidden):
                db.release_list(icms.ANONYMOUS, {"status": "DUE"})
            with self.assertRaises(icms.NotFound):
                db.release_get(admin, missing)
            with self.assertRaises(icms.Invalid):
                db.release_get(admin, "not-a-uuid")
            with self.assertRaises(icms.Forbidden):
                db.release_record(owner, missing, "ab" * 32)
            with self.assertRaises(icms.Invalid):
                db.release_record(icms.HOST, missing, "nothex")

    def test_codes_cover_the_header(self):
        from icms import native
        for name in ("ENOMEM", "EINVALID", "ENOTFOUND", "EEXISTS", "EINVALID_TRANSITION",
                     "EFORBIDDEN", "ECONFLICT", "EBUSY", "ESTORAGE", "ETRANSPORT",
                     "EIDEMPOTENCY", "EUNAUTHENTICATED", "ELIMIT", "ECORRUPT", "EUSER"):
            code = getattr(native, "ICMS_" + name)
            cls = icms._BY_CODE[code]
            self.assertTrue(issubclass(cls, icms.Error))
            self.assertEqual(native.icms_error_name(code), "ICMS_" + name)

    def test_failed_call_changes_nothing(self):
        with icms.Database(self.path, clock=NOW, sync=2) as db:
            admin, owner, _ = self.users(db)
            before = db.project_list(admin, None)
            with self.assertRaises(icms.Invalid):
                db.project_create(owner, {"title": ""})
            self.assertEqual(db.project_list(admin, None), before)

    def test_bad_arguments_are_type_errors_not_crashes(self):
        with icms.Database(self.path, clock=NOW, sync=2) as db:
            with self.assertRaises(TypeError):
                db.user_get("not a request", "x")
            with self.assertRaises(TypeError):
                db.user_get(icms.HOST, 42)

    def test_closed_database(self):
        db = icms.Database(self.path, clock=NOW, sync=2)
        db.close()
        db.close()  # idempotent
        self.assertTrue(db.closed)
        with self.assertRaises(icms.Invalid):
            db.project_list(icms.HOST, None)
        with self.assertRaises(icms.Invalid):
            db.clock.now()  # the clock went with the handle

    def test_unopenable_path_is_storage_error(self):
        with self.assertRaises(icms.Error) as ctx:
            icms.Database("/nonexistent-dir/x/icms.db")
        self.assertIn(ctx.exception.code, (icms.Storage.code, icms.Invalid.code))

    def test_node_down_is_transport_error(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        self.assertEqual(self._verify_with(icms.Gapcoin(f"http://127.0.0.1:{port}/", "u", "p")),
                         icms.TransportError)

    def _verify_with(self, gapcoin):
        with icms.Database(self.path, clock=NOW, gapcoin=gapcoin, sync=2,
                           kyc_optional=True) as db:
            admin, owner, inv = self.users(db)
            p = self.project(db, owner)
            db.project_publish(owner, p["id"])
            part = db.participation_request(inv, p["id"], {"type": "PROFIT", "capital": 150_000_000})
            db.participation_approve(owner, part["id"])
            try:
                db.payment_initiate(inv.with_(idempotency_key="k"), part["id"], {"refund_address": "GXr5onuXCxtRNLBYYbTW7qhy6UM1fTGDuU"})
            except icms.Error as e:
                return type(e)
            return None


class Helpers(Fixture):
    def test_bytes_in_and_out(self):
        h160 = bytes([0x11]) * 20
        self.assertEqual(icms.hex_encode(b"\x00\xffab"), "00ff6162")
        self.assertEqual(icms.hex_decode("00FF6162"), b"\x00\xffab")
        self.assertEqual(icms.hex_decode(""), b"")
        with self.assertRaises(icms.Invalid):
            icms.hex_decode("abc")  # odd length
        address = icms.base58check_encode(38, h160)
        self.assertEqual(address, "GKQAMCcZtsJkfZqmLEkGPmq1psQeHtPeGZ")  # as scenario.py computes
        self.assertEqual(icms.address_to_script(address), bytes.fromhex("76a914") + h160 + b"\x88\xac")
        with self.assertRaises(icms.Invalid):
            icms.address_to_script(address[:-1] + "1")  # checksum broken
        with self.assertRaises(icms.Limit):
            icms.base58check_encode(38, bytes(129))
        with self.assertRaises(TypeError):
            icms.hex_encode("not bytes")

    def test_oauth_helpers(self):
        v = icms.auth_pkce_verifier_new()
        self.assertEqual(len(v), 43)
        c = icms.auth_pkce_challenge(v)
        self.assertIsNone(icms.auth_pkce_check(v, c))
        with self.assertRaises(icms.Unauthenticated):
            icms.auth_pkce_check(v, c[:-1] + ("A" if c[-1] != "A" else "B"))
        with self.assertRaises(icms.Invalid):
            icms.auth_pkce_challenge("short")
        st = icms.auth_state_new()
        self.assertIsNone(icms.auth_state_check(st, st))
        with self.assertRaises(icms.Unauthenticated):
            icms.auth_state_check(st, st + "x")

    def test_events_pull(self):
        with icms.Database(self.path, clock=NOW, sync=2) as db:
            self.users(db)
            page = db.events_read(icms.HOST, "py", icms.native.ICMS_EVENTS_FROM_CURSOR, 100)
            self.assertGreaterEqual(len(page["events"]), 3)  # three users created
            last = page["events"][-1]["seq"]
            self.assertIsNone(db.events_ack(icms.HOST, "py", last))
            again = db.events_read(icms.HOST, "py", icms.native.ICMS_EVENTS_FROM_CURSOR, 100)
            self.assertEqual(again["events"], [])
            self.assertEqual(again["acked"], last)
            with self.assertRaises(icms.Forbidden):
                db.events_read(icms.ANONYMOUS, "py", 0, 10)

    def test_payment_verify_batch_arguments(self):
        with icms.Database(self.path, clock=NOW, sync=2) as db:
            admin, _, _ = self.users(db)
            with self.assertRaises(TypeError):
                db.payment_verify_batch(icms.HOST, 42)
            with self.assertRaises(TypeError):
                db.payment_verify_batch(icms.HOST, ["ok", 3])
            with self.assertRaises(icms.Error):
                db.payment_verify_batch(icms.HOST, ["not-a-uuid"])


class Callbacks(Fixture):
    def test_transport_exception_is_reraised_with_its_traceback(self):
        class HostDown(RuntimeError):
            pass

        def post(url, headers, body, max_len):
            raise HostDown("the host's HTTP stack failed")

        gapcoin = icms.Gapcoin("http://127.0.0.1:9/", transport=post)
        with icms.Database(self.path, clock=NOW, gapcoin=gapcoin, sync=2, kyc_optional=True) as db:
            admin, owner, inv = self.users(db)
            p = self.project(db, owner)
            db.project_publish(owner, p["id"])
            part = db.participation_request(inv, p["id"], {"type": "PROFIT", "capital": 150_000_000})
            db.participation_approve(owner, part["id"])
            before = db.payment_list(admin, {"project_id": p["id"]})
            # (assertRaises strips tracebacks: catch it by hand to look at the frames)
            try:
                db.payment_initiate(inv.with_(idempotency_key="k"), part["id"],
                                    {"refund_address": "GXr5onuXCxtRNLBYYbTW7qhy6UM1fTGDuU"})
                self.fail("no exception")
            except HostDown as e:
                frames = [f.name for f in traceback.extract_tb(e.__traceback__)]
                self.assertEqual(str(e), "the host's HTTP stack failed")
            self.assertEqual(frames[-1], "post")  # the callback's own frame is in the traceback
            self.assertEqual(db.payment_list(admin, {"project_id": p["id"]}), before)  # nothing changed

    def test_transport_bad_answer_type(self):
        gapcoin = icms.Gapcoin("http://127.0.0.1:9/", transport=lambda *a: "not a tuple")
        with icms.Database(self.path, clock=NOW, gapcoin=gapcoin, sync=2, kyc_optional=True) as db:
            admin, owner, inv = self.users(db)
            p = self.project(db, owner)
            db.project_publish(owner, p["id"])
            part = db.participation_request(inv, p["id"], {"type": "PROFIT", "capital": 150_000_000})
            db.participation_approve(owner, part["id"])
            with self.assertRaises(TypeError):
                db.payment_initiate(inv.with_(idempotency_key="k"), part["id"], {"refund_address": "GXr5onuXCxtRNLBYYbTW7qhy6UM1fTGDuU"})

    def notified(self, send):
        """A participation request with send as the notifier; returns notify_run's report."""
        with icms.Database(self.path, clock=NOW, sync=2, kyc_optional=True) as db:
            admin, owner, inv = self.users(db)
            db.set_notifier(send)
            p = self.project(db, owner)
            db.project_publish(owner, p["id"])
            db.participation_request(inv, p["id"], {"type": "PROFIT", "capital": 1000})
            return db.notify_run()

    def test_notifier_receives_notifications(self):
        got = []
        report = self.notified(got.append)
        self.assertEqual(report["sent"], len(got))
        self.assertGreaterEqual(len(got), 1)
        n = got[0]
        self.assertEqual(n["template_key"], "participation.requested.owner")
        self.assertEqual(n["data"]["commitment"], 1000)
        self.assertEqual(n["attempt"], 1)

    def test_notifier_exception_is_retried_and_logged_with_traceback(self):
        def send(n):
            raise ConnectionError("smtp down")

        with self.assertLogs("icms", "ERROR") as logs:
            report = self.notified(send)
        self.assertEqual(report["sent"], 0)
        self.assertGreaterEqual(report["failed"], 1)
        self.assertEqual(report["dead"], 0)
        record = logs.records[0]
        self.assertIs(record.exc_info[0], ConnectionError)
        frames = [f.name for f in traceback.extract_tb(record.exc_info[2])]
        self.assertIn("send", frames)

    def test_notifier_invalid_dead_letters(self):
        def send(n):
            raise icms.Invalid("no such mailbox")

        with self.assertLogs("icms", "ERROR"):
            report = self.notified(send)
        self.assertGreaterEqual(report["dead"], 1)
        self.assertEqual(report["dead"], report["failed"])  # every failure dead-lettered

    def test_python_clock(self):
        now = [NOW + 5000]
        with icms.Database(self.path, clock=lambda: now[0], sync=2) as db:
            admin = db.user_bootstrap_admin(icms.HOST, {"name": "Ada", "email": "ada@example.com"})
            self.assertEqual(admin["created_at"], "2026-01-01T00:00:05.000Z")

    def test_fake_clock_moves(self):
        clock = icms.FakeClock(NOW)
        with icms.Database(self.path, clock=clock, sync=2) as db:
            clock.advance(60_000)
            self.assertEqual(clock.now(), NOW + 60_000)
            admin = db.user_bootstrap_admin(icms.HOST, {"name": "Ada", "email": "ada@example.com"})
            self.assertEqual(admin["created_at"], "2026-01-01T00:01:00.000Z")
            with self.assertRaises(icms.Invalid):
                icms.Database(self.path + "2", clock=clock)  # already owned

    def test_refused_open_leaves_the_clock_free(self):
        clock = icms.FakeClock(NOW)
        with self.assertRaises(TypeError):
            icms.Database(self.path, clock=clock, gapcoin=icms.Gapcoin("http://x/", transport=42))
        with self.assertRaises(TypeError):
            icms.Database(self.path, clock="not a clock")
        with icms.Database(self.path, clock=clock, sync=2) as db:  # still ours to give
            self.assertIs(db.clock, clock)
            self.assertEqual(clock.now(), NOW)

    def test_threads_share_one_handle(self):
        with icms.Database(self.path, clock=NOW, sync=2) as db:
            admin, _, _ = self.users(db)
            errors = []

            def work(i):
                try:
                    for j in range(20):
                        db.user_create(admin, {"name": "T", "email": f"t{i}-{j}@example.com"})
                        with self.assertRaises(icms.Invalid):
                            db.user_get(admin, "bad")
                except Exception as e:  # noqa: BLE001
                    errors.append(e)

            threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(errors, [])


class Memory(Fixture):
    CALLS = 10_000

    def test_no_growth_over_10000_calls(self):
        with icms.Database(self.path, clock=NOW, sync=2) as db:
            admin, owner, _ = self.users(db)
            p = self.project(db, owner)

            def loop(n):
                for i in range(n):
                    db.project_get(admin, p["id"])  # a result string freed each time
                    try:
                        db.project_get(admin, "bad")  # and an exception
                    except icms.Invalid:
                        pass
                    icms.Request.user(admin.actor_id, idempotency_key="x")  # request alloc/free

            loop(2000)  # warm up: caches, allocator arenas
            gc.collect()
            before = rss_kib()
            loop(self.CALLS)
            gc.collect()
            after = rss_kib()
        growth = after - before
        print(f"\nmemory: {self.CALLS} iterations (3 calls each): RSS {before} KiB -> {after} KiB "
              f"({growth:+d} KiB)", file=sys.stderr)
        # A leak of even 100 bytes per iteration would be ~1 MiB.
        self.assertLess(growth, 512, f"RSS grew by {growth} KiB")


if __name__ == "__main__":
    unittest.main()
