'use strict';
// What the async suites share (not a suite itself: node --test finds no test here).
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const net = require('net');
const readline = require('readline');
const e2e = require('../examples/end_to_end');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HELPER = path.join(ROOT, 'tests/bindings/nats_helper.py');

function tmpdir(t, prefix = 'icms-node-async-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startNode(t) {
  const { proc, node } = await e2e.startNode(tmpdir(t));
  t.after(() => e2e.stopNode(proc));
  return node;
}

// How many times a 10 ms interval fired while fn's promise was pending.
async function ticksDuring(fn) {
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 10);
  const started = Date.now();
  try {
    const value = await fn();
    return { value, ticks, ms: Date.now() - started };
  } catch (error) {
    return { error, ticks, ms: Date.now() - started };
  } finally {
    clearInterval(timer);
  }
}

// The synchronous twin: the interval cannot fire while the loop is blocked.
async function ticksDuringSync(fn) {
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 10);
  try {
    try { fn(); } catch { /* only the ticks matter here */ }
    return ticks; // read before the loop gets a turn
  } finally {
    clearInterval(timer);
  }
}

// (libcurl's message says how long the connect took: "after 2 ms".)
const timeless = (message) => message.replace(/\b\d+ ms\b/g, 'N ms');
const sameError = (got, want) => {
  assert.ok(got instanceof want.constructor, `${got && got.name} is not ${want.name}`);
  assert.equal(got.code, want.code);
  assert.equal(timeless(got.message), timeless(want.message));
};

const syncError = (fn) => {
  try { fn(); } catch (e) { return e; }
  assert.fail('no error');
};

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function startNats(t, dir) {
  const proc = spawn('/usr/bin/python3', [HELPER, 'serve', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => new Promise((resolve) => { proc.once('exit', resolve); proc.stdin.end(); }));
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: proc.stdout });
    rl.once('line', (line) => { rl.close(); resolve(JSON.parse(line)); });
    proc.once('error', reject);
  });
}

module.exports = { tmpdir, startNode, ticksDuring, ticksDuringSync, timeless, sameError, syncError,
  freePort, startNats };
