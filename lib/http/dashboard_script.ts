/**
 * The dashboard's JavaScript (see dashboard_page.ts): it polls the counters
 * once a second (from `/stats`, or over `/ws` once the passphrase is proven),
 * renders them, and tails a subject or pattern through `/client.js`.
 */

/** The script of the dashboard page, run as a module. */
export const DASHBOARD_SCRIPT = `
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

  const subs = fill($("subscribers").tBodies[0], s.subscribers, 8, "no subscribers");
  for (const x of subs) {
    const row = $("subscribers").tBodies[0].insertRow();
    row.dataset.id = (x.worker ?? 0) + "/" + x.id;
    cell(row, "#" + x.id + " " + x.remote).title = (x.client || "client") + " at " + x.remote;
    cell(row, [...x.subjects, ...x.patterns.map((p) => "/" + p + "/")].join(" "));
    cell(row, (x.groups ?? []).join(" "), "groups");
    cell(row, x.overflow, "policy");
    // How full its queue is: events waiting of the queue's size.
    const used = x.queueSize ? x.queueDepth / x.queueSize : 0;
    cell(row, fmt(x.queueDepth) + "/" + fmt(x.queueSize), used >= 0.9 ? "n fill bad" : "n fill");
    cell(row, fmt(x.delivered), "n");
    cell(row, fmt(x.dropped), x.dropped ? "n bad" : "n");
    cell(row, fmt(x.published), "n");
  }
  renderCluster(s.cluster);
}

/** The cluster line: shown only when the server is part of one. */
function renderCluster(c) {
  const line = $("cluster");
  line.hidden = !c;
  if (!c) return;
  const peers = Array.isArray(c.peers) ? c.peers : [];
  line.className = c.connected ? "up" : "down";
  line.textContent = "cluster " + (c.connected ? "connected" : "not connected to NATS") +
    " · " + peers.length + " peer" + (peers.length === 1 ? "" : "s") +
    (peers.length ? " (" + peers.join(", ") + ")" : "") +
    " · cross-node drops " + fmt(c.dropped ?? 0) +
    (c.notSent ? " · not sent " + fmt(c.notSent) : "");
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
