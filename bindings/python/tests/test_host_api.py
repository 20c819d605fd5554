"""Push subscriptions, NATS publishing, the rate limiter and the Gapcoin RPC
client, end to end: real threads, a real nats-server and the fake gapcoind
on 127.0.0.1. Standard library only (unittest)."""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import icms

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "bindings"))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
import end_to_end  # noqa: E402
import nats_helper  # noqa: E402

NOW = 1767225600000


class Fixture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.db = icms.Database(os.path.join(self.tmp.name, "icms.db"), clock=NOW, sync=2)
        self.addCleanup(self.db.close)
        admin = self.db.user_bootstrap_admin(icms.HOST, {"name": "Ada", "email": "ada@example.com"})
        self.admin = icms.Request.user(admin)
        self.n = 0

    def new_user(self):
        self.n += 1
        return self.db.user_create(self.admin, {"name": f"U{self.n}",
                                                "email": f"u{self.n}@example.com"})


class Subscriptions(Fixture):
    def test_events_reach_the_callback_on_the_committing_thread(self):
        seen = []
        sub = self.db.subscribe("user.*", lambda e: seen.append(
            (e["type"], e["subject"], e["seq"], threading.get_ident())))
        self.assertFalse(sub.closed)
        ids = []
        worker = threading.Thread(target=lambda: ids.append(self.new_user()["id"]))
        worker.start()
        worker.join()
        self.assertEqual(len(seen), 1)
        self.assertEqual(seen[0][:2], ("user.created", ids[0]))
        self.assertEqual(seen[0][3], worker.ident)  # the library's call, on the worker thread
        # the same event as the pull side reads it
        read = self.db.events_read(icms.HOST, "t", seen[0][2] - 1, 1)["events"][0]
        self.assertEqual((read["type"], read["seq"]), ("user.created", seen[0][2]))
        # a pattern that does not match gets nothing; an exact type does
        other = []
        with self.db.subscribe("project.*", other.append), \
                self.db.subscribe("user.created", other.append):
            self.new_user()
        self.assertEqual([e["type"] for e in other], ["user.created"])
        self.assertEqual(sub.delivered, 2)

    def test_close_stops_delivery(self):
        seen = []
        sub = self.db.subscribe("*", seen.append)
        self.new_user()
        sub.close()
        sub.close()  # idempotent
        self.assertTrue(sub.closed)
        self.new_user()
        self.assertEqual(len(seen), 1)
        self.assertEqual(sub.delivered, 1)

    def test_an_exception_in_the_callback_does_not_fail_the_command(self):
        class Boom(RuntimeError):
            pass

        def cb(event):
            raise Boom("subscriber broke on " + event["type"])

        errors = []
        sub = self.db.subscribe("*", cb, on_error=lambda exc, ev: errors.append((exc, ev["seq"])))
        user = self.new_user()  # committed despite the callback
        self.assertEqual(self.db.user_get(self.admin, user["id"])["id"], user["id"])
        self.assertEqual(len(errors), 1)
        self.assertIsInstance(errors[0][0], Boom)
        self.assertEqual((sub.delivered, sub.failures), (1, 1))
        # without on_error: logged on "icms" with the traceback, and delivery goes on
        quiet = self.db.subscribe("*", cb)
        with self.assertLogs("icms", "ERROR") as logs:
            self.new_user()
        self.assertIn("subscriber broke on user.created", logs.output[0])
        self.assertIn("Traceback", logs.output[0])
        self.assertEqual((quiet.delivered, quiet.failures), (1, 1))
        # an on_error that raises too is logged, not propagated
        bad = self.db.subscribe("*", cb, on_error=lambda exc, ev: 1 / 0)
        with self.assertLogs("icms", "ERROR") as logs:
            self.new_user()
        self.assertTrue(any("ZeroDivisionError" in line for line in logs.output))
        self.assertEqual(bad.failures, 1)
        sub.close(), quiet.close(), bad.close()

    def test_close_waits_for_a_callback_running_on_another_thread(self):
        entered, release = threading.Event(), threading.Event()
        finished = []

        def slow(event):
            entered.set()
            release.wait(10)
            finished.append(event["seq"])

        sub = self.db.subscribe("*", slow)
        worker = threading.Thread(target=self.new_user)
        worker.start()
        self.assertTrue(entered.wait(10))
        closer = threading.Thread(target=sub.close)
        closer.start()
        time.sleep(0.2)
        self.assertTrue(closer.is_alive())  # waiting for the callback in flight
        self.assertEqual(finished, [])
        release.set()
        closer.join(10)
        self.assertFalse(closer.is_alive())
        self.assertEqual(len(finished), 1)
        worker.join()
        self.new_user()
        self.assertEqual(len(finished), 1)

    def test_a_callback_may_close_its_own_subscription_and_run_commands(self):
        seen = []
        holder = {}

        def once(event):
            seen.append(event["type"])
            if event["type"] == "user.created":
                # a command from inside the callback: its event is dispatched too
                self.db.user_grant_role(self.admin, event["subject"], "OWNER")
                holder["sub"].close()

        holder["sub"] = self.db.subscribe("user.*", once)
        self.new_user()
        self.new_user()
        self.assertEqual(seen, ["user.created", "user.role_granted"])

    def test_many_threads_share_a_subscription(self):
        lock = threading.Lock()
        by_thread = {}

        def cb(event):
            with lock:
                by_thread.setdefault(threading.get_ident(), []).append(event["seq"])

        sub = self.db.subscribe("user.created", cb)
        n = threading.Lock()

        def work(k):
            for i in range(5):
                self.db.user_create(self.admin, {"name": "T", "email": f"t{k}-{i}@example.com"})

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        del n
        seqs = sorted(s for v in by_thread.values() for s in v)
        self.assertEqual(len(seqs), 20)
        self.assertEqual(len(set(seqs)), 20)
        self.assertEqual(set(by_thread), {t.ident for t in threads})
        self.assertEqual(sub.delivered, 20)

    def test_close_releases_the_callback(self):
        import gc
        import weakref

        class Handler:
            def __init__(self):
                self.seen = 0

            def __call__(self, event):
                self.seen += 1

        handler = Handler()
        ref = weakref.ref(handler)
        sub = self.db.subscribe("*", handler)
        self.new_user()
        self.assertEqual(handler.seen, 1)
        del handler
        gc.collect()
        self.assertIsNotNone(ref())  # held by the open subscription
        sub.close()
        gc.collect()
        self.assertIsNone(ref())  # released by close(), before the database closes
        self.assertEqual(sub.delivered, 1)
        # many subscribe/close cycles leave no Python object behind
        for _ in range(200):
            self.db.subscribe("*", Handler()).close()
        self.assertEqual(len(self.db._subs), 0)

    def test_refusals(self):
        with self.assertRaises(icms.Invalid):
            self.db.subscribe("user.*.x", print)
        with self.assertRaises(icms.Invalid):
            self.db.subscribe("", print)
        with self.assertRaises(TypeError):
            self.db.subscribe("*", "not callable")
        seen = []
        sub = self.db.subscribe("*", seen.append)
        self.new_user()
        self.db.close()  # closes its subscriptions (and frees them)
        self.assertTrue(sub.closed)
        self.assertEqual((sub.delivered, sub.failures, len(seen)), (1, 0, 1))
        with self.assertRaises(icms.Invalid):
            self.db.subscribe("*", print)


class Nats(Fixture):
    def serve(self):
        started = nats_helper.start_server(os.path.join(self.tmp.name, "js"))
        if started is None:
            self.skipTest("nats-server is not installed")
        proc, port = started
        self.addCleanup(lambda: (proc.terminate(), proc.wait(10)))
        return port

    def test_publish_to_jetstream_and_read_back(self):
        if not icms.nats_available():
            self.skipTest("libicms was built without NATS")
        users = [self.new_user() for _ in range(3)]
        port = self.serve()
        url = "nats://127.0.0.1:%d" % port
        # a stream that does not exist and may not be created: nothing published
        with self.db.nats_publisher(url=url, timeout_ms=2000) as pub:
            with self.assertRaises(icms.TransportError) as cm:
                pub.drain()
            self.assertIn("ICMS", cm.exception.message)
        with self.db.nats_publisher(url=url, create_stream=True, timeout_ms=2000) as pub:
            self.assertEqual(pub.drain(), 4)  # the admin and three users
            self.assertEqual(pub.drain(), 0)  # once acknowledged, not again
            self.new_user()
            self.assertEqual(pub.drain(), 1)
        events = self.db.events_read(icms.HOST, "check", 0, 100)["events"]
        got = nats_helper.read_stream(port, "ICMS")
        self.assertEqual(got["messages"], 5)
        for e, m in zip(events, got["items"]):
            self.assertEqual(m["subject"], "icms." + e["type"])
            self.assertEqual(m["msg_id"], e["event_id"])
            self.assertEqual(m["data"]["event_id"], e["event_id"])
        self.assertEqual([m["data"]["subject"] for m in got["items"][1:4]],
                         [u["id"] for u in users])
        # another stream and prefix for another consumer: the whole outbox again
        with icms.NatsPublisher(self.db, url=url, stream="AUDIT", subject_prefix="shop.",
                                consumer="nats-audit", create_stream=True) as pub:
            self.assertEqual(pub.drain(), 5)
        self.assertEqual(nats_helper.read_stream(port, "AUDIT")["items"][0]["subject"],
                         "shop.user.created")

    def test_server_down_and_bad_options(self):
        if not icms.nats_available():
            self.skipTest("libicms was built without NATS")
        self.new_user()
        down = "nats://127.0.0.1:%d" % nats_helper.free_port()
        with self.db.nats_publisher(url=down, create_stream=True, timeout_ms=500) as pub:
            with self.assertRaises(icms.TransportError):
                pub.drain()
        # the events waited in the outbox: none acknowledged by the "nats" consumer
        consumers = {c["name"]: c for c in self.db.events_consumers(icms.HOST)["consumers"]}
        self.assertEqual(consumers.get("nats", {"acked": 0})["acked"], 0)
        with self.assertRaises(icms.Invalid):
            self.db.nats_publisher(consumer="bad name!")
        with self.assertRaises(icms.Invalid):
            self.db.nats_publisher(batch=100000)
        pub = self.db.nats_publisher(url=down)
        self.db.close()  # closes its publishers
        self.assertTrue(pub.closed)
        with self.assertRaises(icms.Invalid):
            pub.drain()


class RateLimit(unittest.TestCase):
    def test_refuses_past_its_rate_and_recovers_after_the_window(self):
        with icms.RateLimiter(anonymous_limit=3, authenticated_limit=5, window_ms=1000,
                              clock=NOW) as rl:
            answers = [rl.hit("10.0.0.1") for _ in range(4)]
            self.assertEqual([a["allowed"] for a in answers], [True, True, True, False])
            self.assertEqual([a["remaining"] for a in answers], [2, 1, 0, 0])
            self.assertEqual(answers[3]["limit"], 3)
            self.assertEqual(answers[3]["retry_after_ms"], 1000)
            # keys and kinds count separately
            self.assertTrue(rl.hit("10.0.0.2")["allowed"])
            self.assertEqual([rl.hit("10.0.0.1", authenticated=True)["allowed"]
                              for _ in range(6)], [True] * 5 + [False])
            self.assertEqual(rl.size(), 3)
            rl.clock.advance(999)
            self.assertFalse(rl.hit("10.0.0.1")["allowed"])
            rl.clock.advance(1)
            self.assertTrue(rl.hit("10.0.0.1")["allowed"])

    def test_shared_by_threads(self):
        rl = icms.RateLimiter(anonymous_limit=50, window_ms=60000)
        allowed = []

        def work():
            for _ in range(20):
                allowed.append(rl.hit("k")["allowed"])

        threads = [threading.Thread(target=work) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(allowed.count(True), 50)
        self.assertEqual(allowed.count(False), 50)
        rl.close()

    def test_refusals(self):
        rl = icms.RateLimiter()
        with self.assertRaises(icms.Invalid):
            rl.hit("")
        with self.assertRaises(icms.Invalid):
            rl.hit("x" * 257)
        self.assertEqual(rl.size(), 0)  # a refused key changes nothing
        rl.close()
        with self.assertRaises(icms.Invalid):
            rl.hit("k")
        with self.assertRaises(icms.Invalid):
            icms.RateLimiter(window_ms=-1)
        with self.assertRaises(icms.Invalid):
            icms.RateLimiter(anonymous_limit=-1)
        clock = icms.FakeClock(NOW)
        icms.RateLimiter(clock=clock).close()
        with self.assertRaises(icms.Invalid):  # the clock went with the first limiter
            icms.RateLimiter(clock=clock)


class Rpc(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.proc, cls.node = end_to_end.start_node(cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        end_to_end.stop_node(cls.proc)
        cls.tmp.cleanup()

    def client(self, **kw):
        n = self.node
        return icms.RpcClient(n["url"], kw.pop("username", n["user"]),
                              kw.pop("password", n["password"]), **kw)

    def test_calls_answer(self):
        with self.client() as rpc:
            self.assertEqual(rpc.getblockcount(), 2)
            genesis = rpc.getblockhash(0)
            self.assertEqual(len(genesis), 64)
            header = rpc.getblockheader(genesis)
            self.assertEqual(icms.header_decode(header)["hash"], genesis)
            block = rpc.getblock(genesis)
            self.assertEqual(block[:len(header)], header)
            tx = rpc.getrawtransaction(self.node["txids"]["pay"])
            self.assertEqual(tx["txid"], self.node["txids"]["pay"])
            self.assertEqual(icms.tx_decode(tx["raw"])["txid"], tx["txid"])
            self.assertEqual(tx["confirmations"], 0)
            self.assertFalse(tx["in_block"])
            self.assertIn(self.node["target"], [o["value"] for o in tx["outputs"]])
            address = rpc.getnewaddress()
            self.assertIn(address, self.node["addresses"])
            info = rpc.validateaddress(address)
            self.assertTrue(info["is_valid"])
            self.assertEqual(bytes.fromhex(info["script"]), icms.address_to_script(address))
            self.assertFalse(rpc.validateaddress("not-an-address")["is_valid"])
            paid = rpc.check_payment(self.node["txids"]["pay"], self.node["target"],
                                     address=self.node["addresses"][0], min_confirmations=0)
            self.assertEqual((paid["status"], paid["amount"]), ("CONFIRMED", self.node["target"]))
            self.assertEqual(len(paid["vouts"]), 1)
            short = rpc.check_payment(self.node["txids"]["pay"], self.node["target"] + 1,
                                      script=icms.address_to_script(self.node["addresses"][0]))
            self.assertEqual(short["status"], "INSUFFICIENT")
            wait = rpc.check_payment(self.node["txids"]["pay"], 1,
                                     address=self.node["addresses"][0], min_confirmations=6)
            self.assertEqual(wait["status"], "UNCONFIRMED")
            self.assertEqual(rpc.check_payment("00" * 32, 1, address=address)["status"],
                             "NOT_FOUND")

    def test_errors_map_to_classes(self):
        with self.client() as rpc:
            with self.assertRaises(icms.NotFound):
                rpc.getblockhash(99)
            with self.assertRaises(icms.NotFound):
                rpc.getrawtransaction("11" * 32)
            with self.assertRaises(icms.Invalid):
                rpc.getrawtransaction("not hex")
            with self.assertRaises(icms.Invalid):
                rpc.check_payment("00" * 32, -1, address=self.node["addresses"][0])
        with self.client(password="wrong") as rpc:
            with self.assertRaises(icms.Unauthenticated):
                rpc.getblockcount()
        down = "http://127.0.0.1:%d/" % nats_helper.free_port()
        with icms.RpcClient(down, timeout_ms=2000) as rpc:
            with self.assertRaises(icms.TransportError):
                rpc.getblockcount()
        with self.assertRaises(icms.Invalid):
            icms.RpcClient("ftp://127.0.0.1/")
        rpc = self.client()
        rpc.close()
        with self.assertRaises(icms.Invalid):
            rpc.getblockcount()

    def test_python_transport_and_its_exception(self):
        calls = []
        inner = end_to_end.urllib_transport(self.node["user"], self.node["password"])

        def post(url, headers, body, max_len):
            calls.append(json.loads(body)["method"])
            if calls[-1] == "getnewaddress":
                raise ConnectionResetError("host's HTTP stack failed")
            return inner(url, headers, body, max_len)

        with icms.RpcClient(self.node["url"], transport=post) as rpc:
            self.assertEqual(rpc.getblockcount(), 2)
            with self.assertRaises(ConnectionResetError) as cm:
                rpc.getnewaddress()
            self.assertIn("host's HTTP stack failed", str(cm.exception))
        self.assertEqual(calls, ["getblockcount", "getnewaddress"])

    def test_close_waits_for_a_call_in_flight(self):
        inner = end_to_end.urllib_transport(self.node["user"], self.node["password"])
        entered, release = threading.Event(), threading.Event()

        def slow(url, headers, body, max_len):
            entered.set()
            release.wait(10)
            return inner(url, headers, body, max_len)

        rpc = icms.RpcClient(self.node["url"], transport=slow)
        heights = []
        caller = threading.Thread(target=lambda: heights.append(rpc.getblockcount()))
        caller.start()
        self.assertTrue(entered.wait(10))
        closer = threading.Thread(target=rpc.close)
        closer.start()
        time.sleep(0.2)
        self.assertTrue(closer.is_alive())  # the client is still in use
        with self.assertRaises(icms.Invalid):  # but takes no new call
            rpc.getnewaddress()
        release.set()
        caller.join(10)
        closer.join(10)
        self.assertEqual(heights, [2])
        self.assertFalse(closer.is_alive())
        with self.assertRaises(icms.Invalid):
            rpc.getblockcount()

    def test_threads_share_a_client(self):
        with self.client() as rpc:
            heights = []
            threads = [threading.Thread(target=lambda: heights.append(rpc.getblockcount()))
                       for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(heights, [2] * 6)


if __name__ == "__main__":
    unittest.main()
