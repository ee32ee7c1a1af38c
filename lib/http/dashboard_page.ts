/**
 * `GET /`: the live dashboard, one page of plain HTML, CSS and JavaScript. It
 * polls `/stats` every second and tails a subject or pattern through
 * `/client.js` over `/ws`. When `/stats` is closed (the server has a
 * passphrase), it asks for the passphrase and reads the counters over `/ws`
 * instead, proving it there as any client does: the page itself shows
 * nothing of what flows through the server.
 */

const STYLE = `
:root { color-scheme: dark; --bg: #0f1419; --panel: #171e26; --line: #263140; --text: #d7dee7;
  --dim: #8593a3; --accent: #4fb3ff; --good: #4cd08a; --bad: #ff6b6b; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 20px;
  border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 18px; }
header .meta { color: var(--dim); font-size: 13px; }
#status { margin-left: auto; font-size: 13px; }
#status.up::before { content: "\\25CF "; color: var(--good); }
#status.down::before { content: "\\25CF "; color: var(--bad); }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px;
  padding: 16px 20px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  padding: 12px 14px; min-width: 0; }
section h2 { margin: 0 0 10px; font-size: 13px; text-transform: uppercase; letter-spacing: .06em;
  color: var(--dim); font-weight: 600; }
section h2 .meta { text-transform: none; letter-spacing: 0; font-weight: 400; margin-left: 8px; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; margin-bottom: 10px; }
.card { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
.card .v { font-size: 20px; font-variant-numeric: tabular-nums; }
.card .l { color: var(--dim); font-size: 12px; }
svg { width: 100%; height: 120px; display: block; background: var(--bg); border-radius: 6px;
  border: 1px solid var(--line); }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line);
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 220px; }
#subscribers td:nth-child(-n+2) { max-width: 150px; }
th { color: var(--dim); font-weight: 500; font-size: 12px; }
td.n, th.n { text-align: right; }
td.bad { color: var(--bad); }
.empty { color: var(--dim); font-style: italic; }
.scroll { max-height: 320px; overflow: auto; }
form { display: flex; gap: 8px; flex-wrap: wrap; margin-bottom: 8px; }
input, select, button { background: var(--bg); color: var(--text); border: 1px solid var(--line);
  border-radius: 5px; padding: 5px 8px; font: inherit; }
input#tail-what { flex: 1; min-width: 160px; }
button { background: var(--accent); color: #04121f; border: none; font-weight: 600; cursor: pointer; }
#tail-log { font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; height: 260px;
  overflow: auto; background: var(--bg); border: 1px solid var(--line); border-radius: 6px;
  padding: 6px 8px; margin: 0; white-space: pre-wrap; word-break: break-all; }
#tail-log .s { color: var(--accent); }
#tail-log .t { color: var(--dim); }
#tail-state { color: var(--dim); font-size: 12px; }
header form { margin: 0; }
`;

const SCRIPT = `
const $ = (id) => document.getElementById(id);
const HISTORY = 60;
const rates = [];

function fmt(n) {
  if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (n >= 1e4) return (n / 1e3).toFixed(1) + "k";
  return String(Math.round(n * 10) / 10);
}

function uptime(ms) {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (s % 60) + "s";
}

function cell(row, value, cls) {
  const td = row.insertCell();
  td.textContent = value;
  td.title = value;
  if (cls) td.className = cls;
  return td;
}

function fill(tbody, items, columns, empty) {
  tbody.replaceChildren();
  if (items.length === 0) {
    const td = tbody.insertRow().insertCell();
    td.colSpan = columns;
    td.className = "empty";
    td.textContent = empty;
  }
  return items;
}

function drawChart() {
  const svg = $("chart");
  const w = 600, h = 120, max = Math.max(1, ...rates);
  const step = w / (HISTORY - 1);
  const offset = HISTORY - rates.length;
  const points = rates.map((r, i) => ((offset + i) * step).toFixed(1) + "," +
    (h - 6 - (r / max) * (h - 20)).toFixed(1));
  $("chart-line").setAttribute("points", points.join(" "));
  $("chart-area").setAttribute("points", points.length
    ? (offset * step).toFixed(1) + "," + h + " " + points.join(" ") + " " + w + "," + h : "");
  $("chart-max").textContent = fmt(max) + " ev/s";
  svg.setAttribute("aria-label", "events per second, last " + rates.length + " s");
}

function render(s) {
  $("meta").textContent = s.uri + " · v" + s.version + " · up " + uptime(s.uptimeMs) +
    " · queue " + s.queueSize + (s.blockQueue ? " (block)" : " (drop)");
  $("rate-now").textContent = fmt(s.rate);
  $("connections").textContent = fmt(s.connections);
  $("published").textContent = fmt(s.totals.events);
  $("dropped").textContent = fmt(s.totals.dropped);
  rates.push(s.rate);
  if (rates.length > HISTORY) rates.shift();
  drawChart();

  const subjects = fill($("subjects").tBodies[0], s.subjects, 3, "no subjects yet");
  for (const x of subjects) {
    const row = $("subjects").tBodies[0].insertRow();
    row.dataset.subject = x.subject;
    cell(row, x.subject);
    cell(row, fmt(x.rate), "n rate");
    cell(row, fmt(x.published), "n");
  }
  $("subject-count").textContent = s.exactSubjects + " subscribed subjects, " + s.patterns +
    " patterns";

  const subs = fill($("subscribers").tBodies[0], s.subscribers, 6, "no subscribers");
  for (const x of subs) {
    const row = $("subscribers").tBodies[0].insertRow();
    cell(row, "#" + x.id + " " + x.remote).title = (x.client || "client") + " at " + x.remote;
    cell(row, [...x.subjects, ...x.patterns.map((p) => "/" + p + "/")].join(" "));
    cell(row, fmt(x.queueDepth), "n");
    cell(row, fmt(x.delivered), "n");
    cell(row, fmt(x.dropped), x.dropped ? "n bad" : "n");
    cell(row, fmt(x.published), "n");
  }
}

// Set once /stats is closed: the counters then come over /ws, from a client that proved the passphrase.
let statsClient;
let locked = false;

function showLocked(message) {
  locked = true;
  $("auth-form").hidden = false;
  $("status").className = "down";
  $("status").textContent = message;
}

async function unlock(ident) {
  const { connect } = await import("/client.js");
  try {
    statsClient = await connect(ident ? { ident } : {});
    locked = false;
    $("auth-form").hidden = true;
    if (ident) $("tail-ident").value = ident;
  } catch (error) {
    if (error.name !== "AuthenticationError") throw error;
    showLocked(ident ? "wrong passphrase" : "locked: this server has a passphrase");
  }
}

async function fetchStats() {
  if (statsClient) return await statsClient.stats();
  const response = await fetch("/stats", { cache: "no-store" });
  if (response.status === 401) {
    await unlock("");
    return statsClient ? await statsClient.stats() : undefined;
  }
  if (!response.ok) throw new Error("HTTP " + response.status);
  return await response.json();
}

async function poll() {
  if (locked) return;
  try {
    const stats = await fetchStats();
    if (stats === undefined) return;
    render(stats);
    $("status").className = "up";
    $("status").textContent = "live";
  } catch (error) {
    $("status").className = "down";
    $("status").textContent = "unreachable (" + error.message + ")";
  }
}

$("auth-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("status").textContent = "checking…";
  await unlock($("auth-ident").value).catch((error) => showLocked("error: " + error.message));
  poll();
});

let tail;

function line(event) {
  const log = $("tail-log");
  const div = document.createElement("div");
  const t = document.createElement("span");
  t.className = "t";
  t.textContent = new Date(event.time).toISOString().slice(11, 23) + " ";
  const s = document.createElement("span");
  s.className = "s";
  s.textContent = event.subject;
  let msg;
  try {
    msg = JSON.stringify(event.msg);
  } catch {
    msg = String(event.msg);
  }
  div.append(t, s, " " + msg);
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.append(div);
  while (log.childElementCount > 500) log.firstElementChild.remove();
  if (atBottom) log.scrollTop = log.scrollHeight;
}

async function stopTail() {
  const current = tail;
  tail = undefined;
  $("tail-go").textContent = "Tail";
  if (current) await current.close().catch(() => {});
}

async function startTail(what, mode, ident) {
  await stopTail();
  const { connect } = await import("/client.js");
  const options = ident ? { ident } : {};
  $("tail-state").textContent = "connecting…";
  try {
    const client = await connect(options);
    tail = client;
    const sub = mode === "pattern"
      ? await client.subscribeMatch(what)
      : await client.subscribe(what.split(/\\s+/).filter(Boolean));
    $("tail-go").textContent = "Stop";
    $("tail-state").textContent = "tailing " + (mode === "pattern" ? "/" + what + "/" : what);
    for await (const event of sub) line(event);
  } catch (error) {
    $("tail-state").textContent = "error: " + error.message;
    await stopTail();
  }
}

$("tail-form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (tail) {
    stopTail();
    $("tail-state").textContent = "stopped";
    return;
  }
  const what = $("tail-what").value.trim();
  if (!what) return;
  startTail(what, $("tail-mode").value, $("tail-ident").value);
});

poll();
setInterval(poll, 1000);
`;

/** The dashboard page. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>es dashboard</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>es</h1>
  <span class="meta" id="meta">loading…</span>
  <form id="auth-form" hidden>
    <input id="auth-ident" type="password" autocomplete="current-password" placeholder="passphrase" aria-label="passphrase">
    <button type="submit">Unlock</button>
  </form>
  <span id="status">connecting…</span>
</header>
<main>
  <section>
    <h2>Events per second</h2>
    <div class="cards">
      <div class="card"><div class="v" id="rate-now">–</div><div class="l">events/s now</div></div>
      <div class="card"><div class="v" id="published">–</div><div class="l">events published</div></div>
      <div class="card"><div class="v" id="connections">–</div><div class="l">connections</div></div>
      <div class="card"><div class="v" id="dropped">–</div><div class="l">events dropped</div></div>
    </div>
    <svg id="chart" viewBox="0 0 600 120" preserveAspectRatio="none" role="img">
      <polygon id="chart-area" fill="#4fb3ff22" points=""></polygon>
      <polyline id="chart-line" fill="none" stroke="#4fb3ff" stroke-width="2" points=""></polyline>
      <text id="chart-max" x="594" y="14" fill="#8593a3" font-size="11" text-anchor="end"></text>
    </svg>
  </section>
  <section>
    <h2>Subjects <span id="subject-count" class="meta"></span></h2>
    <div class="scroll">
      <table id="subjects">
        <thead><tr><th>subject</th><th class="n">events/s</th><th class="n">published</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <section>
    <h2>Subscribers</h2>
    <div class="scroll">
      <table id="subscribers">
        <thead><tr><th>connection</th><th>subscriptions</th><th class="n">queue</th>
          <th class="n">delivered</th><th class="n">dropped</th><th class="n">published</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <section>
    <h2>Live tail</h2>
    <form id="tail-form">
      <select id="tail-mode" aria-label="what to tail">
        <option value="pattern">pattern</option>
        <option value="subject">subjects</option>
      </select>
      <input id="tail-what" placeholder="regular expression, e.g. ^stock\\." value=".*" aria-label="subject or pattern">
      <input id="tail-ident" type="password" autocomplete="off" placeholder="passphrase (if any)" aria-label="passphrase">
      <button id="tail-go" type="submit">Tail</button>
    </form>
    <div id="tail-state">not tailing</div>
    <pre id="tail-log"></pre>
  </section>
</main>
<script type="module">${SCRIPT}</script>
</body>
</html>
`;
