#!/usr/bin/python3
"""The end-to-end scenario every binding's test runs, as a fake gapcoind chain.

    /usr/bin/python3 tests/bindings/scenario.py DIR

writes DIR/scenario.json, starts tests/fake_gapcoind/fake_gapcoind.py on it,
and prints ONE line of JSON on stdout, then waits until stdin closes (or it
is killed) and stops the node:

    {"url": "http://127.0.0.1:PORT/", "user": ..., "password": ...,
     "pid": node pid, "addresses": [wallet addresses the node hands out],
     "refund_address": ..., "owner_address": ...,
     "txids": {"pay": ..., "payout": ..., "release": ...},
     "target": 150000000, "profit": 30000000, "now_ms": 1767225600000}

The chain (what tests/app/test_payments.c's happy path uses): height 2; the
payment "pay" (TARGET to the first wallet address) in the mempool; step 1
mines it; step 2 adds 5 blocks (6 confirmations); step 3 mines "payout"
(TARGET + PROFIT to the refund address) and "release" (TARGET, the escrow
released on approval, to the owner's payout address) under 6 blocks.

Standard library only, so the Node and Go tests can drive it too.
"""

import hashlib
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USER, PASSWORD = "gapuser", "s3cret-Pa55word"
TARGET, PROFIT = 150_000_000, 30_000_000
NOW_MS = 1767225600000  # 2026-01-01T00:00:00Z
ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

_counter = 0


def b58check(version, payload):
    raw = bytes([version]) + payload
    raw += hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = ALPHABET[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def address(seed):
    h160 = bytes([seed]) * 20
    return b58check(38, h160), "76a914" + h160.hex() + "88ac"


def coinbase():
    global _counter
    tx = {"name": f"cb{_counter}", "inputs": [{"txid": "0" * 64, "vout": 4294967295,
                                               "script": "00"}],
          "outputs": [{"value": 0, "script": "6a"}], "locktime": _counter}
    _counter += 1
    return tx


def tx(name, script, value):
    global _counter
    t = {"name": name, "inputs": [{"txid": "%064x" % 0xabc, "vout": _counter, "script": "00"}],
         "outputs": [{"value": value, "script": script}]}
    _counter += 1
    return t


def blocks(count, first_txs=()):
    out = []
    for i in range(count):
        txs = [coinbase()] + (list(first_txs) if i == 0 else [])
        out.append({"time": 1413916000 + _counter * 150, "txs": txs})
    return out


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    wallet = [address(0x11 * (i + 1)) for i in range(8)]
    refund, refund_script = address(0x99)
    owner, owner_script = address(0x77)
    pay = tx("pay", wallet[0][1], TARGET)
    payout = tx("payout", refund_script, TARGET + PROFIT)
    release = tx("release", owner_script, TARGET)
    scenario = {
        "generation": "0.16.3", "network": "main", "rpcuser": USER, "rpcpassword": PASSWORD,
        "wallet": {"new_addresses": [a for a, _ in wallet]},
        "blocks": blocks(3),
        "mempool": [pay],
        "steps": [
            {"blocks": blocks(1, [pay]), "mempool": []},
            {"blocks": blocks(5), "mempool": []},
            {"blocks": blocks(6, [payout, release]), "mempool": []},
        ],
    }
    path = os.path.join(work, "scenario.json")
    with open(path, "w") as f:
        json.dump(scenario, f)
    node = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests/fake_gapcoind/fake_gapcoind.py"),
                             path], stdout=subprocess.PIPE, text=True)
    try:
        hello = json.loads(node.stdout.readline())
        print(json.dumps({
            "url": f"http://127.0.0.1:{hello['port']}/", "user": USER, "password": PASSWORD,
            "pid": node.pid, "addresses": [a for a, _ in wallet], "refund_address": refund,
            "owner_address": owner, "txids": hello["txids"], "target": TARGET, "profit": PROFIT,
            "now_ms": NOW_MS,
        }), flush=True)
        sys.stdin.read()  # until the test closes our stdin or kills us
    finally:
        node.terminate()
        node.wait()


if __name__ == "__main__":
    main()
