// Drives the tokenstile WebAssembly module from Node (20 or newer) through its C ABI,
// and cross-checks it against node:crypto. Exits non-zero if any check fails.
//
//   cargo build --release && node run.mjs [path/to/tokenstile_wasm.wasm]
//
// Without a path it loads the module from the cargo target directory ($CARGO_TARGET_DIR,
// or ./target).

import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const wasmPath =
  process.argv[2] ??
  join(process.env.CARGO_TARGET_DIR ?? join(here, 'target'),
    'wasm32-unknown-unknown', 'release', 'tokenstile_wasm.wasm');

// Must match `Code` in src/lib.rs.
const Code = {
  Busy: -1, Input: -2, NoKey: -3, Key: -4, Encode: -5, Malformed: -6,
  Algorithm: -7, Signature: -8, Expired: -9, Claims: -10, SessionId: -11, NoSession: -12,
  StoreFull: -13, SubjectTooLong: -14, Store: -15,
};
const codeName = (code) => Object.keys(Code).find((k) => Code[k] === code) ?? String(code);

// The module's only import: randomness, from the Web Crypto API that Node provides.
const randomRequests = [];
const host = {
  fill_random(ptr, len) {
    randomRequests.push(len);
    crypto.getRandomValues(new Uint8Array(wasm.memory.buffer, ptr, len));
  },
};

const bytes = await readFile(wasmPath);
const { instance } = await WebAssembly.instantiate(bytes, { host });
const wasm = instance.exports;

const enc = new TextEncoder();
const dec = new TextDecoder();
const io = () => new Uint8Array(wasm.memory.buffer, wasm.io_buffer(), wasm.io_capacity());
const put = (data) => {
  const b = typeof data === 'string' ? enc.encode(data) : data;
  io().set(b);
  return b.length;
};
const take = (len) => dec.decode(io().slice(0, len));
const lastError = () => take(wasm.error_text());

// --- the checks ----------------------------------------------------------------------

let failed = 0;
let passed = 0;
function check(what, ok, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`ok    ${what}${detail ? `: ${detail}` : ''}`);
  } else {
    failed += 1;
    console.log(`FAIL  ${what}${detail ? `: ${detail}` : ''}`);
  }
}

const b64url = (b) => Buffer.from(b).toString('base64url');
const hmac = (key, input) => createHmac('sha256', key).update(input).digest();
const nodeSign = (key, header, payload) => {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(hmac(key, input))}`;
};
/** Verifies `token` in the module at `now`: the subject, or an error code. */
function verify(token, now) {
  const r = wasm.verify(put(token), BigInt(now));
  return r >= 0 ? { sub: take(r) } : { code: r, text: lastError() };
}
function expectRefused(what, token, now, code) {
  const r = verify(token, now);
  check(`${what} refused with ${codeName(code)}`, r.code === code,
    r.code === undefined ? `accepted as ${r.sub}` : `${codeName(r.code)} (${r.text})`);
}

console.log(`module: ${wasmPath} (${bytes.length} bytes)`);
const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
check('the only import is host.fill_random',
  imports.length === 1 && imports[0].module === 'host' && imports[0].name === 'fill_random',
  JSON.stringify(imports.map((i) => `${i.module}.${i.name}`)));

const now = Math.floor(Date.now() / 1000);
const key = crypto.getRandomValues(new Uint8Array(32));

check('a 31-byte key is refused', wasm.set_key(put(key.subarray(0, 31))) === Code.Key, lastError());
check('verify before any key reports NoKey', wasm.verify(put('a.b.c'), BigInt(now)) === Code.NoKey);
check('a random 32-byte key is set', wasm.set_key(put(key)) === 0);

// Sign in wasm, check the MAC with node:crypto.
const len = wasm.sign(put('alice'), BigInt(now), BigInt(now + 900));
check('sign', len > 0, len > 0 ? `${len} bytes` : lastError());
const token = take(len);
const [h, p, s] = token.split('.');
check('header is {"alg":"HS256","typ":"JWT"}',
  Buffer.from(h, 'base64url').toString() === '{"alg":"HS256","typ":"JWT"}');
const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
check('payload holds sub, iat, exp',
  claims.sub === 'alice' && claims.iat === now && claims.exp === now + 900, JSON.stringify(claims));
const mac = Buffer.from(s, 'base64url');
check('signature equals node:crypto HMAC-SHA-256 of header.payload',
  mac.length === 32 && timingSafeEqual(mac, hmac(key, `${h}.${p}`)));

// Verify in wasm: its own token, and one node:crypto signed.
const own = verify(token, now);
check('verify the module\'s token', own.sub === 'alice', own.sub ?? own.text);
const fromNode = nodeSign(key, { alg: 'HS256', typ: 'JWT' }, { sub: 'bob', exp: now + 60 });
const theirs = verify(fromNode, now);
check('verify a token node:crypto signed', theirs.sub === 'bob', theirs.sub ?? theirs.text);

// Refusals.
const flip = (c) => (c === 'A' ? 'B' : 'A');
const tampered = `${h}.${p.slice(0, 4)}${flip(p[4])}${p.slice(5)}.${s}`;
expectRefused('a tampered payload', tampered, now, Code.Signature);
// A signature segment of the wrong length is a malformed token, not a MAC mismatch.
expectRefused('a truncated signature', token.slice(0, -1), now, Code.Malformed);
expectRefused('a signature of the right length and the wrong value',
  `${h}.${p}.${flip(s[0])}${s.slice(1)}`, now, Code.Signature);
expectRefused('two segments', `${h}.${p}`, now, Code.Malformed);
expectRefused('the token at its exp', token, now + 900, Code.Expired);
const otherKey = crypto.getRandomValues(new Uint8Array(32));
expectRefused('a token signed with another key',
  nodeSign(otherKey, { alg: 'HS256', typ: 'JWT' }, { sub: 'mallory', exp: now + 60 }),
  now, Code.Signature);
expectRefused('alg "none"',
  `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(JSON.stringify({ sub: 'mallory', exp: now + 60 }))}.`,
  now, Code.Algorithm);
expectRefused('a token without exp',
  nodeSign(key, { alg: 'HS256', typ: 'JWT' }, { sub: 'bob' }), now, Code.Claims);

// Sessions: IDs from the host's randomness, kept in the module's fixed-capacity store.
function session(fn, arg, ...rest) {
  const r = wasm[fn](put(arg), ...rest);
  return r >= 0 ? { value: take(r), n: r } : { code: r, text: lastError() };
}
randomRequests.length = 0;
const created = session('session_create', 'carol', BigInt(now));
const id = created.value ?? '';
check('session_create', created.code === undefined, created.value ?? created.text);
check('the ID is 43 characters of base64url', /^[A-Za-z0-9_-]{43}$/.test(id));
const raw = Buffer.from(id, 'base64url');
check('it decodes to 32 bytes and re-encodes to itself',
  raw.length === 32 && raw.toString('base64url') === id);
check('its randomness came from the host: one request for 32 bytes',
  randomRequests.length === 1 && randomRequests[0] === 32, JSON.stringify(randomRequests));
const other = session('session_create', 'dave', BigInt(now)).value;
check('a second session gets another ID', typeof other === 'string' && other !== id);

const loaded = session('session_load', id, BigInt(now + 60));
check('session_load a minute later', loaded.value === 'carol', loaded.value ?? loaded.text);
// 43 characters carry 258 bits: the last character's 2 low bits are unused and must be
// zero. Setting one spells the same 32 bytes for a lenient decoder (Node's is one).
const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const otherSpelling = id.slice(0, -1) + alphabet[alphabet.indexOf(id.at(-1)) | 1];
check('Node decodes another spelling of the ID to the same bytes',
  Buffer.from(otherSpelling, 'base64url').equals(raw));
const r1 = session('session_load', otherSpelling, BigInt(now + 60));
check('the module refuses that spelling as malformed', r1.code === Code.SessionId,
  `${codeName(r1.code)} (${r1.text})`);
const r2 = session('session_load', id.slice(0, 42), BigInt(now + 60));
check('a truncated ID is refused as malformed', r2.code === Code.SessionId, r2.text);
const guessed = b64url(crypto.getRandomValues(new Uint8Array(32)));
const r3 = session('session_load', guessed, BigInt(now + 60));
check('a well-formed ID nobody was given finds nothing', r3.code === Code.NoSession, r3.text);
const idle = session('session_load', other, BigInt(now + 31 * 60));
check('after 31 idle minutes the session is over', idle.code === Code.NoSession, idle.text);

const destroyed = session('session_destroy', id);
check('session_destroy', destroyed.n === 1);
const after = session('session_load', id, BigInt(now + 120));
check('the ID right after destroy is refused', after.code === Code.NoSession, after.text);
check('destroying it again finds nothing', session('session_destroy', id).n === 0);

// The store has room for 64 sessions; dave's is still live at `now`.
let made = 0;
let full;
for (let i = 0; i < 100 && full === undefined; i += 1) {
  const r = session('session_create', `user-${i}`, BigInt(now));
  if (r.code === undefined) made += 1; else full = r;
}
check('a full store refuses a new session instead of dropping a live one',
  made === 63 && full?.code === Code.StoreFull, `${made} created, then ${full?.text}`);

console.log(`\nwasm: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
