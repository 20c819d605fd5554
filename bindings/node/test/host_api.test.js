'use strict';
// Push subscriptions, NATS publishing, the rate limiter and the Gapcoin RPC
// client (node --test): a real nats-server and the fake gapcoind on 127.0.0.1.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const readline = require('readline');
const icms = require('../lib/icms');
const support = require('./support');
const { freePort, startNats } = support;
const e2e = require('../examples/end_to_end');

const NOW = 1767225600000;
const ROOT = path.resolve(__dirname, '..', '..', '..');
const HELPER = path.join(ROOT, 'tests/bindings/nats_helper.py');
const turn = () => new Promise((resolve) => setImmediate(resolve));

const tmpdir = (t) => support.tmpdir(t, 'icms-node-host-');

function openDb(t) {
  const db = icms.open(path.join(tmpdir(t), 'icms.db'), { clock: NOW, sync: 2 });
  t.after(() => db.close());
  const admin = icms.Request.user(db.user_bootstrap_admin(icms.HOST, { name: 'Ada', email: 'ada@example.com' }));
  let n = 0;
  const newUser = () => { n++; return db.user_create(admin, { name: `U${n}`, email: `u${n}@example.com` }); };
  return { db, admin, newUser };
}

// ---------------------------------------------------------------- subscriptions

test('subscription: events arrive on the loop after the command, in commit order', async (t) => {
  const { db, newUser } = openDb(t);
  const seen = [];
  const sub = db.subscribe('user.*', (e) => seen.push(e));
  const u1 = newUser();
  const u2 = newUser();
  assert.equal(seen.length, 0); // queued by the library's call, not run inside the command
  assert.equal(sub.queued, 2);
  await turn();
  assert.deepEqual(seen.map((e) => [e.type, e.subject]), [['user.created', u1.id], ['user.created', u2.id]]);
  assert.equal(typeof seen[0].seq, 'bigint');
  assert.ok(seen[1].seq > seen[0].seq);
  const read = db.events_read(icms.HOST, 'check', seen[0].seq - 1n, 1).events[0];
  assert.equal(read.event_id, seen[0].event_id);
  // patterns: an exact type matches, another prefix does not
  const other = [];
  const a = db.subscribe('project.*', (e) => other.push(e));
  const b = db.subscribe('user.created', (e) => other.push(e));
  newUser();
  await turn();
  assert.deepEqual(other.map((e) => e.type), ['user.created']);
  a.close(); b.close(); sub.close();
  assert.equal(sub.delivered, 3);
});

test('subscription: close stops delivery, queued events included', async (t) => {
  const { db, newUser } = openDb(t);
  const seen = [];
  const sub = db.subscribe('*', (e) => seen.push(e));
  newUser();
  sub.close(); // before the loop ran the queued event
  sub.close();
  assert.ok(sub.closed);
  newUser();
  await turn();
  await turn();
  assert.equal(seen.length, 0);
  assert.equal(sub.queued, null);
});

test('subscription: a throwing callback does not crash the process or fail the command', async (t) => {
  const { db, admin, newUser } = openDb(t);
  const errors = [];
  const sub = db.subscribe('*', (e) => { throw new Error(`broke on ${e.type}`); },
    { onError: (err, event) => errors.push([err.message, event.type]) });
  const u = newUser();
  assert.equal(db.user_get(admin, u.id).id, u.id); // committed
  await turn();
  assert.deepEqual(errors, [['broke on user.created', 'user.created']]);
  newUser();
  await turn();
  assert.equal(errors.length, 2); // delivery goes on
  assert.equal(sub.failures, 2);
  sub.close();
  // no onError: a process warning
  const warned = new Promise((resolve) => process.once('warning', resolve));
  const quiet = db.subscribe('*', () => { throw new TypeError('quietly broken'); });
  newUser();
  const w = await warned;
  assert.equal(w.name, 'IcmsSubscriberWarning');
  assert.match(w.message, /quietly broken/);
  quiet.close();
  // an onError that throws is contained too
  const bad = db.subscribe('*', () => { throw new Error('x'); }, { onError: () => { throw new Error('y'); } });
  const warned2 = new Promise((resolve) => process.once('warning', resolve));
  newUser();
  assert.match((await warned2).message, /onError failed/);
  bad.close();
});

test('subscription: a callback may run commands and close its own subscription', async (t) => {
  const { db, admin, newUser } = openDb(t);
  const types = [];
  const sub = db.subscribe('user.*', (e) => {
    types.push(e.type);
    if (e.type === 'user.created') {
      db.user_grant_role(admin, e.subject, 'OWNER');
    } else {
      sub.close();
    }
  });
  newUser();
  await turn();
  await turn();
  newUser();
  await turn();
  assert.deepEqual(types, ['user.created', 'user.role_granted']);
});

test('subscription: keeps the event loop alive only while open', () => {
  const lib = path.join(__dirname, '..', 'lib', 'icms');
  const script = (tail) => `
    const icms = require(${JSON.stringify(lib)});
    const db = icms.open(process.argv[1], { clock: ${NOW}, sync: 2 });
    const sub = db.subscribe('*', () => {});
    ${tail}`;
  const run = (tail, timeout) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icms-node-loop-'));
    try {
      return spawnSync(process.execPath, ['-e', script(tail), path.join(dir, 'x.db')],
        { timeout, env: process.env, encoding: 'utf8' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  const open = run('', 1500);
  assert.equal(open.signal, 'SIGTERM'); // still running: the open subscription holds the loop
  const unref = run('sub.unref();', 10000);
  assert.equal(unref.status, 0, unref.stderr);
  const closed = run('setTimeout(() => sub.close(), 50);', 10000);
  assert.equal(closed.status, 0, closed.stderr);
  const dbClosed = run('sub.unref().ref(); setTimeout(() => db.close(), 50);', 10000);
  assert.equal(dbClosed.status, 0, dbClosed.stderr);
});

test('subscription: refusals, and the database closes its subscriptions', (t) => {
  const { db } = openDb(t);
  assert.throws(() => db.subscribe('user.*.x', () => {}), icms.InvalidError);
  assert.throws(() => db.subscribe('', () => {}), icms.InvalidError);
  assert.throws(() => db.subscribe('*', 'nope'), TypeError);
  assert.throws(() => db.subscribe(7, () => {}), TypeError);
  const sub = db.subscribe('*', () => {});
  db.close();
  assert.ok(sub.closed);
  assert.throws(() => db.subscribe('*', () => {}), icms.InvalidError);
});

// ---------------------------------------------------------------- NATS

const readStream = (port, stream) => JSON.parse(execFileSync('/usr/bin/python3', [HELPER, 'read', String(port), stream]));

test('nats: publishes the outbox to JetStream, read back from the server', async (t) => {
  if (!icms.natsAvailable()) { t.skip('libicms was built without NATS'); return; }
  const dir = tmpdir(t);
  const { db, newUser } = openDb(t);
  const users = [newUser(), newUser()];
  const down = db.natsPublisher({ url: `nats://127.0.0.1:${await freePort()}`, createStream: true, timeoutMs: 500 });
  assert.throws(() => down.drain(), icms.TransportError);
  down.close();
  const srv = await startNats(t, dir);
  if (srv.skip) { t.skip(srv.skip); return; }
  const noStream = db.natsPublisher({ url: srv.url, timeoutMs: 2000 });
  assert.throws(() => noStream.drain(), (e) => e instanceof icms.TransportError && /ICMS/.test(e.message));
  noStream.close();
  const pub = new icms.NatsPublisher(db, { url: srv.url, createStream: true, timeoutMs: 2000 });
  assert.equal(pub.drain(), 3);
  assert.equal(pub.drain(), 0);
  const events = db.events_read(icms.HOST, 'check', 0, 100).events;
  const got = readStream(srv.port, 'ICMS');
  assert.equal(got.messages, 3);
  got.items.forEach((m, i) => {
    assert.equal(m.subject, `icms.${events[i].type}`);
    assert.equal(m.msg_id, events[i].event_id);
    assert.equal(m.data.event_id, events[i].event_id);
  });
  assert.deepEqual(got.items.slice(1).map((m) => m.data.subject), users.map((u) => u.id));
  assert.throws(() => db.natsPublisher({ consumer: 'bad name!' }), icms.InvalidError);
  assert.throws(() => db.natsPublisher({ url: 7 }), TypeError);
  db.close(); // closes its publishers
  assert.ok(pub.closed);
  assert.throws(() => pub.drain(), icms.InvalidError);
});

// ---------------------------------------------------------------- the rate limiter

test('rate limiter: refuses past its rate, recovers after the window', () => {
  const rl = new icms.RateLimiter({ anonymousLimit: 3, authenticatedLimit: 5, windowMs: 1000, clock: NOW });
  const answers = [0, 1, 2, 3].map(() => rl.hit('10.0.0.1'));
  assert.deepEqual(answers.map((a) => a.allowed), [true, true, true, false]);
  assert.deepEqual(answers.map((a) => a.remaining), [2n, 1n, 0n, 0n]);
  assert.equal(answers[3].retry_after_ms, 1000n);
  assert.equal(answers[3].limit, 3n);
  const authed = [0, 1, 2, 3, 4, 5].map(() => rl.hit('10.0.0.1', { authenticated: true }).allowed);
  assert.deepEqual(authed, [true, true, true, true, true, false]);
  assert.equal(rl.size(), 2);
  rl.clock.advance(999);
  assert.equal(rl.hit('10.0.0.1').allowed, false);
  rl.clock.advance(1);
  assert.equal(rl.hit('10.0.0.1').allowed, true);
  rl.close();
  rl.close();
  assert.throws(() => rl.hit('k'), icms.InvalidError);
  assert.throws(() => rl.clock.now(), icms.InvalidError);
});

test('rate limiter: refusals change nothing', () => {
  const rl = new icms.RateLimiter();
  assert.throws(() => rl.hit(''), icms.InvalidError);
  assert.throws(() => rl.hit('x'.repeat(257)), icms.InvalidError);
  assert.throws(() => rl.hit(null), icms.InvalidError);
  assert.throws(() => rl.hit(5), TypeError);
  assert.equal(rl.size(), 0);
  rl.close();
  assert.throws(() => new icms.RateLimiter({ windowMs: -1 }), icms.InvalidError);
  assert.throws(() => new icms.RateLimiter({ anonymousLimit: -1 }), icms.InvalidError);
  assert.throws(() => new icms.RateLimiter({ maxKeys: 'many' }), TypeError);
});

// ---------------------------------------------------------------- the RPC client

test('rpc client: calls against the fake node, errors mapped', async (t) => {
  const dir = tmpdir(t);
  const { proc, node } = await e2e.startNode(dir);
  t.after(() => e2e.stopNode(proc));
  const rpc = new icms.RpcClient({ url: node.url, username: node.user, password: node.password });
  assert.equal(rpc.getblockcount(), 2n);
  const genesis = rpc.getblockhash(0);
  assert.equal(genesis.length, 64);
  const header = rpc.getblockheader(genesis);
  assert.equal(icms.gapcoin.headerDecode(header).hash, genesis);
  assert.deepEqual(rpc.getblock(genesis).subarray(0, header.length), header);
  const tx = rpc.getrawtransaction(node.txids.pay);
  assert.equal(tx.txid, node.txids.pay);
  assert.equal(icms.gapcoin.txDecode(tx.raw).txid, tx.txid);
  assert.equal(tx.confirmations, 0n);
  assert.equal(tx.in_block, false);
  assert.equal(tx.outputs[0].value, BigInt(node.target));
  const address = rpc.getnewaddress();
  assert.ok(node.addresses.includes(address));
  const info = rpc.validateaddress(address);
  assert.equal(info.is_valid, true);
  assert.deepEqual(Buffer.from(info.script, 'hex'), icms.gapcoin.addressToScript(address));
  assert.equal(rpc.validateaddress('not-an-address').is_valid, false);
  const paid = rpc.checkPayment({ txid: node.txids.pay, minAmount: node.target, address: node.addresses[0], minConfirmations: 0 });
  assert.equal(paid.status, 'CONFIRMED');
  assert.equal(paid.amount, BigInt(node.target));
  const short = rpc.checkPayment({ txid: node.txids.pay, minAmount: node.target + 1,
    script: icms.gapcoin.addressToScript(node.addresses[0]) });
  assert.equal(short.status, 'INSUFFICIENT');
  assert.equal(rpc.checkPayment({ txid: '00'.repeat(32), minAmount: 1, address }).status, 'NOT_FOUND');
  // errors
  assert.throws(() => rpc.getblockhash(99), icms.NotFoundError);
  assert.throws(() => rpc.getrawtransaction('11'.repeat(32)), icms.NotFoundError);
  assert.throws(() => rpc.getrawtransaction('not hex'), icms.InvalidError);
  assert.throws(() => rpc.checkPayment({ txid: node.txids.pay, minAmount: -1, address }), icms.InvalidError);
  assert.throws(() => rpc.checkPayment({ txid: node.txids.pay, minAmount: 1, script: 'ab' }), TypeError);
  rpc.close();
  assert.throws(() => rpc.getblockcount(), icms.InvalidError);
  const wrong = new icms.RpcClient({ url: node.url, username: node.user, password: 'wrong' });
  assert.throws(() => wrong.getblockcount(), icms.UnauthenticatedError);
  wrong.close();
  const down = new icms.RpcClient({ url: `http://127.0.0.1:${await freePort()}/`, timeoutMs: 2000 });
  assert.throws(() => down.getblockcount(), icms.TransportError);
  down.close();
  assert.throws(() => new icms.RpcClient({ url: 'ftp://127.0.0.1/' }), icms.InvalidError);
});
