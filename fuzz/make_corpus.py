#!/usr/bin/python3
"""Rebuild the seed corpus in fuzz/corpus/ from the test vectors (tests/data/gapcoin/).

Run from anywhere: /usr/bin/python3 fuzz/make_corpus.py. Files it does not write (the
regress_* inputs, reproducers of past findings) are left alone.
"""
import hashlib
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'tests', 'data', 'gapcoin')


def load(name):
    with open(os.path.join(DATA, name)) as f:
        return json.load(f)


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def sha256d(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def var(b):
    return bytes([len(b)]) + b


def main():
    g = load('genesis.json')
    h = load('mainnet_headers_1_9.json')
    a = load('addresses.json')

    write('tx', 'genesis_coinbase', bytes.fromhex(g['coinbase_tx']['hex']))
    # A payment with a P2WPKH and an OP_RETURN output, in witness and legacy form.
    body = bytes(range(1, 33)) + struct.pack('<I', 1) + var(b'') + struct.pack('<I', 0xfffffffd)
    outs = (bytes([2]) + struct.pack('<q', 150000000) + var(b'\x00\x14' + b'\x42' * 20) +
            struct.pack('<q', 0) + var(b'\x6a\x03abc'))
    wit = bytes([2]) + var(b'\x30' * 71) + var(b'\x02' * 33)
    lock = struct.pack('<I', 100)
    write('tx', 'witness_p2wpkh', struct.pack('<i', 2) + b'\x00\x01\x01' + body + outs + wit + lock)
    write('tx', 'legacy_p2wpkh', struct.pack('<i', 2) + b'\x01' + body + outs + lock)

    write('block', 'genesis', bytes.fromhex(g['mainnet']['block_hex']))
    write('header', 'genesis_main', bytes.fromhex(g['mainnet']['header_hex']))
    write('header', 'genesis_test', bytes.fromhex(g['testnet']['header_hex']))
    for x in h['headers']:
        write('header', 'mainnet_%d' % x['height'], bytes.fromhex(x['header_hex']))

    write('merkle_proof', 'genesis', bytes.fromhex(g['mainnet']['merkle_proof_hex']))
    # Three transactions, the middle one matched: hashes tx0, tx1, H(tx2||tx2).
    ids = [sha256d(bytes([i])) for i in range(3)]
    header = bytearray(bytes.fromhex(g['mainnet']['header_hex']))
    right = sha256d(ids[2] + ids[2])
    header[36:68] = sha256d(sha256d(ids[0] + ids[1]) + right)
    bits = [1, 1, 0, 1, 0]
    flags = sum(b << i for i, b in enumerate(bits))
    write('merkle_proof', 'three_tx',
          bytes(header) + struct.pack('<I', 3) + b'\x03' + ids[0] + ids[1] + right +
          bytes([1, flags]))

    for k in ['p2pkh_mainnet', 'p2sh_p2wpkh_mainnet', 'wif_mainnet']:
        write('base58', k, a[k])
    for k in ['p2pkh_mainnet', 'p2sh_p2wpkh_mainnet', 'bech32_v0_hrp_gp',
              'bech32m_v0_hrp_gap_2606']:
        write('address', k, a[k])
    for i, x in enumerate(a['other_real_mainnet_p2pkh']):
        write('address', 'other_%d' % i, x['address'])
        write('base58', 'other_%d' % i, x['address'])
    out0 = g['coinbase_tx']['outputs'][0]
    write('address', 'genesis_p2pk_main', out0['address_mainnet'])
    write('address', 'genesis_p2pk_test', out0['address_testnet'])
    for k in ['bech32_v0_hrp_gp', 'bech32m_v0_hrp_gap_2606']:
        write('bech32', k, a[k])
    # BIP173 / BIP350 valid strings.
    for i, s in enumerate(['A12UEL5L', 'abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw',
                           '?1ezyfcl', 'A1LQFN3A', '?1v759aa']):
        write('bech32', 'bip_%d' % i, s)


if __name__ == '__main__':
    main()
