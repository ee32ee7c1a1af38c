/**
 * `GET /`: the live dashboard, one page of plain HTML, CSS and JavaScript. It
 * polls `/stats` every second and tails a subject or pattern through
 * `/client.js` over `/ws`. When `/stats` is closed (the server has a
 * passphrase), it asks for the passphrase and reads the counters over `/ws`
 * instead, proving it there as any client does: the page itself shows
 * nothing of what flows through the server.
 */

import { DASHBOARD_SCRIPT as SCRIPT } from "./dashboard_script.ts";

const STYLE = `
:root { color-scheme: dark; --bg: #0f1419; --panel: #171e26; --line: #263140; --text: #d7dee7;
  --dim: #8593a3; --accent: #4fb3ff; --good: #4cd08a; --bad: #ff6b6b; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 20px;
  border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 18px; }
header .meta { color: var(--dim); font-size: 13px; }
#status { margin-left: auto; font-size: 13px; }
#status.up::before { content: "\\25CF "; color: var(--good); }
#status.down::before { content: "\\25CF "; color: var(--bad); }
#cluster { padding: 6px 20px; font-size: 13px; color: var(--dim); border-bottom: 1px solid var(--line); }
#cluster.up::before { content: "\\25CF "; color: var(--good); }
#cluster.down::before { content: "\\25CF "; color: var(--bad); }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px;
  padding: 16px 20px; }
section.wide { grid-column: 1 / -1; }
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
#subscribers td:nth-child(-n+2) { max-width: 260px; }
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
<div id="cluster" hidden></div>
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
  <section class="wide">
    <h2>Subscribers</h2>
    <div class="scroll">
      <table id="subscribers">
        <thead><tr><th>connection</th><th>subscriptions</th><th>groups</th><th>policy</th>
          <th class="n" title="events waiting / queue size">queue</th><th class="n">delivered</th>
          <th class="n">dropped</th><th class="n">published</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <section class="wide">
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
