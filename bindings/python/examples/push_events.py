#!/usr/bin/python3
"""Push subscriptions and the rate limiter from Python.

    PYTHONPATH=build/bindings/python /usr/bin/python3 bindings/python/examples/push_events.py

A subscriber sees each event right after its command committed, on the
thread that ran the command; a failing subscriber never fails the command.
With ICMS_NATS_URL set (a nats-server -js), the outbox is also drained to
JetStream. Prints a JSON summary.
"""

import json
import os
import sys
import tempfile
import threading

import icms


def main():
    seen = []
    with tempfile.TemporaryDirectory() as work, \
            icms.Database(os.path.join(work, "icms.db"), clock=1767225600000) as db:
        sub = db.subscribe("user.*", lambda e: seen.append((e["type"], threading.current_thread().name)))
        admin = icms.Request.user(db.user_bootstrap_admin(icms.HOST, {"name": "Ada", "email": "ada@example.com"}))
        worker = threading.Thread(name="worker", target=lambda: db.user_create(
            admin, {"name": "Bea", "email": "bea@example.com"}))
        worker.start()
        worker.join()
        sub.close()
        published = None
        if os.environ.get("ICMS_NATS_URL"):
            with db.nats_publisher(url=os.environ["ICMS_NATS_URL"], create_stream=True) as pub:
                published = pub.drain()
    with icms.RateLimiter(anonymous_limit=2, window_ms=1000) as limiter:
        decisions = [limiter.hit("203.0.113.7")["allowed"] for _ in range(3)]
    json.dump({"seen": seen, "delivered": sub.delivered, "published": published,
               "decisions": decisions}, sys.stdout)
    print()
    assert seen == [("user.created", "MainThread"), ("user.created", "worker")], seen
    assert decisions == [True, True, False], decisions


if __name__ == "__main__":
    main()
