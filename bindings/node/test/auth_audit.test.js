'use strict';
// The auth handle (token issuance and verification) and audit checkpoints,
// through the Node binding (node --test).
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const icms = require('../lib/icms');

const NOW = 1767225600000;
const ISSUER = 'https://icms.test';
const AUDIENCE = 'icms-test';
// Argon2id at libsodium's minimum: the tests are about the binding, not the hash's cost.
const FAST = { passwordOpslimit: 1, passwordMemlimit: 8192 };

function fixture(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icms-node-auth-'));
  const file = path.join(dir, 'icms.db');
  const db = icms.open(file, { clock: NOW, sync: 2 });
  const admin = db.user_bootstrap_admin(icms.HOST, { name: 'Ada', email: 'ada@example.com' });
  const masterKey = crypto.randomBytes(32);
  const auth = db.auth({ masterKey, issuer: ISSUER, audience: AUDIENCE, ...FAST });
  t.after(() => { db.close(); fs.rmSync(dir, { recursive: true, force: true }); });
  return { dir, file, db, admin, masterKey, auth };
}

const ines = { provider: 'google', subject: 'sub-1', email: 'ines@example.com', emailVerified: true };

test('auth: an external login issues tokens that verify and commands accept', (t) => {
  const { db, auth } = fixture(t);
  const pair = auth.login_external(icms.HOST, { ...ines, name: 'Ines', device: 'test' });
  assert.equal(pair.token_type, 'Bearer');
  assert.equal(pair.user_created, true);
  assert.equal(pair.expires_in, 900n);
  const claims = auth.verify(pair.access_token);
  assert.equal(claims.sub, pair.user_id);
  assert.equal(claims.sid, pair.session_id);
  assert.equal(claims.iss, ISSUER);
  assert.equal(claims.aud, AUDIENCE);
  const me = db.user_get(icms.Request.token(pair.access_token), pair.user_id);
  assert.equal(me.email, 'ines@example.com');
  const again = auth.login_external(icms.HOST, { provider: 'google', subject: 'sub-1' });
  assert.equal(again.user_id, pair.user_id);
  assert.equal(again.user_created, false);
  assert.equal(auth.link_identity(icms.Request.token(pair.access_token),
    { provider: 'apple', subject: 'a-1' }).linked, true);
  assert.equal(auth.login_external(icms.HOST, { provider: 'apple', subject: 'a-1' }).user_id, pair.user_id);
});

test('auth: external login refusals', (t) => {
  const { auth } = fixture(t);
  assert.throws(() => auth.login_external(icms.HOST, { ...ines, emailVerified: false }), icms.InvalidError);
  assert.throws(() => auth.login_external(icms.HOST, { ...ines, email: 'ada@example.com' }), icms.ExistsError);
  assert.throws(() => auth.link_identity(icms.ANONYMOUS, { provider: 'apple', subject: 'a' }), icms.ForbiddenError);
});

test('auth: password login, refresh, and a spent refresh token revokes the session', (t) => {
  const { auth, admin } = fixture(t);
  auth.password_set(icms.HOST, admin.id, Buffer.from('correct horse'));
  const pair = auth.login_password(icms.HOST, { email: 'ada@example.com', password: 'correct horse',
    device: 'laptop', source: '127.0.0.1' });
  assert.equal(pair.user_id, admin.id);
  const newer = auth.refresh(icms.HOST, pair.refresh_token);
  assert.notEqual(newer.refresh_token, pair.refresh_token);
  assert.equal(auth.verify(newer.access_token).sub, admin.id);
  assert.throws(() => auth.refresh(icms.HOST, pair.refresh_token), icms.UnauthenticatedError);
  assert.throws(() => auth.refresh(icms.HOST, Buffer.from(newer.refresh_token)), icms.UnauthenticatedError);
  assert.throws(() => auth.verify(newer.access_token), icms.UnauthenticatedError);
});

test('auth: password refusals', (t) => {
  const { auth, admin } = fixture(t);
  assert.throws(() => auth.password_set(icms.HOST, admin.id, 'short'), icms.InvalidError);
  auth.password_set(icms.HOST, admin.id, 'correct horse');
  assert.throws(() => auth.login_password(icms.HOST, { email: 'ada@example.com', password: Buffer.from('wrong horse') }),
    (e) => e instanceof icms.UnauthenticatedError && !e.message.includes('wrong horse'));
  assert.throws(() => auth.login_password(icms.HOST, { email: 'ada@example.com', password: 'a\0b' }), /NUL/);
  assert.throws(() => auth.login_password(icms.HOST, { email: 'ada@example.com', password: 12345 }), TypeError);
  assert.throws(() => auth.login_password(icms.HOST, { email: 'ada@example.com', password: 'correct horse', device: 7 }),
    /device is a string/);
  // The addon's own check, behind the JavaScript one.
  assert.throws(() => icms.native.icms_binding_auth_verify(auth.handle, 12345, null), /a secret is a string or a Buffer/);
});

test('auth: verify refusals and expiry', (t) => {
  const { db, auth } = fixture(t);
  assert.throws(() => auth.verify('not-a-token'), icms.UnauthenticatedError);
  const pair = auth.login_external(icms.HOST, ines);
  db.clock.advance(16 * 60 * 1000);
  assert.throws(() => auth.verify(pair.access_token), icms.UnauthenticatedError);
});

test('auth: JWKS and key rotation', (t) => {
  const { auth } = fixture(t);
  const pair = auth.login_external(icms.HOST, ines);
  const kid = auth.jwks().keys[0].kid;
  assert.throws(() => auth.rotate_keys(icms.Request.token(pair.access_token)), icms.ForbiddenError);
  const rotated = auth.rotate_keys(icms.HOST);
  assert.deepEqual(rotated.retired, [kid]);
  assert.deepEqual(auth.jwks().keys.map((k) => k.kid), [rotated.kid, kid]);
  auth.verify(pair.access_token);
});

test('auth: the master key is checked, must match, and the caller may wipe it', (t) => {
  const { db, auth, masterKey } = fixture(t);
  assert.throws(() => db.auth({ masterKey: Buffer.alloc(31), issuer: ISSUER, audience: AUDIENCE }), icms.InvalidError);
  assert.throws(() => db.auth({ masterKey: 'k'.repeat(32), issuer: ISSUER, audience: AUDIENCE }), TypeError);
  assert.throws(() => db.auth({ masterKey, issuer: '', audience: AUDIENCE }), icms.InvalidError);
  assert.throws(() => db.auth({ masterKey: crypto.randomBytes(32), issuer: ISSUER, audience: AUDIENCE }), icms.CorruptError);
  masterKey.fill(0);
  auth.login_external(icms.HOST, ines);
});

test('auth: closing the database closes its auth handles', (t) => {
  const { db, auth, masterKey } = fixture(t);
  const other = db.auth({ masterKey, issuer: ISSUER, audience: AUDIENCE });
  other.close();
  other.close();
  assert.throws(() => other.jwks(), icms.InvalidError);
  db.close();
  assert.equal(auth.closed, true);
  assert.throws(() => auth.verify('x'), icms.InvalidError);
});

test('audit: a checkpoint verifies, then an edited entry is found', (t) => {
  const { db, file, auth, admin } = fixture(t);
  const { publicKey, secretKey } = icms.audit.keypair();
  assert.equal(publicKey.length, 32);
  assert.equal(secretKey.length, 64);
  auth.login_external(icms.HOST, ines);
  const checkpoint = db.audit_checkpoint(secretKey);
  const report = db.audit_verify(checkpoint, publicKey);
  assert.equal(report.valid, true);
  assert.ok(report.entries >= 2n);
  assert.equal(db.audit_verify().valid, true);
  db.user_create(icms.Request.user(admin), { name: 'Otto', email: 'otto@example.com' });
  assert.equal(db.audit_verify(checkpoint, publicKey).valid, true);
  db.close();
  execFileSync('sqlite3', [file, 'DROP TRIGGER icms_append_only_update; '
    + 'UPDATE kv_log SET v = replace(CAST(v AS TEXT), \'"provider":"google"\', \'"provider":"gOOgle"\') '
    + "WHERE k >= X'02617564697400' AND k < X'02617564697401'"]);
  const reopened = icms.open(file, { clock: NOW });
  try {
    assert.throws(() => reopened.audit_verify(checkpoint, publicKey), (e) => {
      assert.ok(e instanceof icms.CorruptError);
      assert.equal(e.report.valid, false);
      assert.ok(e.report.bad_seq > 1n);
      assert.match(e.report.reason, /edited/);
      return true;
    });
  } finally {
    reopened.close();
  }
});

test('audit: checkpoint refusals', (t) => {
  const { db } = fixture(t);
  const { publicKey, secretKey } = icms.audit.keypair();
  const checkpoint = db.audit_checkpoint(secretKey);
  assert.throws(() => db.audit_checkpoint(Buffer.alloc(32)), icms.InvalidError);
  assert.throws(() => db.audit_checkpoint('x'.repeat(64)), /Buffer/);
  assert.throws(() => db.audit_verify(checkpoint, publicKey.subarray(0, 31)), icms.InvalidError);
  assert.throws(() => db.audit_verify('{"seq":1}', publicKey), icms.InvalidError);
  assert.throws(() => db.audit_verify(checkpoint, icms.audit.keypair().publicKey), icms.CorruptError);
});
