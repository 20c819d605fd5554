'use strict';
// Push subscriptions and the rate limiter from Node:
//
//   ICMS_NODE_ADDON=$PWD/build/bindings/node/native.node node bindings/node/examples/push_events.js
//
// The library hands each committed event over on the thread that ran the
// command; the callback runs afterwards on the event loop. The open
// subscription keeps the process alive until it is closed. With
// ICMS_NATS_URL set (a nats-server -js), the outbox is also drained to
// JetStream. Prints a JSON summary.
const fs = require('fs');
const os = require('os');
const path = require('path');
const icms = require('../lib/icms');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'icms-push-'));
const db = icms.open(path.join(work, 'icms.db'), { clock: 1767225600000 });
const seen = [];
const sub = db.subscribe('user.*', (event) => {
  seen.push(event.type);
  if (seen.length === 2) finish(); // the loop stays alive until then
});
const admin = icms.Request.user(db.user_bootstrap_admin(icms.HOST, { name: 'Ada', email: 'ada@example.com' }));
db.user_create(admin, { name: 'Bea', email: 'bea@example.com' });
console.assert(seen.length === 0, 'callbacks run on the loop, after the command');

function finish() {
  sub.close();
  let published = null;
  if (process.env.ICMS_NATS_URL) {
    const pub = db.natsPublisher({ url: process.env.ICMS_NATS_URL, createStream: true });
    published = pub.drain();
    pub.close();
  }
  db.close();
  fs.rmSync(work, { recursive: true, force: true });
  const limiter = new icms.RateLimiter({ anonymousLimit: 2, windowMs: 1000 });
  const decisions = [1, 2, 3].map(() => limiter.hit('203.0.113.7').allowed);
  limiter.close();
  console.log(JSON.stringify({ seen, delivered: sub.delivered, published, decisions }));
  if (JSON.stringify(decisions) !== '[true,true,false]') process.exit(1);
}
