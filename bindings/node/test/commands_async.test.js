'use strict';
// The Database's promise-returning commands (node --test): every command has
// a *_async twin, and tick() has tick_async(), run on a libuv worker
// (async.node, async_commands.c). They must answer what the synchronous
// commands answer, fail with the same error, leave the event loop free while
// the Gapcoin node (the scenario's fake gapcoind, slowed) answers, run side
// by side on one database, and keep the database open until they settle.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const icms = require('../lib/icms');
const { tmpdir, startNode, ticksDuring, ticksDuringSync, sameError, syncError } =
  require('./support');

const DELAY = 600; // ms the slow node takes to answer each call (fake_gapcoind's /slow/MS/)

// A database on node (slowed by ms when given), with an admin, an owner, an
// investor and a published project of node.target that the investor is approved for.
async function world(t, node, slowMs = 0) {
  const url = slowMs ? `${node.url}slow/${slowMs}/` : node.url;
  const file = path.join(tmpdir(t), 'a.db');
  const db = icms.open(file, {
    clock: node.now_ms, sync: 2,
    gapcoin: { url, username: node.user, password: node.password, timeoutMs: 10000 },
  });
  t.after(() => db.close());
  const admin = await db.user_bootstrap_admin_async(icms.HOST, { name: 'Ada', email: 'ada@example.com' });
  const asAdmin = icms.Request.user(admin);
  const owner = await db.user_create_async(asAdmin, { name: 'Otto', email: 'otto@example.com', roles: ['OWNER'] });
  const investor = await db.user_create_async(asAdmin, { name: 'Ines', email: 'ines@example.com', roles: ['INVESTOR'] });
  const asOwner = icms.Request.user(owner);
  const asInvestor = icms.Request.user(investor);
  await db.user_set_kyc_async(asInvestor, investor.id, 'PENDING', { document: 'passport' });
  await db.user_set_kyc_async(asAdmin, investor.id, 'VERIFIED', null);
  const project = await db.project_create_async(asOwner, {
    title: 'One crate', expiry_date: '2026-02-01T00:00:00Z', shipping_costs: { freight: 50000000n },
    min_ticket: 1n, payout_address: node.owner_address,
    products: [{ name: 'Crate', unit: 'crate', quantity: 1n, unit_price: 100000000n }],
  });
  await db.project_publish_async(asOwner, project.id);
  const part = await db.participation_request_async(asInvestor, project.id,
    { type: 'PROFIT', capital: BigInt(node.target) });
  await db.participation_approve_async(asOwner, part.id);
  return { db, file, asAdmin, asOwner, asInvestor, project, part };
}

test('commands async: the same answers and errors as the synchronous commands', async (t) => {
  const node = await startNode(t);
  const w = await world(t, node);
  const { db, asAdmin, asOwner, asInvestor, project } = w;
  assert.deepEqual(await db.project_get_async(asAdmin, project.id), db.project_get(asAdmin, project.id));
  assert.equal((await db.project_get_async(asAdmin, project.id)).state, 'FUNDING');
  assert.deepEqual(await db.participation_list_async(asOwner, { project_id: project.id, status: 'APPROVED' }),
    db.participation_list(asOwner, { project_id: project.id, status: 'APPROVED' }));
  assert.deepEqual(await db.check_async(icms.HOST), db.check(icms.HOST));
  assert.deepEqual(await db.tick_async(), db.tick());
  // Idempotency keys travel with the request: the same key gives the same payment.
  const pay = asInvestor.with({ idempotencyKey: 'pay-1' });
  const payment = await db.payment_initiate_async(pay, w.part.id, { refund_address: node.refund_address });
  assert.deepEqual(db.payment_initiate(pay, w.part.id, { refund_address: node.refund_address }), payment);
  // Errors: the class, code and message of the synchronous call's.
  for (const [name, actor, args] of [
    ['project_get', asAdmin, ['not-an-id']],
    ['project_get', asAdmin, ['018f0000-0000-7000-8000-000000000000']],
    ['project_approve', asOwner, [project.id]],
    ['payment_initiate', asInvestor, [w.part.id, { refund_address: node.refund_address }]], // no key
    ['user_get', icms.ANONYMOUS, [w.part.id]],
  ]) {
    const want = syncError(() => db[name](actor, ...args));
    await assert.rejects(db[`${name}_async`](actor, ...args), (got) => { sameError(got, want); return true; },
      name);
  }
  // Misuse rejects with a TypeError, before anything runs.
  await assert.rejects(db.project_get_async(null, project.id), TypeError);
  await assert.rejects(db.project_get_async(asAdmin), TypeError); // too few arguments
  await assert.rejects(db.project_get_async(asAdmin, project.id, 'more'), TypeError);
  await assert.rejects(db.project_get_async(asAdmin, 42), TypeError);
});

test('commands async: the loop runs while the node answers', async (t) => {
  const node = await startNode(t);
  const w = await world(t, node, DELAY);
  const { db, asInvestor } = w;
  // Initiating asks the node for a new address (a slow call).
  const got = await ticksDuring(() => db.payment_initiate_async(asInvestor.with({ idempotencyKey: 'k' }),
    w.part.id, { refund_address: node.refund_address }));
  assert.equal(got.error, undefined);
  assert.equal(got.value.status, 'PENDING');
  assert.ok(got.ms >= DELAY, `took ${got.ms} ms`);
  assert.ok(got.ticks >= DELAY / 10 / 3, `the loop ran only ${got.ticks} times in ${got.ms} ms`);
  db.payment_submit(asInvestor, got.value.id, node.txids.pay);
  const verified = await ticksDuring(() => db.payment_verify_async(icms.HOST, got.value.id));
  assert.equal(verified.error, undefined);
  assert.equal(verified.value.status, 'SUBMITTED'); // in the scenario's mempool at this step
  assert.ok(verified.ticks >= DELAY / 10 / 3, `the loop ran only ${verified.ticks} times`);
  const ticked = await ticksDuring(() => db.tick_async());
  assert.equal(ticked.error, undefined);
  assert.ok(ticked.ticks > 0);
  // The synchronous twin blocks the loop for the same call.
  assert.equal(await ticksDuringSync(() => db.payment_verify(icms.HOST, got.value.id)), 0);
});

test('commands async: several run side by side on one database', async (t) => {
  const node = await startNode(t);
  const { db, asAdmin } = await world(t, node);
  const made = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    db.user_create_async(asAdmin, { name: `U${i}`, email: `u${i}@example.com` })));
  assert.equal(new Set(made.map((u) => u.id)).size, 8);
  // Two creating the same email: exactly one wins, the other is refused as the sync call would be.
  const both = await Promise.allSettled([
    db.user_create_async(asAdmin, { name: 'A', email: 'same@example.com' }),
    db.user_create_async(asAdmin, { name: 'B', email: 'same@example.com' }),
  ]);
  assert.deepEqual(both.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  assert.ok(both.find((r) => r.status === 'rejected').reason instanceof icms.ExistsError);
  assert.equal((await db.check_async(icms.HOST)).ok, true);
});

test('commands async: close() while commands are in flight', async (t) => {
  const node = await startNode(t);
  const w = await world(t, node, DELAY);
  const { db, asInvestor } = w;
  const pending = db.payment_initiate_async(asInvestor.with({ idempotencyKey: 'k' }), w.part.id,
    { refund_address: node.refund_address });
  db.close(); // returns at once; the C handle stays open until the call settles
  assert.equal(db.closed, true);
  assert.throws(() => db.project_get(icms.HOST, w.project.id), icms.InvalidError);
  await assert.rejects(db.project_get_async(icms.HOST, w.project.id), icms.InvalidError);
  const payment = await pending; // it ran to the end on the still-open handle
  assert.equal(payment.status, 'PENDING');
  // It was stored: a new handle on the same file finds it.
  const again = icms.open(w.file, { clock: node.now_ms });
  try {
    assert.equal(again.payment_get(icms.HOST, payment.id).status, 'PENDING');
  } finally {
    again.close();
  }
});
