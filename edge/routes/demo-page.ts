// The demo page at /demo: registers a device with an API key typed in, connects through the
// browser SDK (/sdk/browser.js) and lists messages as they arrive. The device's token and topics
// stay in localStorage, so a reload reconnects and resumes; the messages shown stay in the tab's
// sessionStorage, so a reload lists them again. Each message is also logged to the console as one
// JSON line ("pushmesh-demo" first), which the browser test waits on.
export const DEMO_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pushmesh demo device</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:48rem}label{display:block;margin:.4rem 0}input{width:22rem}
li{font-family:ui-monospace,monospace;margin:.2rem 0}#status{color:#555}</style></head>
<body>
<h1>pushmesh demo device</h1>
<form id="setup">
<label>API key (send scope) <input id="key" name="key" autocomplete="off" required></label>
<label>Device id <input id="device" name="device" value="browser-1" required></label>
<label>Topics (comma-separated) <input id="topics" name="topics" value="news"></label>
<button id="connect">Register and connect</button>
</form>
<p><button id="forget" hidden>Forget this device</button> <span id="status">not connected</span></p>
<ol id="messages"></ol>
<script type="module">
import { connectBrowserDevice } from "/sdk/browser.js";
const SETTINGS = "pushmesh-demo";
const $ = (id) => document.getElementById(id);
const status = (text) => { $("status").textContent = text; };
const SHOWN = "pushmesh-demo-shown";
const list = (message) => {
  const li = document.createElement("li");
  li.textContent = JSON.stringify(message);
  $("messages").append(li);
};
// What this tab received, kept for the tab's life: a reload lists it again.
const shown = JSON.parse(sessionStorage.getItem(SHOWN) ?? "[]");
shown.forEach(list);
const show = (message) => {
  shown.push(message);
  sessionStorage.setItem(SHOWN, JSON.stringify(shown));
  console.log("pushmesh-demo " + JSON.stringify(message));
  list(message);
};
async function start(settings) {
  $("setup").hidden = true;
  $("forget").hidden = false;
  status("connecting as " + settings.deviceId);
  await connectBrowserDevice({
    edge: location.origin,
    deviceId: settings.deviceId,
    token: settings.token,
    topics: settings.topics,
    onMessage: (m) => show({ seq: m.seq, messageId: m.messageId, data: m.data }),
    onTopicMessage: (m) => show({ topic: m.topic, offset: m.offset, messageId: m.messageId, data: m.data }),
    onSubscribed: (topic, offset) => status("connected as " + settings.deviceId + "; subscribed to " + topic + " at " + offset),
    onEvent: (e) => {
      console.log("pushmesh-demo-event " + JSON.stringify(e));
      if (e.type === "connected") status("connected as " + settings.deviceId + " to " + e.nodeId);
      if (e.type === "disconnected") status("reconnecting (" + e.reason + ")");
      if (e.type === "error") status("error " + e.code + ": " + e.message);
    },
  });
}
$("setup").addEventListener("submit", async (event) => {
  event.preventDefault();
  const res = await fetch("/v1/devices", {
    method: "POST",
    headers: { authorization: "Bearer " + $("key").value.trim(), "content-type": "application/json" },
    body: JSON.stringify({ deviceId: $("device").value.trim(), platform: "web" }),
  });
  const body = await res.json();
  if (!res.ok) return status("registration failed: " + body.error.code + ": " + body.error.message);
  const topics = $("topics").value.split(",").map((t) => t.trim()).filter((t) => t !== "");
  const settings = { deviceId: body.deviceId, token: body.token, topics };
  localStorage.setItem(SETTINGS, JSON.stringify(settings));
  await start(settings);
});
$("forget").addEventListener("click", () => {
  const settings = JSON.parse(localStorage.getItem(SETTINGS) ?? "null");
  localStorage.removeItem(SETTINGS);
  if (settings) localStorage.removeItem("pushmesh:" + settings.deviceId);
  sessionStorage.removeItem(SHOWN);
  location.reload();
});
const saved = JSON.parse(localStorage.getItem(SETTINGS) ?? "null");
if (saved) start(saved).catch((error) => status("cannot connect: " + error));
</script>
</body></html>
`;
