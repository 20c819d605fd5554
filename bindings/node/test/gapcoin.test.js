'use strict';
// Gapcoin decoding through the Node binding, against tests/data/gapcoin.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const icms = require('../lib/icms');

const DATA = path.join(__dirname, '..', '..', '..', 'tests', 'data', 'gapcoin');
const load = (name) => require(path.join(DATA, name));
const hex = (s) => Buffer.from(s, 'hex');
const { gapcoin } = icms;

test('gapcoin: the genesis coinbase decodes', () => {
  const g = load('genesis.json').coinbase_tx;
  const tx = gapcoin.txDecode(hex(g.hex));
  assert.equal(tx.txid, g.txid);
  assert.equal(tx.size, BigInt(g.size));
  assert.equal(tx.coinbase, true);
  assert.equal(tx.has_witness, false);
  assert.ok(tx.inputs[0].script_sig.includes(Buffer.from(g.scriptsig_message).toString('hex')));
  assert.equal(tx.outputs[0].value, 0n);
  assert.equal(tx.outputs[0].type, 'p2pk');
  assert.equal(tx.outputs[0].address, g.outputs[0].address_mainnet);
  assert.equal(gapcoin.txDecode(hex(g.hex), { network: gapcoin.TESTNET }).outputs[0].address,
    g.outputs[0].address_testnet);
});

test('gapcoin: headers decode to their hashes', () => {
  const g = load('genesis.json').mainnet;
  const h = gapcoin.headerDecode(hex(g.header_hex));
  assert.equal(h.hash, g.hash);
  assert.equal(h.size, BigInt(g.header_size));
  for (const want of load('mainnet_headers_1_9.json').headers) {
    assert.equal(gapcoin.headerDecode(hex(want.header_hex)).hash, want.hash);
  }
});

test('gapcoin: addresses and scripts', () => {
  const a = load('addresses.json');
  const script = gapcoin.addressToScript(a.p2pkh_mainnet);
  assert.equal(script.toString('hex'), `76a914${a.hash160}88ac`);
  assert.equal(gapcoin.scriptToAddress(script), a.p2pkh_mainnet);
  const witness = gapcoin.addressToScript(a.bech32_v0_hrp_gp);
  assert.equal(gapcoin.scriptToAddress(witness, { node: gapcoin.NODE_0_16 }), a.bech32_v0_hrp_gp);
  assert.equal(gapcoin.scriptToAddress(witness, { node: gapcoin.NODE_2606 }), a.bech32m_v0_hrp_gap_2606);
});

test('gapcoin: refusals', () => {
  const raw = hex(load('genesis.json').coinbase_tx.hex);
  assert.throws(() => gapcoin.txDecode(raw.subarray(0, raw.length - 1)), icms.InvalidError);
  assert.throws(() => gapcoin.txDecode(Buffer.concat([raw, Buffer.alloc(1)])), icms.InvalidError);
  assert.throws(() => gapcoin.txDecode(raw, { network: 7 }), icms.InvalidError);
  assert.throws(() => gapcoin.txDecode(raw.toString('hex')), /Buffer/);
  assert.throws(() => gapcoin.headerDecode(Buffer.from([1, 2, 3])), icms.InvalidError);
  assert.throws(() => gapcoin.addressToScript('GcwphVTaks2XGGB8RUk7auWdgmG8CV14TG'), icms.InvalidError);
  assert.throws(() => gapcoin.scriptToAddress(hex('6a0568656c6c6f')), icms.NotFoundError);
});
