#!/usr/bin/python3
"""The end-to-end scenario in Python: users, KYC, a project, a participation,
a payment confirmed on a (fake) Gapcoin node, approval (the escrow released
to the owner), shipping, completion, the payout and the owner's release paid.

    /usr/bin/python3 tests/bindings/scenario.py /tmp/scn | (read -r NODE; ...)

or simply run it: it starts the fake node itself.

    PYTHONPATH=build/bindings/python /usr/bin/python3 bindings/python/examples/end_to_end.py

Payments reach the node through a transport written in Python (urllib), the
way a host plugs in its own HTTP stack.
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import icms

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def urllib_transport(user, password):
    """A transport over urllib: post(url, headers, body, max_len) -> (status, bytes)."""
    auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def post(url, headers, body, max_len):
        req = urllib.request.Request(url, data=body, method="POST")
        for h in headers:
            name, _, value = h.partition(":")
            req.add_header(name.strip(), value.strip())
        req.add_header("Authorization", auth)
        try:
            with urllib.request.urlopen(req, timeout=10) as answer:
                return answer.status, answer.read(max_len + 1)
        except urllib.error.HTTPError as e:  # an HTTP answer all the same
            return e.code, e.read(max_len + 1)

    return post


def fake_step(node):
    """Advance the fake node's chain by one scenario step."""
    body = json.dumps({"jsonrpc": "1.0", "id": 1, "method": "fake_step", "params": []}).encode()
    status, _ = urllib_transport(node["user"], node["password"])(
        node["url"], ["Content-Type: application/json"], body, 1 << 20)
    assert status == 200, status


def run(db_path, node, transport="python"):
    """Play the scenario against node (scenario.py's JSON); returns what happened.

    transport "python" reaches the node through urllib_transport, "curl"
    through the library's built-in libcurl transport.
    """
    target, profit = node["target"], node["profit"]
    post = urllib_transport(node["user"], node["password"]) if transport == "python" else None
    gapcoin = icms.Gapcoin(node["url"], node["user"], node["password"], transport=post)
    seen = {}
    with icms.Database(db_path, clock=node["now_ms"], gapcoin=gapcoin, sync=2) as db:
        admin = db.user_bootstrap_admin(icms.HOST, {"name": "Ada Admin", "email": "ada@example.com"})
        as_admin = icms.Request.user(admin)
        owner = db.user_create(as_admin, {"name": "Otto Owner", "email": "otto@example.com",
                                          "roles": ["OWNER"]})
        investor = db.user_create(as_admin, {"name": "Ines Investor", "email": "ines@example.com",
                                             "roles": ["INVESTOR"]})
        as_owner, as_investor = icms.Request.user(owner), icms.Request.user(investor)

        # KYC: the investor submits, an admin verifies.
        db.user_set_kyc(as_investor, investor["id"], "PENDING", {"document": "passport"})
        kyc = db.user_set_kyc(as_admin, investor["id"], "VERIFIED", None)
        seen["kyc"] = kyc["kyc_status"]

        project = db.project_create(as_owner, {
            "title": "One crate", "expiry_date": "2026-02-01T00:00:00Z",
            "shipping_costs": {"freight": 50_000_000}, "min_ticket": 1,
            "payout_address": node["owner_address"],  # where the owner is paid on approval
            "products": [{"name": "Crate", "unit": "crate", "quantity": 1,
                          "unit_price": 100_000_000}]})
        pid = project["id"]
        seen["total_cost"] = project["total_cost"]
        db.project_publish(as_owner, pid)

        part = db.participation_request(as_investor, pid, {"type": "PROFIT", "capital": target})
        db.participation_approve(as_owner, part["id"])
        seen["after_approval"] = db.project_get(as_admin, pid)["state"]

        payment = db.payment_initiate(as_investor.with_(idempotency_key="pay-1"), part["id"],
                                      {"refund_address": node["refund_address"]})
        seen["address"] = payment["address"]
        seen["amount"] = payment["amount"]
        db.payment_submit(as_investor, payment["id"], node["txids"]["pay"])
        seen["confirmations"] = [db.payment_verify(icms.HOST, payment["id"])["confirmations"]]
        fake_step(node)
        seen["confirmations"].append(db.payment_verify(icms.HOST, payment["id"])["confirmations"])
        fake_step(node)
        verified = db.payment_verify(icms.HOST, payment["id"])
        seen["payment"] = verified["status"]
        funded = db.project_get(as_admin, pid)
        seen["funded"], seen["after_payment"] = funded["funded"], funded["state"]

        # Only the owner, admins and the host read where the owner is paid.
        seen["owner_reads_address"] = db.project_get(as_owner, pid)["payout_address"]
        seen["investor_reads_address"] = "payout_address" in db.project_get(as_investor, pid)

        # Approval releases the escrow to the owner: a release DUE, paid by the host's wallet.
        release_id = db.project_approve(as_admin, pid)["release_id"]
        release = db.release_get(as_owner, release_id)
        seen["release_due"] = (release["status"], release["amount"], release["address"])
        seen["releases_due"] = [r["id"] == release_id
                                for r in db.release_list(icms.HOST, {"status": "DUE"})["items"]]
        db.project_ship(as_admin, pid, {
            "container_number": "CSQU3054383", "vessel": "Ever", "bill_of_lading": "BL1",
            "port_of_loading": "Piraeus", "port_of_discharge": "Hamburg",
            "eta": "2026-03-01T00:00:00Z"})
        db.project_complete(as_admin, pid)
        seen["final"] = db.project_get(as_admin, pid)["state"]

        db.project_distribute(as_admin, pid, {"profit": profit})
        due = db.payout_list(as_investor, None)["items"][0]
        seen["payout_amount"] = due["amount"]
        fake_step(node)
        seen["payout"] = db.payout_record(icms.HOST, due["id"], node["txids"]["payout"])["status"]
        paid = db.release_record(icms.HOST, release_id, node["txids"]["release"])
        seen["release"] = (paid["status"], paid["txid"] == node["txids"]["release"])
        seen["releases_paid"] = len(db.release_list(as_owner, {"status": "PAID"})["items"])
        seen["check"] = db.check(icms.HOST)
    return seen


def start_node(work):
    """Start tests/bindings/scenario.py; returns (process, node info)."""
    proc = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests/bindings/scenario.py"),
                             work], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc, json.loads(proc.stdout.readline())


def stop_node(proc):
    proc.stdin.close()
    proc.wait()
    proc.stdout.close()


def main():
    with tempfile.TemporaryDirectory() as work:
        proc, node = start_node(work)
        try:
            seen = run(os.path.join(work, "icms.db"), node)
        finally:
            stop_node(proc)
    json.dump(seen, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
