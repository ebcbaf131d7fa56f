// The operator dashboard at /dashboard: one HTML page with one inline ES module, no build step.
// The page itself holds nothing secret; every figure comes from operator routes, called with the
// operator key typed in (kept in sessionStorage, so it goes when the tab closes). It polls every
// few seconds. Drain and undrain ask for a confirmation first; a message id is looked up in any app.
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pushmesh dashboard</title>
<link rel="stylesheet" href="/dashboard/assets/uPlot.min.css">
<style>body{font:14px system-ui,sans-serif;margin:1.5rem;max-width:72rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.draining{color:#a60}tr.stale{color:#999}#status{color:#555}.empty{color:#777;font-style:italic}#charts{display:grid;grid-template-columns:1fr 1fr;gap:1rem}input{width:24rem}</style></head>
<body>
<h1>pushmesh dashboard</h1>
<form id="login"><label>Operator key <input id="key" type="password" autocomplete="off" required></label> <button>Sign in</button></form>
<p><button id="logout" hidden>Sign out</button> <span id="status">signed out</span></p>
<main id="main" hidden>
<h2>Relays</h2><div id="nodes"></div>
<h2>The last hour</h2><div id="charts"></div>
<h2>Message lookup</h2>
<form id="lookup"><label>Message id <input id="message-id" autocomplete="off" required></label> <button>Look up</button></form>
<div id="message"></div>
<h2>Apps</h2><div id="apps"></div>
<h2>Audit log</h2><div id="audit"></div>
</main>
<script type="module">
const KEY = "pushmesh-operator-key";
const POLL_MS = 5000;
const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children.map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return node;
};
const when = (ms) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);
const table = (head, rows) => el("table", {}, el("tr", {}, ...head.map((h) => el("th", {}, h))), ...rows);

async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { authorization: "Bearer " + sessionStorage.getItem(KEY), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = res.status === 204 ? null : await res.json().catch(() => null);
  return { status: res.status, body: answer };
}

function nodeRow(node) {
  const action = el("button", { "data-node": node.id }, node.draining ? "Undrain" : "Drain");
  action.onclick = async () => {
    const verb = node.draining ? "Take " + node.id + " back into service?" : "Drain " + node.id + "? Its devices will be moved to other relays.";
    if (!confirm(verb)) return;
    const res = await call("POST", "/v1/nodes/" + encodeURIComponent(node.id) + "/drain", { draining: !node.draining });
    if (res.status !== 200) $("status").textContent = "drain failed: " + res.status + " " + JSON.stringify(res.body);
    await refresh();
  };
  const state = node.stale ? "stale" : node.draining ? "draining" : "serving";
  return el("tr", { class: state, id: "node-" + node.id },
    el("td", {}, node.id), el("td", { class: "state" }, state), el("td", { class: "n" }, node.connections), el("td", { class: "n" }, node.capacity),
    el("td", { class: "n" }, node.load.toFixed(2)), el("td", {}, node.version), el("td", { class: "n" }, node.weight),
    el("td", {}, when(node.updatedAt)), el("td", {}, action));
}

function showNodes(nodes) {
  const regions = Map.groupBy(nodes, (n) => n.region);
  const parts = [...regions.keys()].sort().flatMap((region) => {
    const list = regions.get(region);
    const connections = list.reduce((sum, n) => sum + n.connections, 0);
    return [el("h3", {}, region + " (" + list.length + " relays, " + connections + " connections)"),
      table(["relay", "state", "connections", "capacity", "load", "version", "weight", "last report", ""], list.map(nodeRow))];
  });
  $("nodes").replaceChildren(...(parts.length ? parts : [el("p", { class: "empty" }, "no relays registered")]));
}

function showApps(apps, stats) {
  const byApp = new Map((stats ?? []).map((s) => [s.appId, s]));
  const ms = (v) => (v === null || v === undefined ? "–" : v.toFixed(0) + " ms");
  const row = (a) => {
    const s = byApp.get(a.appId);
    const figures = s
      ? [s.messages, s.states.delivered, s.states.pending, s.states.expired + s.states.failed, ms(s.latencyMs.p50), ms(s.latencyMs.p99)]
      : ["–", "–", "–", "–", "–", "–"];
    return el("tr", { "data-app": a.appId }, el("td", {}, a.appId), el("td", {}, a.name), el("td", {}, when(a.createdAt)), ...figures.map((f) => el("td", {}, String(f))));
  };
  $("apps").replaceChildren(apps.length
    ? table(["app", "name", "created", "messages (1 h)", "delivered", "pending", "expired or failed", "p50", "p99"], apps.map(row))
    : el("p", { class: "empty" }, "no apps"));
}

function showAudit(res) {
  if (res.status === 404) return $("audit").replaceChildren(el("p", { class: "empty" }, "this edge keeps no audit log"));
  const entries = res.body?.entries ?? [];
  $("audit").replaceChildren(entries.length
    ? table(["when", "actor", "action", "target", "from"], entries.map((e) => el("tr", {},
        el("td", {}, when(e.at)), el("td", {}, [e.actor.kind, e.actor.keyId ?? e.actor.appId ?? ""].join(" ").trim()),
        el("td", {}, e.action), el("td", {}, e.target), el("td", {}, e.from ?? ""))))
    : el("p", { class: "empty" }, "no entries yet"));
}

// uPlot draws the charts; without it (an edge that does not serve it) the page still works.
const uPlot = await import("/dashboard/assets/uPlot.esm.js").then((m) => m.default, () => null);
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
let charts = [];

/** One chart: a line per series (relay or region) of one figure per minute, on shared minutes. */
function chart(title, series, figure, unit) {
  const minutes = [...new Set(series.flatMap((s) => s.samples.map((p) => p.at)))].sort((a, b) => a - b);
  const lines = series.map((s) => {
    const byMinute = new Map(s.samples.map((p) => [p.at, p[figure]]));
    return minutes.map((at) => byMinute.get(at) ?? null);
  });
  const box = el("div", { class: "chart", "data-chart": title });
  const options = {
    title, width: 520, height: 220,
    series: [{}, ...series.map((s, i) => ({ label: s.nodeId ?? s.region, stroke: COLOURS[i % COLOURS.length], spanGaps: true }))],
    axes: [{}, { label: unit }],
  };
  charts.push(new uPlot(options, [minutes.map((at) => at / 1000), ...lines], box));
  return box;
}

async function showCharts() {
  if (!uPlot) return $("charts").replaceChildren(el("p", { class: "empty" }, "charts unavailable: this edge does not serve the chart library"));
  const res = await call("GET", "/v1/nodes/samples?minutes=60");
  if (res.status !== 200) return;
  for (const c of charts) c.destroy();
  charts = [];
  const { relays, regions } = res.body;
  if (relays.length === 0) return $("charts").replaceChildren(el("p", { class: "empty" }, "no samples yet: each relay records one a minute"));
  $("charts").replaceChildren(
    chart("pushes per minute, by relay", relays, "pushed", "pushes"), chart("acks per minute, by relay", relays, "delivered", "acks"),
    chart("delivery p50 (ms), by relay", relays, "p50Ms", "ms"), chart("delivery p99 (ms), by relay", relays, "p99Ms", "ms"),
    chart("pushes per minute, by region", regions, "pushed", "pushes"), chart("acks per minute, by region", regions, "delivered", "acks"),
    chart("delivery p50 (ms), by region", regions, "p50Ms", "ms"), chart("delivery p99 (ms), by region", regions, "p99Ms", "ms"));
}

async function lookUp(id) {
  const res = await call("GET", "/v1/mesh/messages/" + encodeURIComponent(id) + "?limit=200");
  if (res.status !== 200) return $("message").replaceChildren(el("p", { class: "empty" }, res.body?.error?.message ?? "lookup failed: " + res.status));
  const m = res.body;
  const summary = "app " + m.appId + ", created " + when(m.createdAt) + ", " + m.targets + " targets: " +
    Object.entries({ ...m.states, ...m.waiting }).filter(([, n]) => n > 0).map(([state, n]) => state + " " + n).join(", ");
  $("message").replaceChildren(el("p", { id: "message-summary" }, summary),
    table(["device", "state", "reason", "queued", "delivered"], m.recipients.map((r) => el("tr", { id: "target-" + r.deviceId },
      el("td", {}, r.deviceId), el("td", { class: "state" }, r.state), el("td", {}, r.reason ?? ""),
      el("td", {}, r.queuedAt ? when(r.queuedAt) : ""), el("td", {}, r.deliveredAt ? when(r.deliveredAt) : "")))));
}

async function refresh() {
  if (!sessionStorage.getItem(KEY)) return;
  const hourAgo = Date.now() - 3_600_000;
  const [nodes, apps, audit, stats] = await Promise.all([call("GET", "/v1/nodes/all"), call("GET", "/v1/apps"), call("GET", "/v1/audit?limit=50"),
    call("GET", "/v1/apps/stats?from=" + hourAgo)]);
  if (nodes.status !== 200) {
    $("status").textContent = "not signed in: " + (nodes.body?.error?.message ?? nodes.body?.message ?? nodes.status);
    $("main").hidden = true;
    return;
  }
  showNodes(nodes.body.nodes);
  if (apps.status === 200) showApps(apps.body.apps, stats.status === 200 ? stats.body.apps : null);
  showAudit(audit);
  await showCharts();
  $("main").hidden = false;
  $("logout").hidden = false;
  $("status").textContent = "updated " + when(Date.now());
}

$("login").onsubmit = (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("key").value);
  $("key").value = "";
  refresh();
};
$("lookup").onsubmit = (event) => {
  event.preventDefault();
  lookUp($("message-id").value.trim());
};
$("logout").onclick = () => {
  sessionStorage.removeItem(KEY);
  $("main").hidden = true;
  $("logout").hidden = true;
  $("status").textContent = "signed out";
};
setInterval(refresh, POLL_MS);
refresh();
</script>
</body></html>
`;
