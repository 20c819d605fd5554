'use strict';
// The end-to-end scenario in Node: users, KYC, a project, a participation, a
// payment confirmed on a (fake) Gapcoin node, approval (the escrow released to
// the owner), shipping, completion, the payout and the owner's release paid. Run it after building (bindings/node/build.sh):
//
//   ICMS_NODE_ADDON=build/bindings/node/native.node node bindings/node/examples/end_to_end.js
//
// It starts the fake node itself (tests/bindings/scenario.py).
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const icms = require('../lib/icms');

const ROOT = path.resolve(__dirname, '..', '..', '..');

// Start the scenario's fake node; resolves to { proc, node }.
function startNode(work) {
  const proc = spawn('/usr/bin/python3', [path.join(ROOT, 'tests/bindings/scenario.py'), work],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: proc.stdout });
    rl.once('line', (line) => { rl.close(); resolve({ proc, node: JSON.parse(line) }); });
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`scenario.py exited with ${code}`)));
  });
}

function stopNode(proc) {
  return new Promise((resolve) => {
    proc.removeAllListeners('exit');
    proc.once('exit', resolve);
    proc.stdin.end();
  });
}

// Advance the fake node's chain by one scenario step.
async function fakeStep(node) {
  const answer = await fetch(node.url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Authorization: 'Basic ' + Buffer.from(`${node.user}:${node.password}`).toString('base64'),
    },
    body: JSON.stringify({ jsonrpc: '1.0', id: 1, method: 'fake_step', params: [] }),
  });
  if (answer.status !== 200) throw new Error(`fake_step answered ${answer.status}`);
  await answer.text();
}

// Play the scenario against node (scenario.py's JSON); resolves to what happened.
async function run(dbPath, node) {
  const target = BigInt(node.target);
  const profit = BigInt(node.profit);
  const seen = {};
  const db = icms.open(dbPath, {
    clock: node.now_ms, sync: 2,
    gapcoin: { url: node.url, username: node.user, password: node.password, timeoutMs: 10000 },
  });
  try {
    const admin = db.user_bootstrap_admin(icms.HOST, { name: 'Ada Admin', email: 'ada@example.com' });
    const asAdmin = icms.Request.user(admin);
    const owner = db.user_create(asAdmin, { name: 'Otto Owner', email: 'otto@example.com', roles: ['OWNER'] });
    const investor = db.user_create(asAdmin, { name: 'Ines Investor', email: 'ines@example.com', roles: ['INVESTOR'] });
    const asOwner = icms.Request.user(owner);
    const asInvestor = icms.Request.user(investor);

    db.user_set_kyc(asInvestor, investor.id, 'PENDING', { document: 'passport' });
    seen.kyc = db.user_set_kyc(asAdmin, investor.id, 'VERIFIED', null).kyc_status;

    const project = db.project_create(asOwner, {
      title: 'One crate', expiry_date: '2026-02-01T00:00:00Z',
      shipping_costs: { freight: 50000000n }, min_ticket: 1n,
      payout_address: node.owner_address, // where the owner is paid on approval
      products: [{ name: 'Crate', unit: 'crate', quantity: 1n, unit_price: 100000000n }],
    });
    seen.total_cost = project.total_cost;
    db.project_publish(asOwner, project.id);

    const part = db.participation_request(asInvestor, project.id, { type: 'PROFIT', capital: target });
    db.participation_approve(asOwner, part.id);
    seen.after_approval = db.project_get(asAdmin, project.id).state;

    const payment = db.payment_initiate(asInvestor.with({ idempotencyKey: 'pay-1' }), part.id,
      { refund_address: node.refund_address });
    seen.address = payment.address;
    seen.amount = payment.amount;
    db.payment_submit(asInvestor, payment.id, node.txids.pay);
    seen.confirmations = [db.payment_verify(icms.HOST, payment.id).confirmations];
    await fakeStep(node);
    seen.confirmations.push(db.payment_verify(icms.HOST, payment.id).confirmations);
    await fakeStep(node);
    seen.payment = db.payment_verify(icms.HOST, payment.id).status;
    const funded = db.project_get(asAdmin, project.id);
    seen.funded = funded.funded;
    seen.after_payment = funded.state;

    // Only the owner, admins and the host read where the owner is paid.
    seen.owner_reads_address = db.project_get(asOwner, project.id).payout_address;
    seen.investor_reads_address = 'payout_address' in db.project_get(asInvestor, project.id);

    // Approval releases the escrow to the owner: a release DUE, paid by the host's wallet.
    const releaseId = db.project_approve(asAdmin, project.id).release_id;
    const release = db.release_get(asOwner, releaseId);
    seen.release_due = [release.status, release.amount, release.address];
    seen.releases_due = db.release_list(icms.HOST, { status: 'DUE' }).items.map((r) => r.id === releaseId);
    db.project_ship(asAdmin, project.id, {
      container_number: 'CSQU3054383', vessel: 'Ever', bill_of_lading: 'BL1',
      port_of_loading: 'Piraeus', port_of_discharge: 'Hamburg', eta: '2026-03-01T00:00:00Z',
    });
    db.project_complete(asAdmin, project.id);
    seen.final = db.project_get(asAdmin, project.id).state;

    db.project_distribute(asAdmin, project.id, { profit });
    const due = db.payout_list(asInvestor, null).items[0];
    seen.payout_amount = due.amount;
    await fakeStep(node);
    seen.payout = db.payout_record(icms.HOST, due.id, node.txids.payout).status;
    const paid = db.release_record(icms.HOST, releaseId, node.txids.release);
    seen.release = [paid.status, paid.txid === node.txids.release];
    seen.releases_paid = db.release_list(asOwner, { status: 'PAID' }).items.length;
    seen.check = db.check(icms.HOST);
  } finally {
    db.close();
  }
  return seen;
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'icms-node-'));
  const { proc, node } = await startNode(work);
  try {
    const seen = await run(path.join(work, 'icms.db'), node);
    console.log(icms.stringifyJSON(seen));
  } finally {
    await stopNode(proc);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { run, startNode, stopNode, fakeStep };
if (require.main === module) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
