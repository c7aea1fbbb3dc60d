// Times `sign` and `verify` in the WebAssembly module under Node (20 or newer), or compares
// two builds of it in the same process:
//
//   cargo build --release && node bench.mjs                 # this build
//   node bench.mjs before.wasm after.wasm                   # two builds, paired
//
// Each round times a batch of each operation in each module, alternating which goes
// first, so that a disturbance of the machine falls on both sides of a round alike. It
// prints the median time per operation of each module over the rounds and, for two
// modules, the median over the rounds of the second's time divided by the first's, with
// its interquartile range. Timings, not counts: run it on a quiet machine, and compare
// builds in one run rather than across runs. ROUNDS=n in the environment sets the number
// of rounds (201 by default; CI runs 3, to see that it works).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const defaultPath = join(process.env.CARGO_TARGET_DIR ?? join(here, 'target'),
  'wasm32-unknown-unknown', 'release', 'tokenstile_wasm.wasm');
const paths = process.argv.length > 2 ? process.argv.slice(2) : [defaultPath];
if (paths.length > 2) throw new Error('usage: node bench.mjs [first.wasm [second.wasm]]');

const ROUNDS = Number(process.env.ROUNDS ?? 201);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) {
  throw new Error(`ROUNDS must be a positive integer, not ${process.env.ROUNDS}`);
}
const BATCH = 500;
const NOW = 1_700_000_000n;
const enc = new TextEncoder();

async function load(path) {
  let exports;
  const host = {
    fill_random(ptr, len) {
      crypto.getRandomValues(new Uint8Array(exports.memory.buffer, ptr, len));
    },
  };
  const { instance } = await WebAssembly.instantiate(await readFile(path), { host });
  exports = instance.exports;
  const io = () => new Uint8Array(exports.memory.buffer, exports.io_buffer(), exports.io_capacity());
  const put = (bytes) => { io().set(bytes); return bytes.length; };
  const expect = (what, code) => {
    if (code < 0) throw new Error(`${path}: ${what} failed with code ${code}`);
    return code;
  };
  expect('set_key', exports.set_key(put(enc.encode('a 32-byte secret for benchmarks!'))));
  const subject = enc.encode('user-42');
  const tokenLen = expect('sign', exports.sign(put(subject), NOW, NOW + 3600n));
  const token = io().slice(0, tokenLen);
  expect('verify', exports.verify(put(token), NOW));
  // Each batch checks every result, so that a failing call is never timed as a fast one.
  return {
    path,
    sign() {
      let failed = 0;
      for (let i = 0; i < BATCH; i += 1) failed |= exports.sign(put(subject), NOW, NOW + 3600n) < 0;
      if (failed) throw new Error(`${path}: sign failed`);
    },
    verify() {
      let failed = 0;
      for (let i = 0; i < BATCH; i += 1) failed |= exports.verify(put(token), NOW) < 0;
      if (failed) throw new Error(`${path}: verify failed`);
    },
  };
}

const time = (f) => {
  const start = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - start) / BATCH;
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

const modules = [];
for (const path of paths) modules.push(await load(path));
for (const op of ['sign', 'verify']) {
  const times = modules.map(() => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = round % 2 === 0 ? modules.keys() : [...modules.keys()].reverse();
    for (const m of order) times[m].push(time(() => modules[m][op]()));
  }
  // The first rounds warm the engine up; they are timed but not counted.
  const counted = times.map((t) => t.slice(Math.floor(ROUNDS / 10)));
  counted.forEach((t, m) => {
    console.log(`${op.padEnd(6)} ${quantile(t, 0.5).toFixed(0).padStart(6)} ns  ${modules[m].path}`);
  });
  if (modules.length === 2) {
    const ratios = counted[1].map((t, i) => t / counted[0][i]);
    const [low, mid, high] = [0.25, 0.5, 0.75].map((q) => quantile(ratios, q).toFixed(3));
    console.log(`${op.padEnd(6)} second / first: ${mid} [${low}-${high}]`);
  }
}
