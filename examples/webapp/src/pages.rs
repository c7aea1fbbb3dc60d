//! The HTML pages: plain strings, with every user-supplied value escaped.

use axum::response::Html;

use crate::User;

const STYLE: &str = "<style>
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } .muted { color: #666; font-size: .9rem; }
form { margin: 1rem 0; } input, button { font: inherit; padding: .4rem .6rem; margin: .2rem 0; }
input[type=text], input[type=password] { width: 16rem; display: block; }
.card { border: 1px solid #ddd; border-radius: .5rem; padding: 1rem 1.2rem; margin: 1rem 0; }
.error { color: #a00; } .row { display: flex; gap: .8rem; flex-wrap: wrap; }
pre { background: #f5f5f5; padding: .6rem; white-space: pre-wrap; word-break: break-all; }
</style>";

/// `text` with HTML's special characters escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content='width=device-width'><title>{title}</title>{STYLE}</head>\
         <body>{body}</body></html>"
    )
}

pub(crate) async fn index() -> Html<String> {
    Html(page(
        "tokenstile demo",
        "<h1>tokenstile demo</h1>\
         <div class=card><h2>Sessions</h2><p>A random ID in an <code>HttpOnly</code>, \
         <code>SameSite=Strict</code> <code>__Host-</code> cookie; the state on the server.</p>\
         <a href=/login>Log in with a form</a></div>\
         <div class=card><h2>JWT</h2><p>A short-lived signed token in the page's memory, sent \
         as <code>Authorization: Bearer</code> and renewed with an <code>HttpOnly</code> \
         refresh cookie; logout ends it at once, in the same store.</p>\
         <a href=/spa>Open the single page</a></div>\
         <p class=muted>Demo users: alice / wonderland, bob / builder.</p>",
    ))
}

pub(crate) fn login(error: Option<&str>) -> String {
    let error = error.map_or_else(String::new, |e| {
        format!("<p class=error id=error>{}</p>", escape(e))
    });
    page(
        "Log in",
        &format!(
            "<h1>Log in</h1>{error}\
             <form method=post action=/login id=login>\
             <label>User name <input type=text name=username autocomplete=username required></label>\
             <label>Password <input type=password name=password autocomplete=current-password required></label>\
             <button type=submit>Log in</button></form>\
             <p class=muted>Demo users: alice / wonderland, bob / builder. \
             <a href=/spa>The JWT single page</a></p>"
        ),
    )
}

pub(crate) fn dashboard(user: &User) -> String {
    let note = if user.note.is_empty() {
        "<em>no note yet</em>".to_owned()
    } else {
        escape(&user.note)
    };
    page(
        "Dashboard",
        &format!(
            "<h1>Dashboard</h1>\
             <p id=who>Signed in as <strong>{display}</strong> ({name}) with a session cookie.</p>\
             <div class=card><h2>Your note</h2><p id=note>{note}</p>\
             <form method=post action=/note id=note-form>\
             <input type=text name=note maxlength=200 placeholder='A new note'>\
             <button type=submit>Save</button></form></div>\
             <div class=row>\
             <form method=post action=/logout id=logout><button type=submit>Log out</button></form>\
             <form method=post action=/logout-everywhere id=logout-everywhere>\
             <button type=submit>Log out everywhere</button></form></div>\
             <p class=muted>The cookie is <code>HttpOnly</code>: <code>document.cookie</code> \
             here is <code id=doc-cookie></code>.</p>\
             <script>document.getElementById('doc-cookie').textContent = \
             JSON.stringify(document.cookie);</script>",
            display = escape(&user.display),
            name = escape(&user.name),
        ),
    )
}

pub(crate) async fn spa() -> Html<&'static str> {
    Html(SPA)
}

/// The JWT single page: plain JavaScript, no build step. The access token lives in a
/// variable of the page (never in `localStorage`, where every script of the origin reads
/// it); the refresh token in an `HttpOnly` cookie that only `/auth/...` requests carry.
const SPA: &str = r#"<!doctype html>
<html lang=en><head><meta charset=utf-8><meta name=viewport content='width=device-width'>
<title>JWT single page</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
input, button { font: inherit; padding: .4rem .6rem; margin: .2rem 0; }
input { width: 16rem; display: block; } .card { border: 1px solid #ddd; border-radius: .5rem; padding: 1rem 1.2rem; margin: 1rem 0; }
pre { background: #f5f5f5; padding: .6rem; white-space: pre-wrap; word-break: break-all; } .muted { color: #666; font-size: .9rem; }
</style></head>
<body>
<h1>JWT single page</h1>
<div class=card id=login-card>
  <form id=login>
    <label>User name <input id=username autocomplete=username required></label>
    <label>Password <input id=password type=password autocomplete=current-password required></label>
    <button type=submit>Log in via /auth/login</button>
  </form>
</div>
<div class=card>
  <p>Access token (in memory only): <code id=has-token></code>; refreshes: <span id=refreshes>0</span></p>
  <button id=me>GET /api/me</button>
  <button id=logout>Log out (this device)</button>
  <button id=logout-everywhere>Log out everywhere</button>
</div>
<p>Last answer: <strong id=status>none</strong></p>
<pre id=result></pre>
<p class=muted>Demo users: alice / wonderland, bob / builder. The refresh token is in an
<code>HttpOnly</code> cookie sent to <code>/auth/...</code> only. <a href=/login>The session flow</a></p>
<script>
const $ = (id) => document.getElementById(id);
const show = (status, body) => { $('status').textContent = String(status); $('result').textContent = body; };
// The access token: a variable, so a reload forgets it (the refresh cookie brings a new one).
let accessToken = null;
let refreshes = 0;
const setToken = (token) => {
  accessToken = token;
  $('has-token').textContent = token ? token.slice(0, 16) + '…' : 'none';
};
// One request with `token` (null: no header), no refresh; returns the status.
async function call(method, path, token) {
  const headers = token ? { Authorization: 'Bearer ' + token } : {};
  const response = await fetch(path, { method, headers });
  show(response.status, await response.text());
  return response.status;
}
// Gets a new access token with the refresh cookie; one refresh at a time in this page. A
// 409 means another tab refreshed the same cookie a moment ago: its answer brings the
// browser the new cookie, so wait a moment and try again. A 401 means the family is over:
// logged out.
let refreshing = null;
function refresh() {
  refreshing ??= (async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200));
      const response = await fetch('/auth/refresh', { method: 'POST' });
      if (response.ok) {
        setToken((await response.json()).access_token);
        $('refreshes').textContent = String(++refreshes);
        return true;
      }
      if (response.status === 401) setToken(null);
      if (response.status !== 409) return false;
    }
    return false;
  })().finally(() => { refreshing = null; });
  return refreshing;
}
// Calls the API with the access token; on 401 (expired or revoked), refreshes once and
// retries once.
async function api(method, path) {
  const status = await call(method, path, accessToken);
  if (status !== 401 || !(await refresh())) return status;
  return call(method, path, accessToken);
}
$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  await refreshing; // the refresh of the page load, if still on its way
  const response = await fetch('/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: $('username').value, password: $('password').value }),
  });
  const text = await response.text();
  if (response.ok) { setToken(JSON.parse(text).access_token); show(response.status, 'logged in'); }
  else show(response.status, text);
});
$('me').addEventListener('click', () => api('GET', '/api/me'));
$('logout').addEventListener('click', async () => {
  const response = await fetch('/auth/logout', { method: 'POST' });
  show(response.status, 'logged out');
  if (response.ok) setToken(null);
});
$('logout-everywhere').addEventListener('click', async () => {
  if (await api('POST', '/api/logout-everywhere') !== 204) return;
  // Every family is over; this clears the dead refresh cookie.
  await fetch('/auth/logout', { method: 'POST' });
  setToken(null);
});
// For the browser tests: a call with a given token, and a refresh on demand.
window.demo = { api, call, refresh };
// A reload keeps the user logged in, through the refresh cookie.
setToken(null);
refresh().then((ok) => {
  if (ok) show(200, 'logged in (refresh cookie)');
  document.body.dataset.ready = 'yes';
});
</script>
</body></html>
"#;
