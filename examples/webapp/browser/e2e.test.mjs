// End-to-end tests of the demo web app in a real, headless Chromium (Debian's package),
// driven by playwright-core. Started by `.ci/browser`, which runs the app on Redis and sets:
//   APP_PORT     the app, served as http://localhost:APP_PORT
//   ATTACK_PORT  a free port for the attacker pages (another site: 127.0.0.1, and
//                another origin of the same site: localhost on this port)
//   SHOTS_DIR    where the screenshots go
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

/** Logs in on the single page; returns the page and its token. */
async function spaLogin(context) {
  const page = await context.newPage();
  await page.goto(`${APP}/spa`);
  // A token an earlier test left in this profile must not pass for the new one.
  await page.evaluate(() => localStorage.removeItem('token'));
  await page.fill('#username', 'alice');
  await page.fill('#password', 'wonderland');
  await page.click('#login button');
  await page.waitForFunction(() => localStorage.getItem('token') !== null);
  return { page, token: await page.evaluate(() => localStorage.getItem('token')) };
}

/** Calls /api/me from the page with `token` (null: no header); returns the status. */
async function me(page, token) {
  return page.evaluate((t) => window.api('GET', '/api/me', t), token);
}

/** Waits past the current second: a log-out-everywhere revokes the tokens issued up to
 * and including its second. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1100));

test('the single page: 200 with the token, 401 without, 403 tampered, 403 after logout, log out everywhere', async () => {
  await nextSecond(); // the log-out-everywhere of the session tests revoked alice's tokens too
  const { page, token } = await spaLogin(alice);
  await page.click('#me');
  await page.waitForFunction(() => document.getElementById('status').textContent === '200');
  assert.match(await page.textContent('#result'), /"sub":"alice"/);
  await page.screenshot({ path: path.join(SHOTS_DIR, 'spa.png'), fullPage: true });

  assert.equal(await me(page, token), 200);
  assert.equal(await me(page, null), 401);
  const i = token.length - 10;
  const tampered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
  assert.equal(await me(page, tampered), 403);

  const elsewhere = await spaLogin(aliceElsewhere);
  assert.equal(await me(elsewhere.page, elsewhere.token), 200);

  await page.click('#logout');
  await page.waitForFunction(() => localStorage.getItem('token') === null);
  assert.equal(await me(page, token), 403, 'the logged-out token is refused at once');
  assert.equal(await me(elsewhere.page, elsewhere.token), 200, 'the other profile still works');

  // Log in again in the first profile and log out everywhere from there.
  const again = await spaLogin(alice);
  await again.page.click('#logout-everywhere');
  await again.page.waitForFunction(() => localStorage.getItem('token') === null);
  assert.equal(await me(elsewhere.page, elsewhere.token), 403, 'every token of alice is refused');
  assert.equal(await me(again.page, again.token), 403);
});

test('with Redis down: 503, never logged in, no internals shown', async () => {
  const redisPid = Number(process.env.REDIS_PID);
  assert.ok(redisPid, 'REDIS_PID must be set');
  const page = await aliceElsewhere.newPage();
  await formLogin(page);
  await nextSecond(); // after the log-out-everywhere of the test before
  const spa = await spaLogin(aliceElsewhere);
  assert.equal(await me(spa.page, spa.token), 200);

  process.kill(redisPid, 'SIGTERM');
  for (let i = 0; i < 50; i++) {
    try { process.kill(redisPid, 0); } catch { break; }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const dashboard = await page.goto(`${APP}/dashboard`);
  assert.equal(dashboard.status(), 503);
  assert.equal(await page.textContent('body'), 'service unavailable, try again later\n');
  assert.equal(await me(spa.page, spa.token), 503, 'no token is accepted while revocations cannot be checked');

  const fresh = await profile();
  const login = await fresh.newPage();
  await login.goto(`${APP}/login`);
  await login.fill('input[name=username]', 'bob');
  await login.fill('input[name=password]', 'builder');
  const [answer] = await Promise.all([login.waitForResponse(`${APP}/login`), login.click('#login button')]);
  assert.equal(answer.status(), 503);
  assert.equal(await sessionCookie(fresh), undefined, 'never logged in');
});
