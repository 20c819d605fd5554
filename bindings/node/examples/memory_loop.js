'use strict';
// Run by test/bindings.test.js as `node --expose-gc memory_loop.js DB`: N
// iterations of three calls (a result string, a thrown error, a request
// object made and collected), printing RSS before and after as JSON.
const icms = require('../lib/icms');

const N = Number(process.env.ICMS_MEMORY_CALLS || 10000);
const db = icms.open(process.argv[2], { clock: 1767225600000, sync: 2 });
const admin = icms.Request.user(db.user_bootstrap_admin(icms.HOST, { name: 'A', email: 'a@example.com' }));
const owner = icms.Request.user(db.user_create(admin, { name: 'O', email: 'o@example.com', roles: ['OWNER'] }));
const p = db.project_create(owner, {
  title: 'Crate', expiry_date: '2026-02-01T00:00:00Z', shipping_costs: { freight: 1 }, min_ticket: 1,
  products: [{ name: 'Crate', unit: 'crate', quantity: 1, unit_price: 100 }],
});

function loop(n) {
  for (let i = 0; i < n; i++) {
    db.project_get(admin, p.id);
    try { db.project_get(admin, 'bad'); } catch (e) { if (!(e instanceof icms.InvalidError)) throw e; }
    admin.with({ idempotencyKey: 'x' });
  }
}

// RSS, and the part of it outside V8's heap (where a leak of the addon or
// the library would show), after full collections.
function settle() {
  for (let i = 0; i < 5; i++) global.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, native: m.rss - m.heapTotal };
}

loop(3000); // warm up: JIT, V8 heap, allocator arenas
const before = settle();
loop(N);
const after = settle();
db.close();
process.stdout.write(JSON.stringify({ calls: N, before, after }) + '\n');
