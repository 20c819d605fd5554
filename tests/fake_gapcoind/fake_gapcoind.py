#!/usr/bin/python3
"""A fake gapcoind for libicms tests: a small JSON-RPC 1.0 server over HTTP.

Standard library only; run it with Debian's /usr/bin/python3:

    /usr/bin/python3 fake_gapcoind.py SCENARIO.json [--tls CERT KEY [--client-ca CA]]

With --tls it serves HTTPS with that certificate; with --client-ca it also
demands a client certificate issued by CA (mutual TLS).

It binds 127.0.0.1 on a free port and prints ONE line of JSON on stdout, then
serves until killed:

    {"port": 40123, "generation": "0.16.3", "txids": {"name": "txid", ...},
     "blocks": ["hash of height 0", ...]}

Responses follow the shapes of each Gapcoin node generation ("0.9", "0.16.3",
"2606"): which methods exist, HTTP status codes of errors (500 with a JSON-RPC
error object, 404 for an unknown method, 401 with an empty body for wrong
credentials), scriptPubKey "addresses" (array, up to 0.16.3) against "address"
(string, 2606), amounts as JSON numbers with exactly 8 decimals.

The URL path picks a misbehaviour, so that one server serves every failure:
    /                    normal answers (also /wallet/NAME on 0.16.3 and 2606)
    /slow/MS/...         sleep MS milliseconds, then answer normally
    /garbage/html        200 with an HTML page
    /garbage/truncated   200 with JSON cut in the middle
    /garbage/array       200 with a JSON array instead of an object
    /garbage/noresult    200 with an object that has neither result nor error
    /oversized/N         200 with a valid JSON body of N bytes (Content-Length set)
    /oversized-chunked/N the same, chunked, with no Content-Length
    /status/CODE         an empty answer with that HTTP status
    /lie/swap-tx/...     getrawtransaction answers with another transaction's bytes
                         (the first in the mempool) under the txid asked for
    /lie/amount/...      getrawtransaction's JSON "value"s are 100 times the real ones
    /lie/proof/...       gettxoutproof answers with one byte of a hash flipped
    /lie/header/...      getblockheader answers with one bit of the nonce flipped
    /notxindex/...       behave as a node started without -txindex: getrawtransaction
                         finds mempool transactions only, unless given the block hash
                         (0.16.3 and 2606; 0.9 refuses a third parameter)

Control methods (only on this fake node): "fake_step" applies the next entry
of the scenario's "steps" (a reorg, new blocks, mempool changes) and returns
the new tip height; "fake_proxied" returns how many requests arrived in
proxy form (an absolute URL), which the node serves as if they were its own.

Scenario file (JSON):
  generation   "0.9" | "0.16.3" | "2606"
  network      "main" | "test" (addresses)
  rpcuser, rpcpassword
  blocks       [block, ...] from height 0; a block is
                 {"header": HEX, "txs": [tx, ...]}       a real header; or
                 {"header": HEX, "txids": [HEX, ...]}    real header, bodies unknown
                                                         (getblock false serves the header and
                                                         an empty body); or
                 {"time": N, "txs": [tx, ...]}           a synthetic header (prev, merkle root
                                                         computed; PoW NOT valid)
               a tx is a raw hex string, or {"name": S, "hex": HEX}, or
                 {"name": S, "inputs": [{"txid": HEX, "vout": N}], "outputs":
                  [{"value": BASE_UNITS, "script": HEX}], "locktime": N}
  mempool      [tx, ...]
  steps        [{"disconnect": N, "blocks": [block, ...], "mempool": [tx, ...]}, ...]
  wallet       {"new_addresses": [ADDR, ...]}   answers of getnewaddress, in turn
"""

import base64
import hashlib
import json
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ---------------------------------------------------------------- encoding


def sha256d(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def hash160(b):
    return hashlib.new("ripemd160", hashlib.sha256(b).digest()).digest()


def compact_size(n):
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + struct.pack("<I", n)
    return b"\xff" + struct.pack("<Q", n)


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58check(version, payload):
    data = bytes([version]) + payload
    data += sha256d(data)[:4]
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def b58check_decode(s):
    n = 0
    for c in s:
        if c not in B58:
            return None
        n = n * 58 + B58.index(c)
    pad = len(s) - len(s.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    data = b"\0" * pad + body
    if len(data) < 5 or sha256d(data[:-4])[:4] != data[-4:]:
        return None
    return data[0], data[1:-4]


BECH = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def bech32_polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((top >> i) & 1) else 0
    return chk


def hrp_expand(hrp):
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def convertbits(data, frombits, tobits, pad=True):
    acc = bits = 0
    ret = []
    maxv = (1 << tobits) - 1
    for v in data:
        acc = (acc << frombits) | v
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if pad and bits:
        ret.append((acc << (tobits - bits)) & maxv)
    elif not pad and (bits >= frombits or ((acc << (tobits - bits)) & maxv)):
        return None
    return ret


def bech32_encode(hrp, witver, prog, const):
    data = [witver] + convertbits(prog, 8, 5)
    poly = bech32_polymod(hrp_expand(hrp) + data + [0] * 6) ^ const
    chk = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH[d] for d in data + chk)


def bech32_decode(addr):
    addr = addr.lower()
    pos = addr.rfind("1")
    if pos < 1 or pos + 7 > len(addr):
        return None
    hrp, rest = addr[:pos], addr[pos + 1 :]
    if any(c not in BECH for c in rest):
        return None
    data = [BECH.index(c) for c in rest]
    const = bech32_polymod(hrp_expand(hrp) + data)
    if const not in (1, 0x2BC830A3):
        return None
    prog = convertbits(data[1:-6], 5, 8, False)
    if prog is None:
        return None
    return hrp, data[0], bytes(prog), const


# ---------------------------------------------------------------- node generations

GENERATIONS = {
    "0.9": {"bech": None, "bech_const": None, "addresses_array": True, "pubkey_address": True,
            "has_header": False, "has_proof": False, "segwit": False,
            "notx": "No information available about transaction"},
    "0.16.3": {"bech": {"main": "gp", "test": "tgp"}, "bech_const": 1, "addresses_array": True,
               "pubkey_address": True, "has_header": True, "has_proof": True, "segwit": True,
               "notx": "No such mempool or blockchain transaction. Use gettransaction for wallet transactions."},
    "2606": {"bech": {"main": "gap", "test": "tgap"}, "bech_const": 0x2BC830A3,
             "addresses_array": False, "pubkey_address": False, "has_header": True,
             "has_proof": True, "segwit": True,
             "notx": "No such mempool or blockchain transaction. Use gettransaction for wallet transactions."},
}
VERSIONS = {"main": (38, 5), "test": (111, 196)}


class Amount:
    """Base units, printed as a JSON number with exactly 8 decimals (as nodes do)."""

    def __init__(self, units):
        self.units = units

    def text(self):
        sign = "-" if self.units < 0 else ""
        q, r = divmod(abs(self.units), 100000000)
        return "%s%d.%08d" % (sign, q, r)


def dumps(v, indent=0):
    """JSON with Amount support; indented like the nodes' own output."""
    pad = "    " * (indent + 1)
    if isinstance(v, Amount):
        return v.text()
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = ['%s%s : %s' % (pad, json.dumps(k), dumps(x, indent + 1)) for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + "    " * indent + "}"
    if isinstance(v, list):
        if not v:
            return "[]"
        return "[\n" + ",\n".join(pad + dumps(x, indent + 1) for x in v) + "\n" + "    " * indent + "]"
    return json.dumps(v)


# ---------------------------------------------------------------- transactions


class Tx:
    def __init__(self, raw):
        self.raw = raw
        self.decode()

    def decode(self):
        b = self.raw
        p = [0]

        def take(n):
            if p[0] + n > len(b):
                raise ValueError("truncated transaction")
            out = b[p[0] : p[0] + n]
            p[0] += n
            return out

        def cs():
            first = take(1)[0]
            if first < 0xFD:
                return first
            return int.from_bytes(take({0xFD: 2, 0xFE: 4, 0xFF: 8}[first]), "little")

        self.version = struct.unpack("<i", take(4))[0]
        segwit = False
        n_in = cs()
        if n_in == 0:
            flag = take(1)[0]
            if flag != 1:
                raise ValueError("bad witness flag")
            segwit = True
            n_in = cs()
        self.inputs = []
        for _ in range(n_in):
            prev = take(32)
            vout = struct.unpack("<I", take(4))[0]
            script = take(cs())
            seq = struct.unpack("<I", take(4))[0]
            self.inputs.append({"txid": prev[::-1].hex(), "vout": vout, "script": script,
                                "sequence": seq, "witness": []})
        self.outputs = []
        for _ in range(cs()):
            value = struct.unpack("<q", take(8))[0]
            self.outputs.append({"value": value, "script": take(cs())})
        if segwit:
            for i in self.inputs:
                i["witness"] = [take(cs()) for _ in range(cs())]
        self.locktime = struct.unpack("<I", take(4))[0]
        if p[0] != len(b):
            raise ValueError("trailing bytes")
        self.segwit = segwit
        self.txid = sha256d(self.stripped())[::-1].hex()
        self.hash = sha256d(b)[::-1].hex()

    def stripped(self):
        out = struct.pack("<i", self.version) + compact_size(len(self.inputs))
        for i in self.inputs:
            out += bytes.fromhex(i["txid"])[::-1] + struct.pack("<I", i["vout"])
            out += compact_size(len(i["script"])) + i["script"] + struct.pack("<I", i["sequence"])
        out += compact_size(len(self.outputs))
        for o in self.outputs:
            out += struct.pack("<q", o["value"]) + compact_size(len(o["script"])) + o["script"]
        return out + struct.pack("<I", self.locktime)


def build_tx(spec):
    """Serialize a transaction described in the scenario (legacy form)."""
    out = struct.pack("<i", spec.get("version", 1))
    inputs = spec.get("inputs", [])
    out += compact_size(len(inputs))
    for i in inputs:
        script = bytes.fromhex(i.get("script", ""))
        out += bytes.fromhex(i["txid"])[::-1] + struct.pack("<I", i["vout"])
        out += compact_size(len(script)) + script + struct.pack("<I", i.get("sequence", 0xFFFFFFFF))
    outputs = spec.get("outputs", [])
    out += compact_size(len(outputs))
    for o in outputs:
        script = bytes.fromhex(o["script"])
        out += struct.pack("<q", o["value"]) + compact_size(len(script)) + script
    return out + struct.pack("<I", spec.get("locktime", 0))


def load_tx(spec, names):
    if isinstance(spec, str):
        tx = Tx(bytes.fromhex(spec))
    elif "hex" in spec:
        tx = Tx(bytes.fromhex(spec["hex"]))
    else:
        tx = Tx(build_tx(spec))
    if isinstance(spec, dict) and "name" in spec:
        names[spec["name"]] = tx.txid
    return tx


def merkle_root(txids_le):
    layer = list(txids_le)
    if not layer:
        return b"\0" * 32
    while len(layer) > 1:
        if len(layer) % 2:
            layer.append(layer[-1])
        layer = [sha256d(layer[i] + layer[i + 1]) for i in range(0, len(layer), 2)]
    return layer[0]


def partial_merkle(txids_le, match):
    """Bitcoin's CPartialMerkleTree: (hashes, flag bits) for the matched leaves."""
    n = len(txids_le)

    def width(h):
        return (n + (1 << h) - 1) >> h

    def calc(h, pos):
        if h == 0:
            return txids_le[pos]
        left = calc(h - 1, pos * 2)
        right = calc(h - 1, pos * 2 + 1) if pos * 2 + 1 < width(h - 1) else left
        return sha256d(left + right)

    hashes, bits = [], []

    def build(h, pos):
        parent = any(match[p] for p in range(pos << h, min((pos + 1) << h, n)))
        bits.append(parent)
        if h == 0 or not parent:
            hashes.append(calc(h, pos))
        else:
            build(h - 1, pos * 2)
            if pos * 2 + 1 < width(h - 1):
                build(h - 1, pos * 2 + 1)

    height = 0
    while width(height) > 1:
        height += 1
    build(height, 0)
    flags = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            flags[i // 8] |= 1 << (i % 8)
    return hashes, bytes(flags)


# ---------------------------------------------------------------- the chain


class Block:
    def __init__(self, spec, prev_hash_le, names):
        if "txs" in spec:
            self.txs = [load_tx(t, names) for t in spec["txs"]]
        else:
            self.txs = []
        self.txids_le = ([bytes.fromhex(t.txid)[::-1] for t in self.txs] if self.txs else
                         [bytes.fromhex(t)[::-1] for t in spec.get("txids", [])])
        if "header" in spec:
            self.header = bytes.fromhex(spec["header"])
        else:
            self.header = (struct.pack("<i", 2) + prev_hash_le + merkle_root(self.txids_le) +
                           struct.pack("<I", spec.get("time", 1413914400)) +
                           struct.pack("<Q", 1 << 48) + struct.pack("<I", spec.get("nonce", 0)) +
                           struct.pack("<H", 20) + b"\x01\x00")
        self.hash = sha256d(self.header[:84])[::-1].hex()
        self.time = struct.unpack("<I", self.header[68:72])[0]

    def raw(self):
        body = compact_size(len(self.txs)) + b"".join(t.raw for t in self.txs)
        return self.header + (body if self.txs else b"\0")


class Chain:
    def __init__(self, scenario):
        self.lock = threading.Lock()
        self.gen_name = scenario.get("generation", "0.16.3")
        self.gen = GENERATIONS[self.gen_name]
        self.network = scenario.get("network", "main")
        self.names = {}
        self.blocks = []
        self.stale = {}  # hash -> Block, for blocks a reorg disconnected
        self.mempool = []
        self.steps = scenario.get("steps", [])
        self.step = 0
        self.connect(scenario.get("blocks", []))
        self.mempool = [load_tx(t, self.names) for t in scenario.get("mempool", [])]
        self.new_addresses = scenario.get("wallet", {}).get("new_addresses", [])
        self.next_address = 0
        # Parse every step now so that all names are known at startup.
        self.parsed_steps = []
        for st in self.steps:
            for b in st.get("blocks", []):
                for t in b.get("txs", []):
                    load_tx(t, self.names)
            for t in st.get("mempool", []):
                load_tx(t, self.names)

    def connect(self, specs):
        for spec in specs:
            prev = bytes.fromhex(self.blocks[-1].hash)[::-1] if self.blocks else b"\0" * 32
            self.blocks.append(Block(spec, prev, self.names))

    def apply_step(self):
        if self.step >= len(self.steps):
            raise RpcError(-8, "no more scenario steps")
        st = self.steps[self.step]
        self.step += 1
        for _ in range(st.get("disconnect", 0)):
            b = self.blocks.pop()
            self.stale[b.hash] = b
        self.connect(st.get("blocks", []))
        if "mempool" in st:
            self.mempool = [load_tx(t, self.names) for t in st["mempool"]]
        return len(self.blocks) - 1

    def find_block(self, hash_hex):
        for h, b in enumerate(self.blocks):
            if b.hash == hash_hex:
                return h, b
        if hash_hex in self.stale:
            return None, self.stale[hash_hex]
        return None, None

    def find_tx(self, txid):
        for t in self.mempool:
            if t.txid == txid:
                return t, None, None
        for h, b in enumerate(self.blocks):
            for t in b.txs:
                if t.txid == txid:
                    return t, b, h
        for b in self.stale.values():
            for t in b.txs:
                if t.txid == txid:
                    return t, b, None
        return None, None, None

    # ------------------------------------------------------------ JSON shapes

    def script_json(self, script):
        d = {"asm": "", "hex": script.hex()}
        p2pkh, p2sh = VERSIONS[self.network]
        kind, addr, req = "nonstandard", None, None
        if len(script) == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
            kind, addr, req = "pubkeyhash", b58check(p2pkh, script[3:23]), 1
        elif len(script) == 23 and script[:2] == b"\xa9\x14" and script[22] == 0x87:
            kind, addr, req = "scripthash", b58check(p2sh, script[2:22]), 1
        elif len(script) in (35, 67) and script[0] == len(script) - 2 and script[-1] == 0xAC:
            kind, req = "pubkey", 1
            if self.gen["pubkey_address"]:
                addr = b58check(p2pkh, hash160(script[1:-1]))
        elif script[:1] == b"\x6a":
            kind = "nulldata"
        elif self.gen["bech"] and len(script) >= 4 and script[1] == len(script) - 2 and (
                script[0] == 0 or 0x51 <= script[0] <= 0x60):
            ver = 0 if script[0] == 0 else script[0] - 0x50
            prog = script[2:]
            if ver == 0 and len(prog) == 20:
                kind = "witness_v0_keyhash"
            elif ver == 0 and len(prog) == 32:
                kind = "witness_v0_scripthash"
            elif ver == 1 and len(prog) == 32:
                kind = "witness_v1_taproot"
            else:
                kind = "witness_unknown"
            const = self.gen["bech_const"] if ver == 0 else 0x2BC830A3
            addr = bech32_encode(self.gen["bech"][self.network], ver, prog, const)
            req = 1
        if self.gen["addresses_array"]:
            if req is not None:
                d["reqSigs"] = req
            d["type"] = kind
            if addr:
                d["addresses"] = [addr]
        else:
            if addr:
                d["address"] = addr
            d["type"] = kind
        return d

    def tx_json(self, tx, block, height):
        d = {"hex": tx.raw.hex(), "txid": tx.txid}
        if self.gen["segwit"]:
            d["hash"] = tx.hash
            d["size"] = len(tx.raw)
            d["vsize"] = (len(tx.stripped()) * 3 + len(tx.raw) + 3) // 4
        d["version"] = tx.version
        d["locktime"] = tx.locktime
        vin = []
        for i in tx.inputs:
            if i["txid"] == "00" * 32:
                vin.append({"coinbase": i["script"].hex(), "sequence": i["sequence"]})
            else:
                e = {"txid": i["txid"], "vout": i["vout"],
                     "scriptSig": {"asm": "", "hex": i["script"].hex()}}
                if i["witness"]:
                    e["txinwitness"] = [w.hex() for w in i["witness"]]
                e["sequence"] = i["sequence"]
                vin.append(e)
        d["vin"] = vin
        d["vout"] = [{"value": Amount(o["value"]), "n": n, "scriptPubKey": self.script_json(o["script"])}
                     for n, o in enumerate(tx.outputs)]
        if block is not None:
            d["blockhash"] = block.hash
            if height is not None:
                d["confirmations"] = len(self.blocks) - height
                d["time"] = block.time
                d["blocktime"] = block.time
            else:
                d["confirmations"] = 0  # the block left the active chain
        return d

    def validate(self, addr):
        p2pkh, p2sh = VERSIONS[self.network]
        script = None
        dec = b58check_decode(addr)
        if dec and len(dec[1]) == 20:
            if dec[0] == p2pkh:
                script = b"\x76\xa9\x14" + dec[1] + b"\x88\xac"
            elif dec[0] == p2sh:
                script = b"\xa9\x14" + dec[1] + b"\x87"
        if script is None and self.gen["bech"]:
            dec = bech32_decode(addr)
            if dec and dec[0] == self.gen["bech"][self.network]:
                hrp, ver, prog, const = dec
                want = self.gen["bech_const"] if ver == 0 else 0x2BC830A3
                if const == want and 2 <= len(prog) <= 40:
                    script = bytes([0 if ver == 0 else 0x50 + ver, len(prog)]) + prog
        if script is None:
            return {"isvalid": False}
        if self.gen_name == "0.9":
            return {"isvalid": True, "address": addr, "ismine": False}
        d = {"isvalid": True, "address": addr, "scriptPubKey": script.hex()}
        if self.gen_name == "0.16.3":
            d.update({"ismine": False, "iswatchonly": False, "isscript": script[0] == 0xA9})
        else:
            d.update({"isscript": script[0] == 0xA9, "iswitness": script[0] in (0,) or script[0] > 0x50})
        return d

    # ------------------------------------------------------------ methods

    def call(self, method, params, lie=None):
        with self.lock:
            result = self._call(method, params, lie == "notxindex")
            if lie == "swap-tx" and method == "getrawtransaction" and isinstance(result, dict):
                result["hex"] = self.mempool[0].raw.hex()
            elif lie == "amount" and method == "getrawtransaction" and isinstance(result, dict):
                for v in result["vout"]:
                    v["value"] = Amount(v["value"].units * 100)
            elif lie == "header" and method == "getblockheader":
                raw = bytearray(bytes.fromhex(result))
                raw[80] ^= 1  # the nonce: hashed, so the header is another block's
                result = raw.hex()
            elif lie == "proof" and method == "gettxoutproof":
                raw = bytearray(bytes.fromhex(result))
                raw[-3] ^= 1  # inside the last hash: the tree no longer reaches the root
                result = raw.hex()
            return result

    def _call(self, method, params, notxindex=False):
        g = self.gen
        if method == "fake_step":
            return self.apply_step()
        if method == "getblockcount":
            return len(self.blocks) - 1
        if method == "getblockhash":
            h = param(params, 0, int)
            if not 0 <= h < len(self.blocks):
                raise RpcError(-8, "Block height out of range")
            return self.blocks[h].hash
        if method == "getblock":
            _, b = self.find_block(param(params, 0, str))
            if b is None:
                raise RpcError(-5, "Block not found")
            verbose = params[1] if len(params) > 1 else True
            if verbose in (False, 0):
                return b.raw().hex()
            raise RpcError(-8, "verbose getblock is not modelled by the fake node")
        if method == "getblockheader" and g["has_header"]:
            _, b = self.find_block(param(params, 0, str))
            if b is None:
                raise RpcError(-5, "Block not found")
            verbose = params[1] if len(params) > 1 else True
            if verbose in (False, 0):
                return b.header.hex()
            raise RpcError(-8, "verbose getblockheader is not modelled by the fake node")
        if method == "getrawtransaction":
            txid = param(params, 0, str)
            verbose = params[1] if len(params) > 1 else 0
            if self.gen_name == "0.9" and isinstance(verbose, bool):
                raise RpcError(-3, "Expected type int, got bool")
            if len(params) > 2:
                if self.gen_name == "0.9":
                    raise RpcError(-1, "getrawtransaction <txid> [verbose=0]\n\nReturns raw transaction")
                height, b = self.find_block(param(params, 2, str))
                if b is None:
                    raise RpcError(-5, "Block hash not found")
                tx = next((t for t in b.txs if t.txid == txid), None)
                if tx is None:
                    raise RpcError(-5, "No such transaction found in the provided block. "
                                       "Use gettransaction for wallet transactions.")
                if not verbose:
                    return tx.raw.hex()
                d = self.tx_json(tx, b, height)
                d["in_active_chain"] = height is not None
                return d
            tx, b, h = self.find_tx(txid)
            if tx is not None and b is not None and notxindex:
                tx = None  # without -txindex only the mempool is searched
            if tx is None:
                raise RpcError(-5, g["notx"])
            if not verbose:
                return tx.raw.hex()
            return self.tx_json(tx, b, h)
        if method == "gettxoutproof" and g["has_proof"]:
            txids = param(params, 0, list)
            tx, b, h = self.find_tx(txids[0]) if txids else (None, None, None)
            if tx is None or b is None or h is None:
                raise RpcError(-5, "Transaction not yet in block")
            want = set(txids)
            match = [t.txid in want for t in b.txs]
            hashes, flags = partial_merkle(b.txids_le, match)
            out = b.header + struct.pack("<I", len(b.txids_le)) + compact_size(len(hashes))
            out += b"".join(hashes) + compact_size(len(flags)) + flags
            return out.hex()
        if method == "getnewaddress":
            if not self.new_addresses:
                raise RpcError(-18, "No wallet is loaded.")
            a = self.new_addresses[self.next_address % len(self.new_addresses)]
            self.next_address += 1
            return a
        if method == "validateaddress":
            return self.validate(param(params, 0, str))
        raise MethodNotFound()


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class MethodNotFound(RpcError):
    def __init__(self):
        super().__init__(-32601, "Method not found")


def param(params, i, kind):
    if len(params) <= i or not isinstance(params[i], kind) or (kind is int and isinstance(params[i], bool)):
        raise RpcError(-1, "bad parameter %d" % i)
    return params[i]


# ---------------------------------------------------------------- HTTP


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gapcoin-json-rpc/fake"
    # Headers and body in one write, no Nagle: otherwise delayed ACKs add 40 ms to every answer.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    sys_version = ""

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def send(self, status, body, ctype="application/json", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.send(405, b"JSONRPC server handles only POST requests", "text/plain")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length) if length else b""
        srv = self.server
        target = self.path
        if "://" in target:  # absolute form: we were asked as an HTTP proxy; serve it ourselves
            srv.proxied += 1
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        path = [p for p in target.split("/") if p]
        lie = None
        if path[:1] == ["lie"]:
            lie, path = path[1], path[2:]
        elif path[:1] == ["notxindex"]:
            lie, path = "notxindex", path[1:]
        if path[:1] == ["slow"]:
            time.sleep(int(path[1]) / 1000.0)
            path = path[2:]
        if path[:1] == ["status"]:
            self.send(int(path[1]), b"", "text/html")
            return
        auth = self.headers.get("Authorization", "")
        want = "Basic " + base64.b64encode(("%s:%s" % (srv.user, srv.password)).encode()).decode()
        if auth != want:
            self.send(401, b"", "text/html", {"WWW-Authenticate": 'Basic realm="jsonrpc"'})
            return
        if path[:1] == ["garbage"]:
            body = {"html": b"<html><body>502 Bad Gateway</body></html>",
                    "truncated": b'{"result":{"hex":"0100',
                    "array": b"[1,2,3]",
                    "noresult": b'{"id":1,"jsonrpc":"1.0"}'}[path[1]]
            self.send(200, body)
            return
        if path[:1] in (["oversized"], ["oversized-chunked"]):
            n = int(path[1])
            head, tail = b'{"result":"', b'","error":null,"id":1}'
            body = head + b"0" * max(0, n - len(head) - len(tail)) + tail
            if path[0] == "oversized":
                self.send(200, body)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for i in range(0, len(body), 65536):
                    chunk = body[i : i + 65536]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client hung up at its cap, as it should
            self.close_connection = True
            return
        try:
            req = json.loads(raw)
        except ValueError:
            self.reply(500, None, {"code": -32700, "message": "Parse error"}, None)
            return
        rid = req.get("id") if isinstance(req, dict) else None
        if not isinstance(req, dict) or not isinstance(req.get("method"), str):
            self.reply(500, None, {"code": -32600, "message": "Invalid Request object"}, rid)
            return
        params = req.get("params", [])
        if req["method"] == "fake_proxied":
            self.reply(200, srv.proxied, None, rid)
            return
        try:
            result = srv.chain.call(req["method"], params if isinstance(params, list) else [], lie)
        except MethodNotFound as e:
            self.reply(404, None, {"code": e.code, "message": e.message}, rid)
            return
        except RpcError as e:
            self.reply(500, None, {"code": e.code, "message": e.message}, rid)
            return
        self.reply(200, result, None, rid)

    def reply(self, status, result, error, rid):
        body = "{\"result\":%s,\"error\":%s,\"id\":%s}\n" % (
            dumps(result), dumps(error), json.dumps(rid))
        self.send(status, body.encode())


def main():
    args = sys.argv[1:]
    if not args:
        sys.stderr.write("usage: fake_gapcoind.py SCENARIO.json [--tls CERT KEY [--client-ca CA]]\n")
        return 2
    with open(args[0]) as f:
        scenario = json.load(f)
    chain = Chain(scenario)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if "--tls" in args:
        import ssl

        i = args.index("--tls")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args[i + 1], args[i + 2])
        if "--client-ca" in args:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args[args.index("--client-ca") + 1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.chain = chain
    server.proxied = 0
    server.user = scenario.get("rpcuser", "")
    server.password = scenario.get("rpcpassword", "")
    hello = {"port": server.server_address[1], "generation": chain.gen_name,
             "txids": chain.names, "blocks": [b.hash for b in chain.blocks]}
    sys.stdout.write(json.dumps(hello) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
