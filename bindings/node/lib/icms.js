'use strict';
// libicms for Node: a thin layer over the C API (the SWIG addon native.node).
//
//   const icms = require('icms');
//   const db = icms.open('/tmp/icms.db', { clock: 1767225600000 });
//   const admin = db.user_bootstrap_admin(icms.HOST, { name: 'Ada', email: 'ada@example.com' });
//
// Every command icms_<name>(db, req, ..., char **out) is the method
// db.<name>(actor, ...): synchronous; objects and arrays are sent as JSON;
// the JSON result comes back as an object whose integers are BigInts (money
// is int64 base units: exact, never a rounded Number). A failure throws the
// IcmsError subclass of its code.
//
// Threads: everything runs on the JavaScript thread, synchronously; a call
// that reaches the Gapcoin node blocks the event loop for its duration. Use
// worker_threads with one Database each to keep the loop free. The network
// calls of NatsPublisher and RpcClient also come as promises (drainAsync,
// callAsync, checkPaymentAsync) that run on a libuv worker thread (Lane).
const path = require('path');
const json = require('./json');

const nativePath = process.env.ICMS_NODE_ADDON || path.join(__dirname, '..', 'native.node');
const native = require(nativePath);
// The push subscriptions' N-API addon, built beside native.node.
const events = require(path.join(path.dirname(nativePath), 'events.node'));
// The promise-returning network calls' N-API addon (src/async.c), beside it too.
const work = require(path.join(path.dirname(nativePath), 'async.node'));

// ---------------------------------------------------------------- errors

class IcmsError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
    this.codeName = native.icms_error_name(code);
  }
  get name() { return this.constructor.name; }
}

const errorClasses = {};
const byCode = new Map();
for (const [name, code] of [
  ['NoMemoryError', native.ICMS_ENOMEM], ['InvalidError', native.ICMS_EINVALID],
  ['NotFoundError', native.ICMS_ENOTFOUND], ['ExistsError', native.ICMS_EEXISTS],
  ['InvalidTransitionError', native.ICMS_EINVALID_TRANSITION],
  ['ForbiddenError', native.ICMS_EFORBIDDEN], ['ConflictError', native.ICMS_ECONFLICT],
  ['BusyError', native.ICMS_EBUSY], ['BufferTooSmallError', native.ICMS_EBUFS],
  ['StorageError', native.ICMS_ESTORAGE], ['TransportError', native.ICMS_ETRANSPORT],
  ['VersionError', native.ICMS_EVERSION], ['IdempotencyError', native.ICMS_EIDEMPOTENCY],
  ['UnauthenticatedError', native.ICMS_EUNAUTHENTICATED], ['LimitError', native.ICMS_ELIMIT],
  ['CorruptError', native.ICMS_ECORRUPT], ['CallbackError', native.ICMS_EUSER],
]) {
  const cls = { [name]: class extends IcmsError {} }[name];
  cls.code = code;
  errorClasses[name] = cls;
  byCode.set(code, cls);
}

// THE place where a negative code becomes an exception: message is the one
// the call recorded (null: none, the code's own text is used).
function errorOf(rc, message) {
  const Cls = byCode.get(rc) || IcmsError;
  return new Cls(message ?? native.icms_strerror(rc), rc);
}

// A synchronous call's failure: its message is this thread's last error.
function raise(rc) {
  const last = native.icms_error_last();
  throw errorOf(rc, last.code === rc ? last.message : null);
}

// An async.node call's answer [rc, text, message] (the message captured on
// the worker thread that ran it): rc when it is not negative, else the error.
function settled([rc, text, message]) {
  if (rc < 0) throw errorOf(rc, message);
  return [rc, text];
}

// One native call at a time on a handle (a NatsPublisher or an RpcClient).
// The promise-returning calls queue here, first in first out, and run one
// after the other on a libuv worker thread (async.node); a synchronous call
// while one is pending (running or queued) is refused with InvalidError
// (it would race the worker, or wait for it with the loop blocked); close()
// while one is pending lets the running call finish, rejects the ones
// queued behind it (InvalidError: closed) and frees the handle once the
// last has settled. A call counts as pending until its promise settles, so
// once a caller's await returns the lane is free again (unless more were
// queued).
class Lane {
  constructor() {
    this.pending = 0;
    this.tail = Promise.resolve();
    this.idle = [];
  }

  get busy() { return this.pending > 0; }

  // start() runs when the calls queued before it have settled and returns
  // the promise of the native call; a throw rejects this call only.
  push(start) {
    this.pending++;
    return new Promise((resolve, reject) => {
      const done = (settle, value) => {
        try {
          if (--this.pending === 0) {
            const idle = this.idle;
            this.idle = [];
            for (const fn of idle) fn(); // frees the handle (and closes its database) first
          }
        } finally {
          settle(value);
        }
      };
      const run = () => {
        let call;
        try {
          call = start();
        } catch (e) {
          done(reject, e);
          return Promise.resolve();
        }
        return call.then((v) => done(resolve, v), (e) => done(reject, e));
      };
      // On an idle lane the call starts now (a close() right after it lets it run).
      this.tail = this.pending === 1 ? run() : this.tail.then(run);
    });
  }

  // fn() now when nothing is pending, else when the last pending call settled.
  whenIdle(fn) {
    if (this.pending === 0) fn();
    else this.idle.push(fn);
  }

  // The synchronous methods' guard.
  refuseSync(what) {
    if (this.pending > 0) {
      throw new errorClasses.InvalidError(`${what}: an async call is pending on this handle; ` +
        'await it (or use the Async method, which queues)', native.ICMS_EINVALID);
    }
  }
}

// The Database's commands in flight on workers. Unlike a Lane they run side
// by side (a database handle may be used by many threads at once); the
// database is closed only once the last has settled.
class Running {
  constructor() {
    this.pending = 0;
    this.idle = [];
  }

  get busy() { return this.pending > 0; }

  // start() returns the native call's promise; a throw rejects this call only.
  run(start) {
    let call;
    try {
      call = start();
    } catch (e) {
      return Promise.reject(e);
    }
    this.pending++;
    const done = () => {
      if (--this.pending === 0) {
        const idle = this.idle;
        this.idle = [];
        for (const fn of idle) fn();
      }
    };
    return call.finally(done);
  }

  whenIdle(fn) {
    if (this.pending === 0) fn();
    else this.idle.push(fn);
  }
}

// Unpack a wrapper's result ([rc, out] or rc); throw on failure.
function check(result) {
  const rc = Array.isArray(result) ? result[0] : result;
  if (rc < 0) raise(rc);
  return Array.isArray(result) ? result[1] : undefined;
}

const arg = (v) => (v !== null && typeof v === 'object' ? json.stringify(v) : v);
const parsed = (text) => (text === undefined || text === null ? null : json.parse(text));

// ---------------------------------------------------------------- requests

const FIELDS = ['actorKind', 'actorId', 'idempotencyKey', 'correlationId', 'traceId', 'spanId',
  'requestId', 'source', 'accessToken'];

// Who is acting: an icms_request. Immutable; with({...}) makes a variant.
class Request {
  constructor(fields = {}) {
    for (const k of Object.keys(fields)) {
      if (!FIELDS.includes(k)) throw new TypeError(`unknown request field ${k}`);
    }
    this.fields = Object.freeze({ actorKind: native.ICMS_ACTOR_USER, ...fields });
    this.native = new native.icms_request(...FIELDS.map((k) => (k === 'actorKind'
      ? this.fields.actorKind : this.fields[k] ?? null)));
    Object.freeze(this);
  }
  static user(id, more = {}) {
    return new Request({ ...more, actorId: typeof id === 'object' ? id.id : id });
  }
  static token(accessToken, more = {}) { return new Request({ ...more, accessToken }); }
  with(changes) { return new Request({ ...this.fields, ...changes }); }
}

const HOST = new Request({ actorKind: native.ICMS_ACTOR_HOST });
const SYSTEM = new Request({ actorKind: native.ICMS_ACTOR_SYSTEM });
const ANONYMOUS = new Request();

// ---------------------------------------------------------------- the database

const COMMANDS = [
  'user_bootstrap_admin', 'user_create', 'user_get', 'user_update', 'user_grant_role',
  'user_revoke_role', 'user_set_kyc', 'user_deactivate', 'user_erase', 'user_history',
  'project_create', 'project_update', 'project_get', 'project_list', 'project_publish',
  'project_set_payout_address', 'project_approve', 'project_ship', 'project_complete',
  'project_cancel',
  'product_add', 'product_update', 'product_remove',
  'participation_request', 'participation_approve', 'participation_reject',
  'participation_withdraw', 'participation_get', 'participation_list',
  'payment_initiate', 'payment_submit', 'payment_verify', 'payment_get', 'payment_list',
  'refund_list', 'refund_record', 'project_distribute', 'payout_list', 'payout_record',
  'release_get', 'release_list', 'release_record', 'check',
  'events_consumers', 'notify_prefs_get', 'notify_prefs_set', 'notify_list', 'notify_retry',
  'auth_sessions', 'auth_logout', 'auth_logout_all',
];

// A fake clock the Database owns (usable while it is open).
class FakeClock {
  constructor(db, ptr) { this.db = db; this.ptr = ptr; }
  live() {
    if (this.db.closed) throw new errorClasses.InvalidError('the clock\'s database is closed', native.ICMS_EINVALID);
    return this.ptr;
  }
  now() { return BigInt(native.icms_clock_now(this.live())); }
  set(ms) { check(native.icms_clock_fake_set(this.live(), Number(ms))); }
  advance(ms) { check(native.icms_clock_fake_advance(this.live(), Number(ms))); }
}

class Database {
  // options: clock (ms since the epoch for a fake clock; absent = real time),
  // kycOptional, sync (0 FULL, 1 NORMAL, 2 OFF), gapcoin {url, username,
  // password, timeoutMs, network}, retryAttempts.
  constructor(file, options = {}) {
    this.handle = null;
    this.clock = null;
    this.auths = new Set();
    this.subscriptions = new Set();
    this.publishers = new Set();
    this.subTokens = []; // closed subscriptions' C structs, freed after icms_close
    this.running = new Running(); // the *_async commands in flight
    // A missing path must not become a database called "undefined".
    if (typeof file !== 'string' || file.length === 0) {
      throw new errorClasses.InvalidError('a database path (a non-empty string) is required',
        native.ICMS_EINVALID);
    }
    const rc = native.icms_init();
    if (rc < 0) raise(rc);
    this.initialised = true;
    try {
      let clock = null;
      if (options.clock !== undefined && options.clock !== null) {
        clock = check(native.icms_clock_fake_new(Number(options.clock), null));
      }
      let rpc = null;
      const g = options.gapcoin;
      if (g) {
        try {
          rpc = check(native.icms_binding_rpc_curl(null, g.url, g.username ?? null,
            g.password ?? null, g.timeoutMs ?? 0));
        } catch (e) {
          if (clock) native.icms_clock_free(clock);
          throw e;
        }
      }
      this.handle = check(native.icms_binding_open(null, String(file), clock, rpc,
        options.kycOptional ? 1 : 0, options.sync ?? 0, g?.network ?? 0, options.retryAttempts ?? 0));
      if (clock) this.clock = new FakeClock(this, clock);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  get closed() { return this.handle === null; }

  live() {
    if (this.handle === null) throw new errorClasses.InvalidError('the database is closed', native.ICMS_EINVALID);
    return this.handle;
  }

  // Closes the Auth handles, subscriptions and publishers first. A
  // publisher's drainAsync() or a command's *_async in flight uses this
  // database on a worker thread: the database is closed at once for
  // JavaScript, but the C handle is closed (and the library shut down) when
  // those calls settle.
  close() {
    for (const a of this.auths) a.close();
    for (const s of this.subscriptions) s.close();
    const busy = [...this.publishers].filter((p) => p.lane.busy).map((p) => p.lane);
    if (this.running.busy) busy.push(this.running);
    for (const p of this.publishers) p.close(); // a busy one frees its handle once idle
    const handle = this.handle;
    const subTokens = this.subTokens;
    const initialised = this.initialised;
    this.handle = null;
    this.subTokens = [];
    this.initialised = false;
    const finish = () => {
      if (handle !== null) native.icms_close(handle);
      // No dispatch can reach a subscription once its database is closed.
      for (const token of subTokens) events.freeSub(token);
      if (initialised) native.icms_shutdown();
    };
    let left = busy.length;
    if (left === 0) finish();
    for (const lane of busy) lane.whenIdle(() => { if (--left === 0) finish(); });
  }

  tick() { return parsed(check(native.icms_tick(this.live(), null))); }
  // icms_tick on a libuv worker (it asks the Gapcoin node): a promise of its report.
  tick_async() {
    return this.running.run(() => work.tick(this.live().getCPtr()).then((r) => parsed(settled(r)[1])));
  }
  notify_run() { return parsed(check(native.icms_notify_run(this.live(), null))); }

  events_read(actor, consumer, after = native.ICMS_EVENTS_FROM_CURSOR, max = 100) {
    return parsed(check(native.icms_events_read(this.live(), reqOf(actor), consumer,
      Number(after), max, null)));
  }
  events_ack(actor, consumer, seq) {
    check(native.icms_events_ack(this.live(), reqOf(actor), consumer, Number(seq)));
  }
  events_seek(actor, consumer, seq) {
    check(native.icms_events_seek(this.live(), reqOf(actor), consumer, Number(seq)));
  }
  events_consumer_delete(actor, consumer) {
    check(native.icms_events_consumer_delete(this.live(), reqOf(actor), consumer));
  }

  // Push subscription (icms_events_subscribe): callback(event) for each
  // committed event whose type matches pattern ("*", "project.*" or an exact
  // type). The library calls in on the thread that committed the command;
  // the event is queued through a napi_threadsafe_function and the callback
  // runs later on this thread's event loop (never inside the command). An
  // exception it throws goes to options.onError(err, event), else to a
  // process warning; it never reaches the command. Returns a Subscription.
  subscribe(pattern, callback, options = {}) {
    return new Subscription(this, pattern, callback, options);
  }

  // A NatsPublisher over this database (new NatsPublisher(this, options)).
  natsPublisher(options) { return new NatsPublisher(this, options); }

  // An Auth handle over this database (new Auth(this, options)).
  auth(options) { return new Auth(this, options); }

  // icms_audit_checkpoint: sign the audit chain's head with a 64-byte secret
  // key (a Buffer). Returns the checkpoint's JSON text, to keep outside the
  // store verbatim.
  audit_checkpoint(secretKey) {
    return check(native.icms_audit_checkpoint(this.live(), secretKey, null));
  }

  // icms_audit_verify: the report {valid, entries, bad_seq, reason} of an
  // intact chain. checkpoint (text or object) with the public key (a Buffer)
  // that signed it; none checks the links only. A broken chain throws a
  // CorruptError whose .report is the parsed report.
  audit_verify(checkpoint = null, publicKey = null) {
    const result = native.icms_audit_verify(this.live(), arg(checkpoint), publicKey, null);
    if (result[0] === native.ICMS_ECORRUPT) {
      try {
        raise(result[0]);
      } catch (e) {
        e.report = parsed(result[1]);
        throw e;
      }
    }
    return parsed(check(result));
  }
}

// A push subscription (Database.subscribe). While open it keeps the event
// loop alive (unref() lets the process exit anyway, ref() undoes that);
// close() stops delivery at once: events still queued are dropped, no
// callback runs after it returns, and the loop is released. The Database
// closes its subscriptions first.
class Subscription {
  constructor(db, pattern, callback, { onError } = {}) {
    if (!(db instanceof Database)) throw new TypeError('db is an icms.Database');
    if (typeof pattern !== 'string') throw new TypeError('pattern is a string');
    if (typeof callback !== 'function') throw new TypeError('callback is a function');
    if (onError !== undefined && typeof onError !== 'function') throw new TypeError('onError is a function');
    this.db = db;
    this.pattern = pattern;
    this.delivered = 0;
    this.failures = 0;
    this.handle = null;
    const deliver = (text) => {
      if (this.handle === null) return; // closed after the event was queued
      let event = null;
      this.delivered++;
      try {
        event = json.parse(text);
        callback(event);
      } catch (err) {
        this.failures++;
        try {
          if (onError) onError(err, event);
          else process.emitWarning(`icms subscriber failed: ${err && err.stack ? err.stack : err}`, 'IcmsSubscriberWarning');
        } catch (again) {
          process.emitWarning(`icms subscriber's onError failed: ${again}`, 'IcmsSubscriberWarning');
        }
      }
    };
    this.handle = check(events.subscribe(db.live().getCPtr(), pattern, deliver));
    db.subscriptions.add(this);
  }

  get closed() { return this.handle === null; }

  // Events the library handed over so far (queued; delivered counts the callbacks run).
  get queued() { return this.handle === null ? null : events.queued(this.handle); }

  ref() { if (this.handle !== null) events.ref(this.handle, true); return this; }
  unref() { if (this.handle !== null) events.ref(this.handle, false); return this; }

  close() {
    if (this.handle !== null) {
      const token = events.close(this.handle);
      this.handle = null;
      this.db.subscriptions.delete(this);
      this.db.subTokens.push(token);
    }
  }
}

// Drains a Database's outbox to a NATS JetStream stream
// (icms_nats_publisher_*). options (absent: the library's default): url
// ('nats://127.0.0.1:4222'), stream ('ICMS'), subjectPrefix ('icms.'),
// consumer ('nats'), createStream, batch, timeoutMs, duplicateWindowMs.
// drain() is synchronous: it blocks the event loop while it waits on the
// server (bounded by timeoutMs); drainAsync() waits on a worker thread.
// The C publisher is not for concurrent use: drains go one at a time
// (Lane). The Database closes its publishers first.
class NatsPublisher {
  constructor(db, options = {}) {
    if (!(db instanceof Database)) throw new TypeError('db is an icms.Database');
    const o = options;
    this.db = db;
    this.handle = null;
    this.handle = check(native.icms_binding_nats_new(null, db.live(), strArg(o.url, 'url'),
      strArg(o.stream, 'stream'), strArg(o.subjectPrefix, 'subjectPrefix'), strArg(o.consumer, 'consumer'),
      o.createStream ? 1 : 0, Number(o.batch ?? 0), Number(o.timeoutMs ?? 0), Number(o.duplicateWindowMs ?? 0)));
    this.lane = new Lane();
    db.publishers.add(this);
  }

  get closed() { return this.handle === null; }

  live() {
    if (this.handle === null || this.db.closed) {
      throw new errorClasses.InvalidError('the publisher is closed', native.ICMS_EINVALID);
    }
    return this.handle;
  }

  // Publish every event after the consumer's cursor: how many the server
  // acknowledged (a Number). TransportError when the server is unreachable
  // or does not acknowledge (the events wait in the outbox). InvalidError
  // while a drainAsync() is pending.
  drain() {
    const handle = this.live();
    this.lane.refuseSync('drain()');
    native.icms_error_clear(); // as on the worker: the message read on failure is this call's
    const n = native.icms_binding_nats_drain(handle);
    if (n < 0) raise(n);
    return n;
  }

  // drain() on a worker thread: a Promise of the same Number, rejected with
  // the same errors. Queues behind a drainAsync() still pending; one closed
  // before it started rejects with InvalidError.
  drainAsync() {
    return this.lane.push(() => work.natsDrain(this.live().getCPtr()).then((r) => settled(r)[0]));
  }

  // Idempotent. While a drainAsync() runs, the C publisher is freed when it settles.
  close() {
    if (this.handle !== null) {
      const handle = this.handle;
      this.handle = null;
      this.db.publishers.delete(this);
      this.lane.whenIdle(() => native.icms_nats_publisher_free(handle));
    }
  }
}

// An in-memory sliding-window rate limiter (icms_ratelimit_*). options:
// anonymousLimit, authenticatedLimit (per window; 0/absent: 100 and 1000),
// windowMs (60000), maxKeys (10000), clock (ms: a fake clock starting there,
// reachable as .clock, for tests).
class RateLimiter {
  constructor(options = {}) {
    const o = options;
    for (const k of ['anonymousLimit', 'authenticatedLimit', 'windowMs', 'maxKeys']) {
      if (o[k] !== undefined && (typeof o[k] !== 'number' && typeof o[k] !== 'bigint')) {
        throw new TypeError(`${k} is a number`);
      }
    }
    for (const k of ['anonymousLimit', 'authenticatedLimit', 'maxKeys']) {
      if (o[k] !== undefined && Number(o[k]) < 0) {
        throw new errorClasses.InvalidError(`${k} may not be negative`, native.ICMS_EINVALID);
      }
    }
    this.handle = null;
    this.clock = null;
    let clock = null;
    if (o.clock !== undefined && o.clock !== null) clock = check(native.icms_clock_fake_new(Number(o.clock), null));
    // The limiter owns the clock from here, even when this fails.
    this.handle = check(native.icms_binding_ratelimit_new(null, Number(o.anonymousLimit ?? 0),
      Number(o.authenticatedLimit ?? 0), Number(o.windowMs ?? 0), Number(o.maxKeys ?? 0), clock));
    if (clock) this.clock = new FakeClock(this, clock);
  }

  get closed() { return this.handle === null; }

  live() {
    if (this.handle === null) throw new errorClasses.InvalidError('the rate limiter is closed', native.ICMS_EINVALID);
    return this.handle;
  }

  // Count one request of key: {allowed, limit, remaining, retry_after_ms}
  // (integers as BigInts). A refusal is an answer (allowed false), not an
  // exception; a bad key (empty, over 256 bytes) throws InvalidError.
  hit(key, { authenticated = false } = {}) {
    const result = native.icms_binding_ratelimit_hit(this.live(), authenticated ? 1 : 0,
      strArg(key, 'key'), null);
    if (result[0] === native.ICMS_ELIMIT) return parsed(result[1]);
    return parsed(check(result));
  }

  size() { return Number(native.icms_ratelimit_size(this.live())); }

  close() {
    if (this.handle !== null) {
      native.icms_ratelimit_free(this.handle);
      this.handle = null;
    }
  }
}

// A Gapcoin node's JSON-RPC client (icms_rpc_client_*) over the built-in
// libcurl transport: {url, username, password, timeoutMs}. Every call is
// synchronous (it blocks the event loop for the node's answer, bounded by
// timeoutMs), except callAsync() and checkPaymentAsync(), which wait on a
// worker thread. Answers parsed with integers as BigInts, bytes as Buffers.
// One call at a time (Lane): the curl transport serializes a client's
// calls anyway, so a second one in flight would only hold a libuv thread.
class RpcClient {
  constructor({ url, username, password, timeoutMs } = {}) {
    this.handle = null;
    this.lane = new Lane();
    this.handle = check(native.icms_binding_rpc_curl(null, strArg(url, 'url'), strArg(username, 'username'),
      strArg(password, 'password'), Number(timeoutMs ?? 0)));
  }

  get closed() { return this.handle === null; }

  live() {
    if (this.handle === null) throw new errorClasses.InvalidError('the RPC client is closed', native.ICMS_EINVALID);
    return this.handle;
  }

  // InvalidError while a callAsync()/checkPaymentAsync() is pending.
  call(method, arg = null, arg2 = null, n = 0) {
    const handle = this.live();
    this.lane.refuseSync(`${method}()`);
    // As on the worker: the message read on failure is this call's (an
    // unknown method records none, and would show an older call's).
    native.icms_error_clear();
    return parsed(check(native.icms_binding_rpc_call(handle, method, strArg(arg, 'argument'),
      strArg(arg2, 'argument'), Number(n), null)));
  }

  // call() on a worker thread: a Promise of the same answer, rejected with
  // the same errors. Queues behind the async calls still pending.
  callAsync(method, arg = null, arg2 = null, n = 0) {
    return this.lane.push(() => work.rpcCall(this.live().getCPtr(), method, strArg(arg, 'argument'),
      strArg(arg2, 'argument'), Number(n)).then((r) => parsed(settled(r)[1])));
  }

  getblockcount() { return this.call('getblockcount').height; }
  getblockhash(height) { return this.call('getblockhash', null, null, height).hash; }
  getblock(hash) { return Buffer.from(this.call('getblock', hash).hex, 'hex'); }
  getblockheader(hash) { return Buffer.from(this.call('getblockheader', hash).hex, 'hex'); }
  // {raw (Buffer), txid, confirmations, in_block, blockhash, blocktime, outputs: [{n, value, script, address?}]}
  getrawtransaction(txid, blockHash = null) {
    const tx = this.call('getrawtransaction', txid, blockHash);
    tx.raw = Buffer.from(tx.raw, 'hex');
    return tx;
  }
  gettxoutproof(txid, blockHash = null) { return Buffer.from(this.call('gettxoutproof', txid, blockHash).hex, 'hex'); }
  getnewaddress() { return this.call('getnewaddress').address; }
  validateaddress(address) { return this.call('validateaddress', address); }

  // icms_rpc_check_payment: {status, amount, vouts, confirmations, blockhash,
  // is_coinbase, spv_verified, verified_depth, pow}; a status is an answer.
  checkPayment({ txid, minAmount, address = null, script = null, network = 0, minConfirmations = 1,
    spv = false, minDifficulty = 0, blockHash = null } = {}) {
    const handle = this.live();
    if (script !== null && !Buffer.isBuffer(script)) throw new TypeError('script is a Buffer');
    this.lane.refuseSync('checkPayment()');
    native.icms_error_clear();
    return parsed(check(native.icms_binding_rpc_check_payment(handle, strArg(txid, 'txid'), script,
      strArg(address, 'address'), network, Number(minAmount), Number(minConfirmations), spv ? 1 : 0,
      Number(minDifficulty), strArg(blockHash, 'blockHash'), null)));
  }

  // checkPayment() on a worker thread: a Promise of the same answer.
  checkPaymentAsync({ txid, minAmount, address = null, script = null, network = 0, minConfirmations = 1,
    spv = false, minDifficulty = 0, blockHash = null } = {}) {
    return this.lane.push(() => {
      const handle = this.live();
      if (script !== null && !Buffer.isBuffer(script)) throw new TypeError('script is a Buffer');
      return work.rpcCheckPayment(handle.getCPtr(), strArg(txid, 'txid'), script, strArg(address, 'address'),
        network, Number(minAmount), Number(minConfirmations), spv ? 1 : 0, Number(minDifficulty),
        strArg(blockHash, 'blockHash')).then((r) => parsed(settled(r)[1]));
    });
  }

  // Idempotent. While an async call is pending, the C client is freed when the last settles.
  close() {
    if (this.handle !== null) {
      const handle = this.handle;
      this.handle = null;
      this.lane.whenIdle(() => native.icms_rpc_client_free(handle));
    }
  }
}

// SWIG's JavaScript wrappers skip their cleanup when an argument fails to
// convert, which would leave an earlier secret's C copy unwiped: the Auth
// methods check every argument's type here first, so the addon's
// conversions cannot fail.
function strArg(v, what) {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new TypeError(`${what} is a string`);
  return v;
}
function secretArg(v, what) {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' && !Buffer.isBuffer(v)) throw new TypeError(`${what} is a string or a Buffer`);
  return v;
}

// An icms_auth handle: token issuance and verification over one Database.
//
// options: masterKey (a 32-byte Buffer: the library keeps its own copy,
// wiped when the handle is freed; fill yours with zeros when done), issuer,
// audience, and optionally accessTtlMs, refreshTtlMs, leewayMs,
// passwordOpslimit, passwordMemlimit (0 or absent: the library's default).
// Passwords and refresh tokens may be strings or Buffers: the addon copies
// them into C memory it wipes after the call (a Buffer can then be wiped by
// its owner; a JavaScript string cannot). Token pairs come back as objects
// of strings. close() is idempotent; the Database closes its Auth handles.
class Auth {
  constructor(db, options = {}) {
    if (!(db instanceof Database)) throw new TypeError('db is an icms.Database');
    if (!Buffer.isBuffer(options.masterKey)) throw new TypeError('masterKey is a Buffer (32 bytes)');
    this.db = db;
    this.handle = null;
    this.handle = check(native.icms_binding_auth_new(null, db.live(), options.masterKey,
      strArg(options.issuer, 'issuer'), strArg(options.audience, 'audience'), Number(options.accessTtlMs ?? 0),
      Number(options.refreshTtlMs ?? 0), Number(options.leewayMs ?? 0),
      options.passwordOpslimit ?? 0, options.passwordMemlimit ?? 0));
    db.auths.add(this);
  }

  get closed() { return this.handle === null; }

  live() {
    if (this.handle === null || this.db.closed) {
      throw new errorClasses.InvalidError('the auth handle is closed', native.ICMS_EINVALID);
    }
    return this.handle;
  }

  // icms_auth_login_external: a token pair.
  login_external(actor, { provider, subject, email, emailVerified, name, device } = {}) {
    return parsed(check(native.icms_binding_auth_login_external(this.live(), reqOf(actor),
      strArg(provider, 'provider'), strArg(subject, 'subject'), strArg(email, 'email'),
      emailVerified ? 1 : 0, strArg(name, 'name'), strArg(device, 'device'), null)));
  }

  // icms_auth_link_identity: {user_id, provider, linked: true}.
  link_identity(actor, { provider, subject } = {}) {
    return parsed(check(native.icms_binding_auth_link_identity(this.live(), reqOf(actor),
      strArg(provider, 'provider'), strArg(subject, 'subject'), null)));
  }

  // icms_auth_password_set (password: a string or a Buffer).
  password_set(actor, userId, password) {
    check(native.icms_binding_auth_password_set(this.live(), reqOf(actor), strArg(userId, 'userId'),
      secretArg(password, 'password')));
  }

  // icms_auth_login_password: a token pair.
  login_password(actor, { email, password, device, source } = {}) {
    return parsed(check(native.icms_binding_auth_login_password(this.live(), reqOf(actor),
      strArg(email, 'email'), secretArg(password, 'password'), strArg(device, 'device'),
      strArg(source, 'source'), null)));
  }

  // icms_auth_refresh: a new pair; the refresh token given is spent.
  refresh(actor, refreshToken) {
    return parsed(check(native.icms_binding_auth_refresh(this.live(), reqOf(actor),
      secretArg(refreshToken, 'refreshToken'), null)));
  }

  // icms_auth_verify: the access token's claims, or UnauthenticatedError.
  verify(accessToken) {
    return parsed(check(native.icms_binding_auth_verify(this.live(),
      secretArg(accessToken, 'accessToken'), null)));
  }

  // icms_auth_rotate_keys: {kid, retired: [...]}.
  rotate_keys(actor) {
    return parsed(check(native.icms_auth_rotate_keys(this.live(), reqOf(actor), null)));
  }

  // icms_auth_jwks: the public signing keys as a JWKS document.
  jwks() { return parsed(check(native.icms_auth_jwks(this.live(), null))); }

  close() {
    if (this.handle !== null) {
      native.icms_auth_free(this.handle);
      this.handle = null;
      this.db.auths.delete(this);
    }
  }
}

// Audit checkpoint keys (icms_audit_keypair): {publicKey, secretKey}, Buffers
// of 32 and 64 bytes. Keep the secret key out of the store; fill it with
// zeros when done.
const audit = {
  keypair() {
    const publicKey = Buffer.alloc(native.ICMS_AUDIT_PUBLIC_KEY_BYTES);
    const secretKey = Buffer.alloc(native.ICMS_AUDIT_SECRET_KEY_BYTES);
    check(native.icms_audit_keypair(publicKey, secretKey));
    return { publicKey, secretKey };
  },
};

function reqOf(actor) {
  if (!(actor instanceof Request)) {
    throw new TypeError('the first argument is the acting Request (icms.HOST, icms.Request.user(id), ...)');
  }
  return actor.native;
}

// The request's fields as async.node copies them: [actorKind, actorId, ..., accessToken].
function requestFields(actor) {
  reqOf(actor); // the same TypeError as the synchronous methods
  return FIELDS.map((k) => (k === 'actorKind' ? actor.fields.actorKind : actor.fields[k] ?? null));
}

for (const name of COMMANDS) {
  const fn = native[`icms_${name}`];
  const method = {
    [name](actor, ...args) {
      return parsed(check(fn(this.live(), reqOf(actor), ...args.map(arg), null)));
    },
  }[name];
  Object.defineProperty(Database.prototype, name, { value: method, writable: true });
  // The same command on a libuv worker: a promise of the same answer or error.
  const asyncName = `${name}_async`;
  const asyncMethod = {
    [asyncName](actor, ...args) {
      return this.running.run(() => work.command(this.live().getCPtr(), name, requestFields(actor),
        args.map((a) => strArg(arg(a), 'argument'))).then((r) => parsed(settled(r)[1])));
    },
  }[asyncName];
  Object.defineProperty(Database.prototype, asyncName, { value: asyncMethod, writable: true });
}

function open(file, options) { return new Database(file, options); }

// OAuth 2.0 / PKCE helpers (icms/auth.h): pure, throw UnauthenticatedError on a mismatch.
const auth = {
  stateNew: () => check(native.icms_auth_state_new(null)),
  stateCheck: (expected, received) => { check(native.icms_auth_state_check(expected, received)); },
  pkceVerifierNew: () => check(native.icms_auth_pkce_verifier_new(null)),
  pkceChallenge: (verifier) => check(native.icms_auth_pkce_challenge(verifier, null)),
  pkceCheck: (verifier, challenge) => { check(native.icms_auth_pkce_check(verifier, challenge)); },
};

// Gapcoin decoding (icms/gapcoin.h). network: 0 mainnet (default), 1 testnet;
// node: the generation whose address forms are shown (0 for 0.9.x, 1 for
// 0.16.3, 2 for 2606, the default).
const gapcoin = {
  MAINNET: native.ICMS_GAPCOIN_MAIN,
  TESTNET: native.ICMS_GAPCOIN_TEST,
  NODE_0_9: native.ICMS_GAPCOIN_NODE_0_9,
  NODE_0_16: native.ICMS_GAPCOIN_NODE_0_16,
  NODE_2606: native.ICMS_GAPCOIN_NODE_2606,
  // A serialized transaction (a Buffer) as an object: txid, wtxid, version,
  // locktime, size, base_size, has_witness, coinbase, total_out (BigInt),
  // inputs, outputs (value BigInt, script hex, type, address when it has one).
  txDecode(raw, { network = 0, node = native.ICMS_GAPCOIN_NODE_2606 } = {}) {
    return parsed(check(native.icms_binding_gapcoin_tx_json(raw, network, node, null)));
  },
  // A serialized header (a Buffer) as an object (hashes in display order, adder in hex).
  headerDecode(raw) { return parsed(check(native.icms_binding_gapcoin_header_json(raw, null))); },
  // The output script (a Buffer) an address expects.
  addressToScript(address, network = 0) {
    return Buffer.from(check(native.icms_binding_gapcoin_address_to_script_hex(address, network, null)), 'hex');
  },
  // The address a node shows for an output script (a Buffer); NotFoundError when none.
  scriptToAddress(script, { network = 0, node = native.ICMS_GAPCOIN_NODE_2606 } = {}) {
    return check(native.icms_binding_gapcoin_script_to_address(script, network, node, null));
  },
};

module.exports = {
  gapcoin,
  open, Database, Request, HOST, SYSTEM, ANONYMOUS, IcmsError, ...errorClasses, auth, Auth, audit,
  Subscription, NatsPublisher, RateLimiter, RpcClient, natsAvailable: () => native.icms_nats_available() === 1,
  version: () => native.icms_version(),
  parseJSON: json.parse, stringifyJSON: json.stringify,
  native,
};
