"""Gapcoin decoding through the Python binding, against tests/data/gapcoin."""

import json
import os
import unittest

import icms

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests",
                    "data", "gapcoin")


def load(name):
    with open(os.path.join(DATA, name)) as f:
        return json.load(f)


class Gapcoin(unittest.TestCase):
    def test_genesis_coinbase(self):
        g = load("genesis.json")["coinbase_tx"]
        raw = bytes.fromhex(g["hex"])
        tx = icms.tx_decode(raw)
        self.assertEqual(tx["txid"], g["txid"])
        self.assertEqual(tx["size"], g["size"])
        self.assertTrue(tx["coinbase"])
        self.assertFalse(tx["has_witness"])
        self.assertEqual(len(tx["inputs"]), 1)
        self.assertIn(g["scriptsig_message"].encode().hex(), tx["inputs"][0]["script_sig"])
        out = tx["outputs"][0]
        self.assertEqual((out["value"], out["type"]), (0, "p2pk"))
        self.assertEqual(out["address"], g["outputs"][0]["address_mainnet"])
        self.assertEqual(icms.tx_decode(raw, icms.TESTNET)["outputs"][0]["address"],
                         g["outputs"][0]["address_testnet"])

    def test_headers(self):
        g = load("genesis.json")["mainnet"]
        h = icms.header_decode(bytes.fromhex(g["header_hex"]))
        self.assertEqual((h["hash"], h["size"]), (g["hash"], g["header_size"]))
        for want in load("mainnet_headers_1_9.json")["headers"]:
            self.assertEqual(icms.header_decode(bytes.fromhex(want["header_hex"]))["hash"],
                             want["hash"])

    def test_addresses_and_scripts(self):
        a = load("addresses.json")
        script = icms.address_to_script(a["p2pkh_mainnet"])
        self.assertEqual(script.hex(), "76a914" + a["hash160"] + "88ac")
        self.assertEqual(icms.script_to_address(script), a["p2pkh_mainnet"])
        witness = icms.address_to_script(a["bech32_v0_hrp_gp"])
        self.assertEqual(icms.script_to_address(witness, node=icms.NODE_0_16),
                         a["bech32_v0_hrp_gp"])
        self.assertEqual(icms.script_to_address(witness, node=icms.NODE_2606),
                         a["bech32m_v0_hrp_gap_2606"])

    def test_refusals(self):
        raw = bytes.fromhex(load("genesis.json")["coinbase_tx"]["hex"])
        with self.assertRaises(icms.Invalid):
            icms.tx_decode(raw[:-1])
        with self.assertRaises(icms.Invalid):
            icms.tx_decode(raw + b"\0")           # trailing bytes
        with self.assertRaises(icms.Invalid):
            icms.tx_decode(raw, network=7)
        with self.assertRaises(icms.Invalid):
            icms.header_decode(b"\1\2\3")
        with self.assertRaises(icms.Invalid):
            icms.address_to_script("GcwphVTaks2XGGB8RUk7auWdgmG8CV14TG")  # checksum
        with self.assertRaises(icms.NotFound):
            icms.script_to_address(bytes.fromhex("6a0568656c6c6f"))       # OP_RETURN


if __name__ == "__main__":
    unittest.main()
