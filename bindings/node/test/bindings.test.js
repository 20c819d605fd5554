'use strict';
// The Node binding's suite (node --test): the end-to-end scenario, error
// mapping, exact money, and a 10,000-iteration memory check.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const icms = require('../lib/icms');
const json = require('../lib/json');
const e2e = require('../examples/end_to_end');

const NOW = 1767225600000;

function tmpdir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icms-node-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function users(db) {
  const admin = icms.Request.user(db.user_bootstrap_admin(icms.HOST, { name: 'Ada', email: 'ada@example.com' }));
  const owner = icms.Request.user(db.user_create(admin, { name: 'Otto', email: 'otto@example.com', roles: ['OWNER'] }));
  const inv = icms.Request.user(db.user_create(admin, { name: 'Ines', email: 'ines@example.com' }));
  return { admin, owner, inv };
}

const crate = (price = 100000000n) => ({
  title: 'Crate', expiry_date: '2026-02-01T00:00:00Z', shipping_costs: { freight: 50000000n },
  min_ticket: 1, products: [{ name: 'Crate', unit: 'crate', quantity: 1, unit_price: price }],
});

test('end-to-end: funded, approved, completed, paid out', async (t) => {
  const dir = tmpdir(t);
  const { proc, node } = await e2e.startNode(dir);
  let seen;
  try {
    seen = await e2e.run(path.join(dir, 'icms.db'), node);
  } finally {
    await e2e.stopNode(proc);
  }
  assert.equal(seen.kyc, 'VERIFIED');
  assert.equal(seen.total_cost, BigInt(node.target));
  assert.equal(seen.after_approval, 'FUNDING');
  assert.equal(seen.address, node.addresses[0]);
  assert.equal(seen.amount, BigInt(node.target));
  assert.deepEqual(seen.confirmations, [0n, 1n]);
  assert.equal(seen.payment, 'CONFIRMED');
  assert.equal(seen.funded, BigInt(node.target));
  assert.equal(seen.after_payment, 'PENDING_ADMIN_APPROVAL');
  assert.equal(seen.final, 'COMPLETED');
  assert.equal(seen.payout_amount, BigInt(node.target + node.profit));
  assert.equal(seen.payout, 'PAID');
  assert.equal(seen.owner_reads_address, node.owner_address);
  assert.equal(seen.investor_reads_address, false);
  assert.deepEqual(seen.release_due, ['DUE', BigInt(node.target), node.owner_address]);
  assert.deepEqual(seen.releases_due, [true]);
  assert.deepEqual(seen.release, ['PAID', true]);
  assert.equal(seen.releases_paid, 1);
  assert.equal(seen.check.ok, true);
});

test('integers beyond 2^53 stay exact both ways', (t) => {
  const db = icms.open(path.join(tmpdir(t), 'icms.db'), { clock: NOW, sync: 2 });
  t.after(() => db.close());
  const { owner } = users(db);
  // Out: a price of 2^62 + 1 reaches the library exactly (it names the sum it refuses:
  // no funding target may exceed Gapcoin's supply).
  const price = 2n ** 62n + 1n;
  assert.throws(() => db.project_create(owner, crate(price)), (e) => {
    assert.ok(e instanceof icms.InvalidError);
    assert.match(e.message, new RegExp(String(price + 50000000n)));
    return true;
  });
  // Back: money comes back as BigInt, exact.
  const near = 2n ** 50n + 1n;
  const p = db.project_create(owner, crate(near));
  assert.equal(typeof p.total_cost, 'bigint');
  assert.equal(p.total_cost, near + 50000000n);
  // And the JSON reader every answer goes through keeps an integer beyond 2^53 exact.
  assert.equal(json.parse('{"seq":9007199254740993}').seq, 9007199254740993n);
});

test('every error code maps to its class, with code and message', (t) => {
  const db = icms.open(path.join(tmpdir(t), 'icms.db'), { clock: NOW, sync: 2 });
  t.after(() => db.close());
  const { admin, owner } = users(db);
  const cases = [
    [icms.InvalidError, () => db.user_get(icms.HOST, 'not-a-uuid')],
    [icms.NotFoundError, () => db.project_get(admin, '019b76da-a800-772e-94bb-16096678d52d')],
    [icms.ForbiddenError, () => db.user_create(owner, { name: 'X', email: 'x@example.com' })],
    [icms.ExistsError, () => db.user_create(admin, { name: 'Y', email: 'otto@example.com' })],
    [icms.UnauthenticatedError, () => db.project_list(icms.Request.token('garbage'), null)],
  ];
  for (const [Cls, call] of cases) {
    assert.throws(call, (e) => {
      assert.ok(e instanceof Cls, `${e.name} is not ${Cls.name}`);
      assert.ok(e instanceof icms.IcmsError);
      assert.ok(e instanceof Error);
      assert.equal(e.code, Cls.code);
      assert.match(e.codeName, /^ICMS_E/);
      assert.ok(e.message.length > 0);
      return true;
    });
  }
  const p = db.project_create(owner, crate());
  db.project_publish(owner, p.id);
  assert.throws(() => db.project_publish(owner, p.id),
    (e) => e instanceof icms.InvalidTransitionError && e.code === -6);
  const keyed = admin.with({ idempotencyKey: 'k1' });
  db.user_create(keyed, { name: 'A', email: 'a1@example.com' });
  assert.throws(() => db.user_create(keyed, { name: 'B', email: 'b1@example.com' }), icms.IdempotencyError);
});

test('payout address: who gives it, who reads it; release refusals', (t) => {
  const db = icms.open(path.join(tmpdir(t), 'icms.db'), { clock: NOW, sync: 2 });
  t.after(() => db.close());
  const { admin, owner, inv } = users(db);
  const address = 'GcwphVTaks2XGGB8RUk7auWdgmG8CV14TF';
  const missing = '019b76da-a800-772e-94bb-16096678d52d';
  const p = db.project_create(owner, crate());
  assert.equal(db.project_set_payout_address(owner, p.id, address).payout_address, address);
  assert.equal(db.project_set_payout_address(icms.HOST, p.id, address).payout_address, address);
  assert.throws(() => db.project_set_payout_address(admin, p.id, address), icms.ForbiddenError);
  assert.throws(() => db.project_set_payout_address(owner, p.id, 'not-an-address'), icms.InvalidError);
  assert.throws(() => db.project_set_payout_address(owner, missing, address), icms.NotFoundError);
  db.project_publish(owner, p.id);
  assert.throws(() => db.project_set_payout_address(inv, p.id, address), icms.ForbiddenError);
  for (const who of [owner, admin, icms.HOST]) {
    assert.equal(db.project_get(who, p.id).payout_address, address);
  }
  for (const who of [inv, icms.ANONYMOUS]) {
    assert.ok(!('payout_address' in db.project_get(who, p.id)));
    const items = db.project_list(who, { state: 'PUBLISHED' }).items;
    assert.deepEqual(items.map((x) => x.id), [p.id]);
    assert.ok(!('payout_address' in items[0]));
  }
  assert.deepEqual(db.release_list(icms.HOST, { status: 'DUE' }), { items: [], next: null });
  assert.deepEqual(db.release_list(owner, { project_id: p.id }).items, []);
  assert.throws(() => db.release_list(icms.HOST, null), icms.InvalidError);
  assert.throws(() => db.release_list(icms.ANONYMOUS, { status: 'DUE' }), icms.ForbiddenError);
  assert.throws(() => db.release_get(admin, missing), icms.NotFoundError);
  assert.throws(() => db.release_get(admin, 'not-a-uuid'), icms.InvalidError);
  assert.throws(() => db.release_record(owner, missing, 'ab'.repeat(32)), icms.ForbiddenError);
  assert.throws(() => db.release_record(icms.HOST, missing, 'nothex'), icms.InvalidError);
});

test('a failed call changes nothing', (t) => {
  const db = icms.open(path.join(tmpdir(t), 'icms.db'), { clock: NOW, sync: 2 });
  t.after(() => db.close());
  const { admin, owner } = users(db);
  const before = db.project_list(admin, null);
  assert.throws(() => db.project_create(owner, { title: '' }), icms.InvalidError);
  assert.deepEqual(db.project_list(admin, null), before);
});

test('an unreachable node is a TransportError', (t) => {
  const db = icms.open(path.join(tmpdir(t), 'icms.db'), {
    clock: NOW, sync: 2, kycOptional: true, gapcoin: { url: 'http://127.0.0.1:9/', timeoutMs: 2000 },
  });
  t.after(() => db.close());
  const { owner, inv } = users(db);
  const p = db.project_create(owner, crate());
  db.project_publish(owner, p.id);
  const part = db.participation_request(inv, p.id, { type: 'PROFIT', capital: 150000000n });
  db.participation_approve(owner, part.id);
  assert.throws(() => db.payment_initiate(inv.with({ idempotencyKey: 'k' }), part.id,
    { refund_address: 'GXr5onuXCxtRNLBYYbTW7qhy6UM1fTGDuU' }), icms.TransportError);
});

test('bad arguments and a closed database are clear errors', (t) => {
  const db = icms.open(path.join(tmpdir(t), 'icms.db'), { clock: NOW, sync: 2 });
  assert.throws(() => db.user_get('not a request', 'x'), TypeError);
  assert.throws(() => db.user_get(icms.HOST, 42), /argument/);
  assert.throws(() => new icms.Request({ nope: 1 }), TypeError);
  db.clock.advance(1000);
  assert.equal(db.clock.now(), BigInt(NOW + 1000));
  db.close();
  db.close();
  assert.equal(db.closed, true);
  assert.throws(() => db.project_list(icms.HOST, null), icms.InvalidError);
  assert.throws(() => db.clock.now(), icms.InvalidError);
  assert.throws(() => icms.open('/nonexistent-dir/x/icms.db'), icms.IcmsError);
  assert.throws(() => icms.open(undefined), icms.InvalidError);
  assert.throws(() => icms.open(''), icms.InvalidError);
});

test('the exact JSON parser', () => {
  const v = icms.parseJSON('{"a":9223372036854775807,"b":-1,"c":1.5,"d":"x\\"y\\u00e9","e":[true,false,null],"f":{}}');
  assert.equal(v.a, 9223372036854775807n);
  assert.equal(v.b, -1n);
  assert.equal(v.c, 1.5);
  assert.equal(v.d, 'x"y\u00e9');
  assert.deepEqual(v.e, [true, false, null]);
  assert.deepEqual(v.f, {});
  assert.equal(icms.stringifyJSON({ a: 2n ** 63n - 1n, s: 'q', u: undefined }), '{"a":9223372036854775807,"s":"q"}');
  for (const bad of ['', '{', '[1,]', '{"a" 1}', '01', '"open', '1 2']) {
    assert.throws(() => icms.parseJSON(bad), SyntaxError, bad);
  }
});

test('memory: 50,000 iterations do not grow RSS', (t) => {
  const dir = tmpdir(t);
  const out = execFileSync(process.execPath, ['--expose-gc', path.join(__dirname, '..', 'examples', 'memory_loop.js'),
    path.join(dir, 'icms.db')], { encoding: 'utf8', env: { ...process.env, ICMS_MEMORY_CALLS: '50000' } });
  const { calls, before, after } = JSON.parse(out);
  const growth = after.rss - before.rss;
  t.diagnostic(`memory: ${calls} iterations (3 calls each): RSS ${before.rss >> 10} KiB -> ${after.rss >> 10} KiB ` +
    `(${growth >> 10} KiB; outside V8's heap ${(after.native - before.native) >> 10} KiB)`);
  assert.equal(calls, 50000);
  // RSS moves by up to ~5 MiB between runs without any trend (10,000
  // iterations once grew it by 4.7 MiB, 50,000 by at most 3 MiB in three
  // runs: the allocator and SQLite's page cache settling, not a leak); a
  // leak of 200 bytes per iteration (10 MiB) would trip this.
  assert.ok(growth < 10 * 1024 * 1024, `RSS grew by ${growth} bytes`);
});

test('events: read, ack, read again', (t) => {
  const db = icms.open(path.join(tmpdir(t), 'icms.db'), { clock: NOW, sync: 2 });
  t.after(() => db.close());
  users(db);
  const page = db.events_read(icms.HOST, 'js');
  assert.ok(page.events.length >= 3);
  const last = page.events[page.events.length - 1].seq;
  assert.equal(typeof last, 'bigint');
  db.events_ack(icms.HOST, 'js', last);
  const again = db.events_read(icms.HOST, 'js');
  assert.deepEqual(again.events, []);
  assert.equal(again.acked, last);
  assert.throws(() => db.events_read(icms.ANONYMOUS, 'js', 0, 10), icms.ForbiddenError);
});

test('OAuth helpers', () => {
  const v = icms.auth.pkceVerifierNew();
  assert.equal(v.length, 43);
  const c = icms.auth.pkceChallenge(v);
  icms.auth.pkceCheck(v, c);
  assert.throws(() => icms.auth.pkceCheck(v, c.slice(0, -1) + (c.endsWith('A') ? 'B' : 'A')), icms.UnauthenticatedError);
  assert.throws(() => icms.auth.pkceChallenge('short'), icms.InvalidError);
  const s = icms.auth.stateNew();
  icms.auth.stateCheck(s, s);
  assert.throws(() => icms.auth.stateCheck(s, s + 'x'), icms.UnauthenticatedError);
});
