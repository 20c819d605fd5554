'use strict';
// The promise-returning network calls (node --test): RpcClient.callAsync and
// checkPaymentAsync against the fake gapcoind, NatsPublisher.drainAsync
// against a real nats-server, both on 127.0.0.1. They must answer what the
// synchronous methods answer, leave the event loop free while they wait,
// run one at a time per handle, and survive close() while in flight.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const readline = require('readline');
const icms = require('../lib/icms');
const e2e = require('../examples/end_to_end');
const { tmpdir, startNode, ticksDuring, ticksDuringSync, timeless, sameError, syncError, freePort,
  startNats } = require('./support');

const NOW = 1767225600000;
const ROOT = path.resolve(__dirname, '..', '..', '..');
const HELPER = path.join(ROOT, 'tests/bindings/nats_helper.py');
const DELAY = 600; // ms the slow node takes to answer (fake_gapcoind's /slow/MS/)

// A TCP server that accepts and never says a word: a NATS server that hangs.
function blackhole(t) {
  const sockets = new Set();
  const srv = net.createServer((s) => { sockets.add(s); s.on('error', () => {}); });
  t.after(() => new Promise((resolve) => { for (const s of sockets) s.destroy(); srv.close(resolve); }));
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv.address().port)));
}

const rpcOf = (node, more = {}) => new icms.RpcClient({ url: node.url, username: node.user,
  password: node.password, ...more });

// ---------------------------------------------------------------- the RPC client

test('rpc async: the same answers and errors as the synchronous calls', async (t) => {
  const node = await startNode(t);
  const rpc = rpcOf(node);
  t.after(() => rpc.close());
  const genesis = rpc.getblockhash(0);
  for (const [method, arg, arg2, n] of [['getblockcount'], ['getblockhash', null, null, 1],
    ['getblockheader', genesis], ['getblock', genesis], ['getrawtransaction', node.txids.pay],
    ['validateaddress', node.addresses[0]], ['validateaddress', 'not-an-address']]) {
    assert.deepEqual(await rpc.callAsync(method, arg, arg2, n), rpc.call(method, arg, arg2, n), method);
  }
  assert.equal((await rpc.callAsync('getblockcount')).height, 2n);
  const query = { txid: node.txids.pay, minAmount: node.target, address: node.addresses[0], minConfirmations: 0 };
  const paid = await rpc.checkPaymentAsync(query);
  assert.equal(paid.status, 'CONFIRMED');
  assert.equal(paid.amount, BigInt(node.target));
  assert.deepEqual(paid, rpc.checkPayment(query));
  const byScript = { txid: node.txids.pay, minAmount: node.target + 1,
    script: icms.gapcoin.addressToScript(node.addresses[0]) };
  assert.equal((await rpc.checkPaymentAsync(byScript)).status, 'INSUFFICIENT');
  assert.deepEqual(await rpc.checkPaymentAsync(byScript), rpc.checkPayment(byScript));
  // errors: the class, code and message of the synchronous call's
  for (const [args, cls] of [[['getblockhash', null, null, 99], icms.NotFoundError],
    [['getrawtransaction', '11'.repeat(32)], icms.NotFoundError],
    [['getrawtransaction', 'not hex'], icms.InvalidError],
    [['nosuchmethod'], icms.InvalidError]]) {
    const want = syncError(() => rpc.call(...args));
    assert.ok(want instanceof cls);
    sameError(await rpc.callAsync(...args).then(() => assert.fail('resolved'), (e) => e), want);
  }
  for (const q of [{ txid: node.txids.pay, minAmount: -1, address: node.addresses[0] },
    { txid: node.txids.pay, minAmount: 1 }, { txid: 'zz', minAmount: 1, address: node.addresses[0] }]) {
    const want = syncError(() => rpc.checkPayment(q));
    assert.ok(want instanceof icms.InvalidError);
    await assert.rejects(rpc.checkPaymentAsync(q), (e) => { sameError(e, want); return true; });
  }
  // bad argument types reject (the handle is untouched and answers on)
  await assert.rejects(rpc.checkPaymentAsync({ txid: node.txids.pay, minAmount: 1, script: 'ab' }), TypeError);
  await assert.rejects(rpc.callAsync('getblock', 7), TypeError);
  await assert.rejects(rpc.callAsync(7), TypeError);
  assert.equal((await rpc.callAsync('getblockcount')).height, 2n);
  const wrong = rpcOf(node, { password: 'wrong' });
  const denied = syncError(() => wrong.getblockcount());
  assert.ok(denied instanceof icms.UnauthenticatedError);
  await assert.rejects(wrong.callAsync('getblockcount'), (e) => { sameError(e, denied); return true; });
  wrong.close();
});

test('rpc async: a node that is down rejects with TransportError', async () => {
  const down = new icms.RpcClient({ url: `http://127.0.0.1:${await freePort()}/`, timeoutMs: 2000 });
  const want = syncError(() => down.getblockcount());
  assert.ok(want instanceof icms.TransportError);
  await assert.rejects(down.callAsync('getblockcount'), (e) => { sameError(e, want); return true; });
  const script = Buffer.from(`76a914${'11'.repeat(20)}88ac`, 'hex');
  await assert.rejects(down.checkPaymentAsync({ txid: '00'.repeat(32), minAmount: 1, script }),
    icms.TransportError);
  down.close();
});

test('rpc async: the loop runs while the node takes its time; the sync call blocks it', async (t) => {
  const node = await startNode(t);
  const slow = rpcOf(node, { url: `${node.url}slow/${DELAY}/`, timeoutMs: 10000 });
  t.after(() => slow.close());
  const got = await ticksDuring(() => slow.callAsync('getblockcount'));
  assert.equal(got.error, undefined);
  assert.equal(got.value.height, 2n);
  assert.ok(got.ms >= DELAY - 50, `answered in ${got.ms} ms`);
  assert.ok(got.ticks >= 10, `the interval fired ${got.ticks} times in ${got.ms} ms`);
  const paid = await ticksDuring(() => slow.checkPaymentAsync({ txid: node.txids.pay, minAmount: node.target,
    address: node.addresses[0], minConfirmations: 0 }));
  assert.equal(paid.value.status, 'CONFIRMED');
  assert.ok(paid.ticks >= 10, `the interval fired ${paid.ticks} times`);
  // the contrast: the synchronous call holds the loop for the whole wait
  assert.equal(await ticksDuringSync(() => slow.getblockcount()), 0);
  // a node that never answers in time: TransportError after timeoutMs, loop free meanwhile
  const late = rpcOf(node, { url: `${node.url}slow/3000/`, timeoutMs: 500 });
  const timedOut = await ticksDuring(() => late.callAsync('getblockcount'));
  assert.ok(timedOut.error instanceof icms.TransportError, String(timedOut.error));
  assert.ok(timedOut.ticks >= 10, `the interval fired ${timedOut.ticks} times`);
  late.close();
});

test('rpc async: one call at a time per client; the sync calls wait their turn', async (t) => {
  const node = await startNode(t);
  const slow = rpcOf(node, { url: `${node.url}slow/200/`, timeoutMs: 10000 });
  t.after(() => slow.close());
  const order = [];
  const started = Date.now();
  const calls = [
    slow.callAsync('getblockhash', null, null, 0).then((r) => { order.push(0); return r.hash; }),
    slow.callAsync('getblockhash', null, null, 1).then((r) => { order.push(1); return r.hash; }),
    slow.callAsync('getblockhash', null, null, 99).catch((e) => { order.push(2); return e; }),
    slow.callAsync('getblockcount').then((r) => { order.push(3); return r.height; }),
  ];
  // while they are pending, a synchronous call is refused (it would race the worker)
  const refused = syncError(() => slow.getblockcount());
  assert.ok(refused instanceof icms.InvalidError);
  assert.match(refused.message, /async call is pending/);
  assert.throws(() => slow.checkPayment({ txid: node.txids.pay, minAmount: 1, address: node.addresses[0] }),
    /async call is pending/);
  const [h0, h1, missing, height] = await Promise.all(calls);
  const elapsed = Date.now() - started;
  assert.deepEqual(order, [0, 1, 2, 3]); // first in, first out
  assert.ok(elapsed >= 4 * 200 - 50, `four 200 ms calls took ${elapsed} ms: they overlapped`);
  assert.equal(h0, slow.getblockhash(0)); // the lane is free once the awaits returned
  assert.equal(h1, slow.getblockhash(1));
  assert.ok(missing instanceof icms.NotFoundError);
  assert.equal(height, 2n);
  // a rejected call (before it reached the node) does not stall the ones behind it
  const [bad, good] = await Promise.allSettled([slow.callAsync('getblock', 7), slow.callAsync('getblockcount')]);
  assert.ok(bad.reason instanceof TypeError);
  assert.equal(good.value.height, 2n);
});

test('rpc async: close() while calls are pending frees the client after they settle', async (t) => {
  const node = await startNode(t);
  const slow = rpcOf(node, { url: `${node.url}slow/${DELAY}/`, timeoutMs: 10000 });
  const running = slow.callAsync('getblockhash', null, null, 0);
  const queued = slow.callAsync('getblockcount');
  await new Promise((resolve) => setTimeout(resolve, 50)); // the first is on the worker now
  slow.close();
  assert.ok(slow.closed);
  slow.close(); // idempotent
  await assert.rejects(slow.callAsync('getblockcount'), icms.InvalidError);
  assert.throws(() => slow.getblockcount(), /closed/);
  // the call in flight completes on the client it started with
  assert.equal((await running).hash.length, 64);
  // the one queued behind it never started: the client was closed
  await assert.rejects(queued, (e) => e instanceof icms.InvalidError && /closed/.test(e.message));
  // closing a client with nothing pending frees it at once
  const idle = rpcOf(node);
  await idle.callAsync('getblockcount');
  idle.close();
  await assert.rejects(idle.checkPaymentAsync({ txid: node.txids.pay, minAmount: 1 }), /closed/);
});

test('rpc async: a pending call keeps the process alive, a settled one does not', async (t) => {
  const node = await startNode(t);
  const lib = path.join(__dirname, '..', 'lib', 'icms');
  const script = `
    const icms = require(${JSON.stringify(lib)});
    const rpc = new icms.RpcClient({ url: process.argv[1], username: process.argv[2], password: process.argv[3] });
    rpc.callAsync('getblockcount').then((r) => { console.log(String(r.height)); rpc.close(); });`;
  const started = Date.now();
  const child = spawnSync(process.execPath, ['-e', script, `${node.url}slow/${DELAY}/`, node.user, node.password],
    { timeout: 20000, env: process.env, encoding: 'utf8' });
  const ms = Date.now() - started;
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), '2'); // it waited for the answer
  assert.ok(ms >= DELAY, `exited after ${ms} ms`);
  // without close(): nothing left to keep the process once the call settled
  const unclosed = spawnSync(process.execPath, ['-e', `
    const icms = require(${JSON.stringify(lib)});
    const rpc = new icms.RpcClient({ url: process.argv[1], username: process.argv[2], password: process.argv[3] });
    rpc.callAsync('getblockcount').then((r) => console.log(String(r.height)));`,
  `${node.url}slow/${DELAY}/`, node.user, node.password], { timeout: 20000, env: process.env, encoding: 'utf8' });
  assert.equal(unclosed.status, 0, unclosed.stderr);
  assert.equal(unclosed.signal, null);
  assert.equal(unclosed.stdout.trim(), '2');
});

// ---------------------------------------------------------------- NATS

function openDb(t) {
  const db = icms.open(path.join(tmpdir(t), 'icms.db'), { clock: NOW, sync: 2 });
  t.after(() => db.close());
  const admin = icms.Request.user(db.user_bootstrap_admin(icms.HOST, { name: 'Ada', email: 'ada@example.com' }));
  let n = 0;
  const newUser = () => { n++; return db.user_create(admin, { name: `U${n}`, email: `u${n}@example.com` }); };
  return { db, newUser };
}

const readStream = (port, stream) => JSON.parse(execFileSync('/usr/bin/python3', [HELPER, 'read', String(port), stream]));

test('nats async: drains to a real server, one drain at a time', async (t) => {
  if (!icms.natsAvailable()) { t.skip('libicms was built without NATS'); return; }
  const { db, newUser } = openDb(t);
  newUser();
  newUser();
  const srv = await startNats(t, tmpdir(t));
  if (srv.skip) { t.skip(srv.skip); return; }
  const pub = db.natsPublisher({ url: srv.url, createStream: true, timeoutMs: 5000 });
  // two at once: the second runs after the first, so it finds nothing left
  const first = pub.drainAsync();
  const second = pub.drainAsync();
  assert.throws(() => pub.drain(), (e) => e instanceof icms.InvalidError && /async call is pending/.test(e.message));
  assert.deepEqual(await Promise.all([first, second]), [3, 0]);
  assert.equal(pub.drain(), 0); // free again
  newUser();
  assert.equal(await pub.drainAsync(), 1);
  const got = readStream(srv.port, 'ICMS');
  assert.equal(got.messages, 4);
  const events = db.events_read(icms.HOST, 'check', 0, 100).events;
  assert.deepEqual(got.items.map((m) => m.msg_id), events.map((e) => e.event_id));
  // a stream that does not exist: the synchronous drain's error
  const noStream = db.natsPublisher({ url: srv.url, stream: 'NOPE', subjectPrefix: 'nope.', consumer: 'nope',
    timeoutMs: 2000 });
  const want = syncError(() => noStream.drain());
  assert.ok(want instanceof icms.TransportError);
  await assert.rejects(noStream.drainAsync(), (e) => { sameError(e, want); return true; });
  noStream.close();
});

test('nats async: a server that is down or hangs rejects with TransportError, loop free', async (t) => {
  if (!icms.natsAvailable()) { t.skip('libicms was built without NATS'); return; }
  const { db, newUser } = openDb(t);
  newUser();
  const down = db.natsPublisher({ url: `nats://127.0.0.1:${await freePort()}`, timeoutMs: 500 });
  const want = syncError(() => down.drain());
  assert.ok(want instanceof icms.TransportError);
  await assert.rejects(down.drainAsync(), (e) => { sameError(e, want); return true; });
  down.close();
  const hang = db.natsPublisher({ url: `nats://127.0.0.1:${await blackhole(t)}`, timeoutMs: 1000 });
  const got = await ticksDuring(() => hang.drainAsync());
  assert.ok(got.error instanceof icms.TransportError, String(got.error));
  assert.ok(got.ms >= 900, `gave up after ${got.ms} ms`);
  assert.ok(got.ticks >= 20, `the interval fired ${got.ticks} times in ${got.ms} ms`);
  assert.equal(await ticksDuringSync(() => hang.drain()), 0); // the synchronous one holds the loop
  hang.close();
  // the events still wait in the outbox
  assert.equal(db.events_read(icms.HOST, 'check', 0, 100).events.length, 2);
});

test('nats async: close() and Database.close() while a drain is in flight', async (t) => {
  if (!icms.natsAvailable()) { t.skip('libicms was built without NATS'); return; }
  const { db, newUser } = openDb(t);
  newUser();
  const hang = db.natsPublisher({ url: `nats://127.0.0.1:${await blackhole(t)}`, timeoutMs: 800 });
  const running = hang.drainAsync();
  const queued = hang.drainAsync();
  hang.close();
  assert.ok(hang.closed);
  assert.throws(() => hang.drain(), icms.InvalidError);
  await assert.rejects(hang.drainAsync(), /closed/);
  await assert.rejects(running, icms.TransportError); // ran to its end on the live publisher
  await assert.rejects(queued, (e) => e instanceof icms.InvalidError && /closed/.test(e.message));
  // the database closed under a drain to a real server: the drain completes
  // (the C database is closed after it), and the server has every event
  const srv = await startNats(t, tmpdir(t));
  if (srv.skip) { t.skip(srv.skip); return; }
  const pub = db.natsPublisher({ url: srv.url, createStream: true, timeoutMs: 5000 });
  const drained = pub.drainAsync();
  db.close();
  assert.ok(db.closed);
  assert.ok(pub.closed);
  assert.throws(() => db.user_get(icms.HOST, 'x'), icms.InvalidError);
  assert.equal(await drained, 2);
  assert.equal(readStream(srv.port, 'ICMS').messages, 2);
  db.close(); // idempotent
});

test('nats async: Database.close() during a drain lets the process exit once it settles', async (t) => {
  if (!icms.natsAvailable()) { t.skip('libicms was built without NATS'); return; }
  const lib = path.join(__dirname, '..', 'lib', 'icms');
  const port = await blackhole(t);
  const dir = tmpdir(t);
  const child = spawnSync(process.execPath, ['-e', `
    const icms = require(${JSON.stringify(lib)});
    const db = icms.open(process.argv[1], { clock: ${NOW}, sync: 2 });
    db.user_bootstrap_admin(icms.HOST, { name: 'Ada', email: 'ada@example.com' });
    const pub = db.natsPublisher({ url: process.argv[2], timeoutMs: 700 });
    pub.drainAsync().catch((e) => console.log(e.name));
    db.close();`, path.join(dir, 'x.db'), `nats://127.0.0.1:${port}`],
  { timeout: 20000, env: process.env, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), 'TransportError');
  // the C database was closed: a new handle on the file sees the one event, still in the outbox
  const again = icms.open(path.join(dir, 'x.db'), { clock: NOW, sync: 2 });
  assert.equal(again.events_read(icms.HOST, 'check', 0, 100).events.length, 1);
  again.close();
});
