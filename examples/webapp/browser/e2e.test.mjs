// End-to-end tests of the demo web app in a real, headless Chromium (Debian's package),
// driven by playwright-core. Started by `.ci/browser`, which runs the app on each store in
// turn (Redis, PostgreSQL, MariaDB) and sets:
//   APP_PORT     the app, served as http://localhost:APP_PORT
//   ATTACK_PORT  a free port for the attacker pages (another site: 127.0.0.1, and
//                another origin of the same site: localhost on this port)
//   SHOTS_DIR    where the screenshots go
//   ACCESS_LIFETIME  the app's --access-lifetime (seconds; it runs with --leeway 0)
//   STORE_NAME   the store's name, for messages
//   STORE_PID    the PID of the store's server, which the last test stops
//   STORE_SIGNAL the signal that stops that server and closes its connections (SIGTERM by
//                default; PostgreSQL needs SIGINT, as SIGTERM waits for its clients)
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const APP_PORT = Number(process.env.APP_PORT);
const ATTACK_PORT = Number(process.env.ATTACK_PORT);
const SHOTS_DIR = process.env.SHOTS_DIR ?? 'target/browser';
const APP = `http://localhost:${APP_PORT}`;
const COOKIE = '__Host-session';
const REFRESH = '__Secure-refresh';
const ACCESS_LIFETIME = Number(process.env.ACCESS_LIFETIME ?? 900);

assert.ok(APP_PORT && ATTACK_PORT, 'APP_PORT and ATTACK_PORT must be set');

const profiles = [];

/** A browser with a new, empty profile of its own. */
async function profile() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenstile-e2e-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-gpu',
    ],
    viewport: { width: 900, height: 700 },
  });
  profiles.push({ context, dir });
  return context;
}

/** The attacker's pages, keyed by path; served on ATTACK_PORT. */
const attackerPages = {
  // Auto-submits a form that would change the user's note.
  '/form': `<!doctype html><form id=f method=post action="${APP}/note">
    <input name=note value="pwned by form"></form><script>document.getElementById('f').submit()</script>`,
  // A fetch that would do the same (no-cors: the attacker can't read the answer anyway).
  '/fetch': `<!doctype html><p id=done>sending</p><script>
    fetch("${APP}/note", { method: 'POST', mode: 'no-cors', credentials: 'include',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'note=pwned+by+fetch' })
      .finally(() => { document.getElementById('done').textContent = 'sent'; });
  </script>`,
  // Log the user out everywhere.
  '/everywhere': `<!doctype html><form id=f method=post action="${APP}/logout-everywhere"></form>
    <script>document.getElementById('f').submit()</script>`,
};

let attacker;
before(async () => {
  attacker = http.createServer((req, res) => {
    const page = attackerPages[new URL(req.url, 'http://x').pathname];
    res.writeHead(page ? 200 : 404, { 'Content-Type': 'text/html' });
    res.end(page ?? 'not found');
  });
  await new Promise((resolve) => attacker.listen(ATTACK_PORT, '127.0.0.1', resolve));
  fs.mkdirSync(SHOTS_DIR, { recursive: true });
});

after(async () => {
  for (const { context, dir } of profiles) {
    await context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  attacker?.close();
});

/** Logs in through the HTML form and lands on the dashboard. */
async function formLogin(page, user = 'alice', password = 'wonderland') {
  await page.goto(`${APP}/login`);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(`${APP}/dashboard`), page.click('#login button')]);
}

async function sessionCookie(context) {
  return (await context.cookies(APP)).find((c) => c.name === COOKIE);
}

/** The note on the dashboard, as the user sees it. */
async function note(page) {
  await page.goto(`${APP}/dashboard`);
  return page.textContent('#note');
}

let alice; // profile 1
let aliceElsewhere; // profile 2

test('login through the form sets a __Host- cookie that scripts cannot see', async () => {
  alice = await profile();
  const page = await alice.newPage();

  await page.goto(`${APP}/login`);
  await page.fill('input[name=username]', 'alice');
  await page.fill('input[name=password]', 'not her password');
  const refused = await Promise.all([page.waitForResponse(`${APP}/login`), page.click('#login button')]);
  assert.equal(refused[0].status(), 401);
  assert.match(await page.textContent('#error'), /Wrong user name or password/);
  assert.equal(await sessionCookie(alice), undefined);

  await formLogin(page);
  assert.match(await page.textContent('#who'), /Signed in as Alice/);
  const cookie = await sessionCookie(alice);
  assert.ok(cookie, 'the session cookie is stored');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.path, '/');
  assert.equal(cookie.domain, 'localhost', 'host-only, no Domain');
  assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/);

  const visible = await page.evaluate(() => document.cookie);
  assert.ok(!visible.includes(COOKIE), `document.cookie shows ${visible}`);
  assert.equal(await page.textContent('#doc-cookie'), '""');
  await page.screenshot({ path: path.join(SHOTS_DIR, 'dashboard.png'), fullPage: true });
});

test('two tabs share the session; logout in one refuses the other at once, and the old cookie replayed by hand', async () => {
  const first = await alice.newPage();
  const second = await alice.newPage();
  await first.goto(`${APP}/dashboard`);
  await second.goto(`${APP}/dashboard`);
  assert.match(await second.textContent('#who'), /Signed in as Alice/);
  const old = (await sessionCookie(alice)).value;

  await Promise.all([first.waitForURL(`${APP}/login`), first.click('#logout button')]);
  assert.equal(await sessionCookie(alice), undefined, 'the cookie is cleared');

  await second.goto(`${APP}/dashboard`);
  assert.equal(second.url(), `${APP}/login`, 'the second tab is sent to the login page');
  const api = await second.evaluate(async () => (await fetch('/api/session')).status);
  assert.equal(api, 401);

  // The old cookie value, sent by hand.
  const replay = await fetch(`${APP}/api/session`, { headers: { Cookie: `${COOKIE}=${old}` } });
  assert.equal(replay.status, 401);
  const page = await fetch(`${APP}/dashboard`, {
    headers: { Cookie: `${COOKIE}=${old}`, Accept: 'text/html' },
    redirect: 'manual',
  });
  assert.equal(page.status, 303);
  assert.equal(page.headers.get('location'), '/login');
  // And sent again by the browser.
  const replayed = [];
  second.on('request', (r) => replayed.push(r.allHeaders()));
  await second.setExtraHTTPHeaders({ Cookie: `${COOKIE}=${old}` });
  await second.goto(`${APP}/dashboard`);
  const sent = (await Promise.all(replayed)).map((h) => h.cookie ?? '');
  assert.ok(sent.some((c) => c.includes(old)), 'the browser sent the old value');
  assert.equal(second.url(), `${APP}/login`);
  await first.close();
  await second.close();
});

test('log out everywhere ends the session in a second browser profile', async () => {
  aliceElsewhere = await profile();
  const here = await alice.newPage();
  const there = await aliceElsewhere.newPage();
  await formLogin(here);
  await formLogin(there);
  assert.notEqual((await sessionCookie(alice)).value, (await sessionCookie(aliceElsewhere)).value);

  await Promise.all([here.waitForURL(`${APP}/login`), here.click('#logout-everywhere button')]);
  await there.goto(`${APP}/dashboard`);
  assert.equal(there.url(), `${APP}/login`, 'the other profile is logged out');
  await here.close();
  await there.close();
});

/** Opens an attacker page and returns the requests it made to the app's /note. */
async function attack(page, url) {
  const requests = [];
  const seen = (request) => {
    if (request.url() === `${APP}/note`) requests.push(request);
  };
  page.on('request', seen);
  const answered = page.waitForResponse(`${APP}/note`);
  await page.goto(url);
  const response = await answered;
  await page.waitForLoadState('load');
  page.off('request', seen);
  assert.equal(requests.length, 1, `one request to /note from ${url}`);
  return { request: requests[0], response };
}

test('another site cannot act for the user: SameSite=Strict keeps the cookie home', async () => {
  const page = await alice.newPage();
  await formLogin(page);
  await page.fill('#note-form input[name=note]', 'written by alice');
  await Promise.all([page.waitForURL(`${APP}/dashboard`), page.click('#note-form button')]);
  assert.equal(await note(page), 'written by alice');

  // 127.0.0.1 is another site than localhost.
  for (const kind of ['/form', '/fetch']) {
    const { request } = await attack(page, `http://127.0.0.1:${ATTACK_PORT}${kind}`);
    const headers = await request.allHeaders();
    assert.equal(request.method(), 'POST');
    assert.ok(!(headers.cookie ?? '').includes(COOKIE), `${kind}: no session cookie was sent`);
    assert.equal(headers['sec-fetch-site'], 'cross-site');
  }
  assert.equal(await note(page), 'written by alice', 'the note is unchanged');
  await page.close();
});

test('another origin of the same site gets the cookie, and the server refuses it', async () => {
  const page = await alice.newPage();
  // localhost on another port: same site (ports don't make a site), another origin.
  for (const kind of ['/form', '/fetch']) {
    const { request, response } = await attack(page, `http://localhost:${ATTACK_PORT}${kind}`);
    const headers = await request.allHeaders();
    assert.ok((headers.cookie ?? '').includes(COOKIE), `${kind}: the browser did send the cookie`);
    assert.equal(headers['sec-fetch-site'], 'same-site');
    assert.equal(response.status(), 403, `${kind}: refused by the origin check`);
  }
  // Log-out-everywhere from there is refused too.
  const answered = page.waitForResponse(`${APP}/logout-everywhere`);
  await page.goto(`http://localhost:${ATTACK_PORT}/everywhere`);
  assert.equal((await answered).status(), 403);
  assert.equal(await note(page), 'written by alice', 'the note is unchanged');
  assert.match(await page.textContent('#who'), /Signed in as Alice/, 'still logged in');
  await page.close();
});

/** Opens the single page in `context` and waits for the refresh it tries on load. */
async function openSpa(context) {
  const page = await context.newPage();
  await page.goto(`${APP}/spa`);
  await page.waitForSelector('body[data-ready]');
  return page;
}

/** Logs in on the single page; returns the page and the access token of the answer. */
async function spaLogin(context) {
  const page = await openSpa(context);
  await page.fill('#username', 'alice');
  await page.fill('#password', 'wonderland');
  const [answer] = await Promise.all([
    page.waitForResponse(`${APP}/auth/login`),
    page.click('#login button'),
  ]);
  assert.equal(answer.status(), 200);
  await page.waitForFunction(() => document.getElementById('has-token').textContent !== 'none');
  return { page, token: (await answer.json()).access_token };
}

/** Refreshes from the page; returns the new access token. */
async function spaRefresh(page) {
  const [answer, ok] = await Promise.all([
    page.waitForResponse(`${APP}/auth/refresh`),
    page.evaluate(() => window.demo.refresh()),
  ]);
  assert.equal(ok, true, `refresh answered ${answer.status()}`);
  return (await answer.json()).access_token;
}

async function refreshCookie(context) {
  return (await context.cookies(`${APP}/auth/refresh`)).find((c) => c.name === REFRESH);
}

/** Calls /api/me from the page with `token` (null: no header), no refresh; returns the status. */
async function me(page, token) {
  return page.evaluate((t) => window.demo.call('GET', '/api/me', t), token);
}

/** Clicks "GET /api/me" and waits for the page to show alice's answer. */
async function clickMe(page) {
  await page.evaluate(() => { document.getElementById('result').textContent = ''; });
  await page.click('#me');
  await page.waitForFunction(() => document.getElementById('result').textContent.includes('"sub":"alice"'));
}

/** Whether `token` is still before its `exp`: a refusal then is not expiry. */
const unexpired = (token) =>
  Date.now() / 1000 < JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).exp;

/** Waits past the current second: a log-out-everywhere revokes the tokens issued up to
 * and including its second. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1100));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('the single page: access token in memory, refresh token in an HttpOnly cookie for /auth only', async () => {
  await nextSecond(); // the log-out-everywhere of the session tests revoked alice's tokens too
  const { page, token } = await spaLogin(alice);
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
  const cookie = await refreshCookie(alice);
  assert.ok(cookie, 'the refresh cookie is stored');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.path, '/auth');
  assert.match(cookie.value, /^[A-Za-z0-9_-]{86}$/);
  assert.ok(!(await page.evaluate(() => document.cookie)).includes(REFRESH));

  // The API call carries the access token, never the refresh cookie.
  const [request] = await Promise.all([page.waitForRequest(`${APP}/api/me`), clickMe(page)]);
  const headers = await request.allHeaders();
  assert.ok(headers.authorization?.startsWith('Bearer '));
  assert.ok(!(headers.cookie ?? '').includes(REFRESH), 'no refresh token on API calls');
  assert.equal(await page.textContent('#status'), '200');
  await page.screenshot({ path: path.join(SHOTS_DIR, 'spa.png'), fullPage: true });

  assert.equal(await me(page, token), 200);
  assert.equal(await me(page, null), 401);
  const i = token.length - 10;
  const tampered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
  assert.equal(await me(page, tampered), 401);

  // A reload forgets the access token; the refresh cookie brings a new one.
  await page.reload();
  await page.waitForSelector('body[data-ready]');
  assert.notEqual(await page.textContent('#has-token'), 'none', 'still logged in after a reload');
  assert.notEqual((await refreshCookie(alice)).value, cookie.value, 'the refresh token was replaced');
  await page.close();
});

test('silent refresh: an expired access token is renewed once and the call retried', async () => {
  const { page, token } = await spaLogin(alice);
  const seen = [];
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (/^\/(api|auth)\//.test(url.pathname)) seen.push(`${url.pathname} ${r.status()}`);
  });
  const before = Number(await page.textContent('#refreshes'));
  await sleep(ACCESS_LIFETIME * 1000 + 500);
  assert.ok(!unexpired(token), 'the access token has expired');
  await clickMe(page);
  assert.equal(await page.textContent('#status'), '200');
  assert.deepEqual(seen, ['/api/me 401', '/auth/refresh 200', '/api/me 200']);
  assert.equal(await page.textContent('#refreshes'), String(before + 1), 'one silent refresh');
  assert.equal(await me(page, token), 401, 'the expired token stays refused');
  await page.close();
});

// Whether the two requests overlap is up to the browser: if they do, the loser gets 409
// and retries; if not, both get 200. The 409 itself is checked deterministically in
// integrations/axum/tests/refresh.rs.
test('two tabs refreshing at once both stay logged in, whichever way their requests interleave', async () => {
  const { page: first } = await spaLogin(alice);
  const second = await openSpa(alice); // its load refresh rotated the cookie once already
  const statuses = [];
  for (const page of [first, second]) {
    page.on('response', (r) => r.url().endsWith('/auth/refresh') && statuses.push(r.status()));
  }
  const [a, b] = await Promise.all([
    first.evaluate(() => window.demo.refresh()),
    second.evaluate(() => window.demo.refresh()),
  ]);
  assert.deepEqual([a, b], [true, true], `refresh answers: ${statuses}`);
  assert.ok(statuses.every((s) => s === 200 || s === 409), `${statuses}`);
  const token = await spaRefresh(first);
  assert.equal(await me(first, token), 200, 'the family lives on');
  await first.close();
  await second.close();
});

test('logout ends the family: its access tokens are refused at once, in every tab', async () => {
  const { page, token } = await spaLogin(alice);
  const other = await openSpa(alice); // the same browser: the same family
  const otherToken = await spaRefresh(other);
  assert.equal(await me(page, token), 200);
  assert.equal(await me(other, otherToken), 200);

  const [answer] = await Promise.all([page.waitForResponse(`${APP}/auth/logout`), page.click('#logout')]);
  assert.equal(answer.status(), 204);
  assert.equal(await refreshCookie(alice), undefined, 'the refresh cookie is cleared');
  assert.equal(await me(page, token), 401, 'refused at once');
  assert.equal(await me(other, otherToken), 401, 'in the other tab too');
  assert.ok(unexpired(token) && unexpired(otherToken), 'refused before they expired');
  // The other tab's refresh finds no family: it is logged out.
  await other.click('#me');
  await other.waitForFunction(() => document.getElementById('has-token').textContent === 'none');
  assert.equal(await other.textContent('#status'), '401');
  await page.close();
  await other.close();
});

test('a reused refresh token ends the family: the thief and the user are both logged out', async () => {
  const { page } = await spaLogin(alice);
  const stolen = (await refreshCookie(alice)).value;
  await spaRefresh(page);
  const token = await spaRefresh(page); // the stolen token is now two refreshes old
  assert.equal(await me(page, token), 200);

  // The thief presents the stolen token, from outside the browser.
  const replay = await fetch(`${APP}/auth/refresh`, {
    method: 'POST',
    headers: { Cookie: `${REFRESH}=${stolen}` },
  });
  assert.equal(replay.status, 401);
  assert.match(replay.headers.get('set-cookie'), /^__Secure-refresh=;.*Max-Age=0/);

  assert.equal(await me(page, token), 401, "the user's access token is refused at once");
  assert.ok(unexpired(token), 'refused before it expired');
  await page.click('#me');
  await page.waitForFunction(() => document.getElementById('has-token').textContent === 'none');
  assert.equal(await page.textContent('#status'), '401', "the user's refresh token is dead too");
  assert.equal(await refreshCookie(alice), undefined);
  await page.close();
});

test('log out everywhere from the single page ends the other profile too', async () => {
  const { page } = await spaLogin(alice);
  const elsewhere = await spaLogin(aliceElsewhere);
  assert.equal(await me(elsewhere.page, elsewhere.token), 200);
  await page.click('#logout-everywhere');
  await page.waitForFunction(() => document.getElementById('has-token').textContent === 'none');
  assert.equal(await refreshCookie(alice), undefined);
  assert.equal(await me(elsewhere.page, elsewhere.token), 401, 'every token of alice is refused');
  await elsewhere.page.click('#me');
  await elsewhere.page.waitForFunction(() => document.getElementById('has-token').textContent === 'none');
  await page.close();
  await elsewhere.page.close();
});

const STORE_NAME = process.env.STORE_NAME ?? 'the store';

test(`with ${STORE_NAME} down: 503, never logged in, no internals shown`, async () => {
  const storePid = Number(process.env.STORE_PID);
  const signal = process.env.STORE_SIGNAL ?? 'SIGTERM';
  assert.ok(storePid, 'STORE_PID must be set');
  const page = await aliceElsewhere.newPage();
  await formLogin(page);
  await nextSecond(); // after the log-out-everywhere of the test before
  const spa = await spaLogin(aliceElsewhere);
  const token = await spaRefresh(spa.page); // fresh: still valid when asked below
  assert.equal(await me(spa.page, token), 200);

  process.kill(storePid, signal);
  let stopped = false;
  for (let i = 0; i < 100 && !stopped; i++) {
    try { process.kill(storePid, 0); } catch { stopped = true; break; }
    await sleep(100);
  }
  assert.ok(stopped, `${STORE_NAME} (PID ${storePid}) still runs 10 s after ${signal}`);

  assert.ok(unexpired(token));
  assert.equal(await me(spa.page, token), 503, 'no token is accepted while revocations cannot be checked');
  const refreshed = await spa.page.evaluate(async () => (await fetch('/auth/refresh', { method: 'POST' })).status);
  assert.equal(refreshed, 503);
  assert.ok(await refreshCookie(aliceElsewhere), 'the refresh cookie is kept');

  const dashboard = await page.goto(`${APP}/dashboard`);
  assert.equal(dashboard.status(), 503);
  assert.equal(await page.textContent('body'), 'service unavailable, try again later\n');

  const fresh = await profile();
  const login = await fresh.newPage();
  await login.goto(`${APP}/login`);
  await login.fill('input[name=username]', 'bob');
  await login.fill('input[name=password]', 'builder');
  const [answer] = await Promise.all([login.waitForResponse(`${APP}/login`), login.click('#login button')]);
  assert.equal(answer.status(), 503);
  assert.equal(await sessionCookie(fresh), undefined, 'never logged in');
});
