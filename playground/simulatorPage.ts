// The Alexa simulator's page: the Alexa app's side on the left (the skill, its link, the lamp and
// what the user can say), and on the right what went over the wire: each directive with the
// skill's answer and Alexa's words, the ChangeReports Alexa received, the functions' logs and the
// local pool's mailbox. It follows the simulator's state through server-sent events (/api/events).

export function simulatorPage(): string {
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Alexa simulator · SmartLamp playground</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top">
  <div class="brand"><span class="ring"></span> Alexa simulator <span class="muted">· SmartLamp playground</span></div>
  <nav><a id="companion-link" target="_blank" rel="noopener">Companion page ↗</a></nav>
</header>
<p id="offline" class="offline" hidden>Lost touch with npm start: is it still running? The page reconnects by itself.</p>
<main class="grid">
  <section class="phone" aria-label="Alexa app">
    <div class="card skill">
      <div class="skill-head">
        <div class="skill-icon" aria-hidden="true"><svg viewBox="0 0 24 24" width="26" height="26"><path d="M12 2a7 7 0 0 0-4 12.7V17a1 1 0 0 0 1 1h6a1 1 0 0 0 1-1v-2.3A7 7 0 0 0 12 2z" fill="#f5b400"/><rect x="9" y="19" width="6" height="2.4" rx="1" fill="#8a6d00"/></svg></div>
        <div><h2>Smart Lamp</h2><p class="muted small">Smart Home skill · account linking through the stack's user pool</p></div>
      </div>
      <p id="account" class="account muted">Starting the stack…</p>
      <p id="link-error" class="banner error" hidden></p>
      <div class="row">
        <a id="enable" class="button primary" href="/link" hidden>Enable skill</a>
        <button id="disable" class="button" hidden>Disable skill</button>
        <button id="expire" class="button ghost small" hidden title="The next directive makes Alexa refresh the access token">Let the token expire</button>
      </div>
    </div>

    <div class="card" id="devices">
      <h3>Devices</h3>
      <p id="no-devices" class="muted">No devices yet: enable the skill, and Alexa discovers them.</p>
      <div id="lamp" class="lamp" hidden>
        <div class="bulb" id="bulb"></div>
        <div class="lamp-text">
          <div id="lamp-name" class="lamp-name">Smart Lamp</div>
          <div id="lamp-state" class="muted">unknown</div>
          <div id="lamp-from" class="muted tiny"></div>
        </div>
      </div>
    </div>

    <div class="card" id="voice">
      <h3>Say to Alexa</h3>
      <div class="row wrap">
        <button class="button" id="say-on" data-action="TurnOn">“Turn on”</button>
        <button class="button" id="say-off" data-action="TurnOff">“Turn off”</button>
        <button class="button" id="say-state" data-action="ReportState">Show its state</button>
        <button class="button" id="say-discover" data-action="Discover">“Discover devices”</button>
      </div>
      <div class="row wrap">
        <input id="brightness-value" type="number" min="-100" max="100" value="40" aria-label="Brightness in percent" title="Brightness in percent">
        <button class="button" id="say-set">“Set to <span id="set-label">40</span> %”</button>
        <button class="button ghost" id="say-brighter" title="AdjustBrightness +10">+10</button>
        <button class="button ghost" id="say-dimmer" title="AdjustBrightness −10">−10</button>
      </div>
      <details class="small">
        <summary>Another endpoint</summary>
        <p class="muted tiny">A directive for an endpoint ID that is not this account's lamp (another user's, say): the skill must refuse it.</p>
        <div class="row"><input id="other-endpoint" placeholder="smartlamp-…" spellcheck="false"><button class="button" id="say-other">“Turn on” that</button></div>
      </details>
      <p id="say-error" class="banner error" hidden></p>
    </div>

    <div class="card" id="mailbox-card">
      <h3>Mailbox <span class="muted small">(what the local pool emails)</span></h3>
      <ul id="mailbox" class="plain"><li class="muted">No mail yet. Sign up on the login page and the confirmation code arrives here.</li></ul>
    </div>
  </section>

  <section class="wire">
    <div class="card">
      <h3>Conversation <span class="muted small">what was said, the directive, the skill's answer, and what Alexa says</span></h3>
      <ol id="conversation" class="conversation"><li class="muted">Nothing yet.</li></ol>
    </div>
    <div class="two">
      <div class="card">
        <h3>ChangeReports received</h3>
        <ol id="reports" class="plain reports"><li class="muted">None yet. Change the lamp on the companion page and watch.</li></ol>
      </div>
      <div class="card">
        <h3>Function logs</h3>
        <ol id="logs" class="plain logs"><li class="muted">No lines yet.</li></ol>
      </div>
    </div>
  </section>
</main>
<script>${SCRIPT}</script>
</body>
</html>`;
}

const STYLE = `
:root{--ink:#16202e;--muted:#5d6778;--line:#e3e7ee;--bg:#f4f6f9;--card:#fff;--blue:#0a6cff;--alexa:#00caff;--ok:#137333;--okbg:#e6f4ea;--bad:#b3261e;--badbg:#fce8e6;--warn:#8a5a00}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.top{display:flex;justify-content:space-between;align-items:center;padding:14px 24px;background:#0f1b2d;color:#fff}
.top a{color:#9fd8ff;text-decoration:none}.top .muted{color:#9aa7bb}
.brand{display:flex;align-items:center;gap:10px;font-weight:600;font-size:16px}
.ring{width:18px;height:18px;border-radius:50%;border:3px solid var(--alexa);box-shadow:0 0 10px var(--alexa)}
.offline{margin:0;padding:8px 24px;background:#fff4e0;color:#8a5a00}
.grid{display:grid;grid-template-columns:400px 1fr;gap:20px;padding:20px 24px;max-width:1400px;margin:0 auto}
@media (max-width:900px){.grid{grid-template-columns:1fr}}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 18px;margin-bottom:16px;box-shadow:0 1px 2px rgba(16,24,40,.04)}
h2{font-size:18px;margin:0}h3{font-size:14px;margin:0 0 10px;text-transform:none}
.muted{color:var(--muted)}.small{font-size:12.5px}.tiny{font-size:11.5px}
.skill-head{display:flex;gap:12px;align-items:center;margin-bottom:10px}
.skill-icon{width:44px;height:44px;border-radius:10px;background:#fff6d6;display:flex;align-items:center;justify-content:center;font-size:24px}
.account{margin:6px 0 12px}
.row{display:flex;gap:8px;align-items:center;margin-top:8px}.wrap{flex-wrap:wrap}
.button{display:inline-block;border:1px solid #cfd6e1;background:#fff;color:var(--ink);border-radius:8px;padding:7px 11px;font:inherit;cursor:pointer;text-decoration:none;white-space:nowrap}
.button:hover{border-color:var(--blue)}.button:disabled{opacity:.45;cursor:not-allowed}
.button.primary{background:var(--blue);border-color:var(--blue);color:#fff;font-weight:600}
.button.ghost{background:transparent}
input{border:1px solid #cfd6e1;border-radius:8px;padding:7px 9px;font:inherit;min-width:0}
#brightness-value{width:64px;flex:none}#other-endpoint{flex:1}
.banner{border-radius:8px;padding:8px 10px;margin:10px 0 0}.banner.error{background:var(--badbg);color:var(--bad)}
.lamp{display:flex;gap:14px;align-items:center}
.bulb{width:54px;height:54px;border-radius:50%;background:#d9dde4;transition:all .35s;flex:none}
.bulb.on{background:radial-gradient(circle at 40% 35%,#fffbe0,#ffd84d 60%,#f5b400);box-shadow:0 0 28px rgba(255,200,40,var(--glow,.8))}
.lamp-name{font-weight:600;font-size:15px}
ul.plain,ol.plain{list-style:none;margin:0;padding:0}
#mailbox li{padding:6px 0;border-top:1px solid var(--line)}#mailbox li:first-child{border-top:0}
.code{font:600 16px ui-monospace,SFMono-Regular,Menlo,monospace;letter-spacing:2px}
.conversation{list-style:none;margin:0;padding:0;max-height:560px;overflow:auto}
.conversation li{padding:10px 0;border-top:1px solid var(--line)}.conversation li:first-child{border-top:0}
.said{font-weight:600}.said .time{font-weight:400}
.speech{display:inline-block;margin-top:6px;padding:6px 10px;border-radius:14px 14px 14px 4px}
.speech.ok{background:var(--okbg);color:var(--ok)}.speech.refused{background:#fff4e0;color:var(--warn)}.speech.failed{background:var(--badbg);color:var(--bad)}
.speech::before{content:"Alexa: ";font-weight:600}
details pre{background:#0f1b2d;color:#d6e2f5;padding:10px;border-radius:8px;overflow:auto;max-height:300px;font-size:12px}
.two{display:grid;grid-template-columns:1fr 1fr;gap:16px}@media (max-width:1200px){.two{grid-template-columns:1fr}}
.reports li{padding:7px 0;border-top:1px solid var(--line)}.reports li:first-child{border-top:0}
.logs{font:12px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace;max-height:420px;overflow:auto}
.logs li{padding:3px 0;border-top:1px dashed var(--line);word-break:break-word}
.lvl-warn{color:var(--warn)}.lvl-error{color:var(--bad)}
.fn{display:inline-block;min-width:78px;color:#2457a6}
.time{color:var(--muted);font-size:11.5px;margin-right:6px}
`;

// The page's own script: plain DOM, every text set through textContent.
const SCRIPT = `
const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => { const e = Object.assign(document.createElement(tag), props); e.append(...children); return e; };
const time = (at) => new Date(at).toLocaleTimeString();
const open = new Set();
let current;

function render(s) {
  current = s;
  $("companion-link").href = s.links.companion || "#";
  const linked = s.linked;
  $("enable").hidden = !s.ready || linked;
  $("disable").hidden = !linked;
  $("expire").hidden = !linked;
  if (!s.ready) {
    $("account").textContent = "Starting the stack…";
  } else if (linked) {
    const minutes = Math.max(0, Math.round((s.account.accessTokenExpiresAt - Date.now()) / 60000));
    $("account").textContent = "Linked to " + (s.account.email || s.account.user) + " · access token good for " + minutes + " min · refreshed " + s.account.refreshes + " time" + (s.account.refreshes === 1 ? "" : "s");
  } else {
    $("account").textContent = "Not linked. Enable the skill to sign in with your account.";
  }
  $("link-error").hidden = !s.linkError;
  $("link-error").textContent = s.linkError ? s.linkError.message + " (" + s.linkError.detail + ")" : "";
  document.querySelectorAll("#voice button").forEach((b) => (b.disabled = !linked || speaking));

  const lamp = s.lamps[0];
  $("no-devices").hidden = !!lamp;
  $("lamp").hidden = !lamp;
  if (lamp) {
    $("lamp-name").textContent = lamp.friendlyName;
    const on = lamp.powerState === "ON";
    $("bulb").className = "bulb" + (on ? " on" : "");
    $("bulb").style.setProperty("--glow", String(0.25 + 0.75 * ((lamp.brightness ?? 100) / 100)));
    $("lamp-state").textContent = lamp.powerState === undefined ? "state not known yet" : (on ? "On" : "Off") + (lamp.brightness === undefined ? "" : " · " + lamp.brightness + " %");
    $("lamp-from").textContent = lamp.from ? "as Alexa knows it, from " + lamp.from : "";
    $("lamp").dataset.power = lamp.powerState || "";
    $("lamp").dataset.brightness = lamp.brightness === undefined ? "" : String(lamp.brightness);
  }

  $("mailbox").replaceChildren(...(s.mail.length ? s.mail.slice().reverse().map((m) =>
    el("li", {}, el("span", { className: "time", textContent: time(m.at) }), m.email + ": your code is ", el("span", { className: "code", textContent: m.code })))
    : [el("li", { className: "muted", textContent: "No mail yet. Sign up on the login page and the confirmation code arrives here." })]));

  $("conversation").replaceChildren(...(s.activity.length ? s.activity.slice().reverse().map((a) => {
    const item = el("li", {}, el("div", { className: "said" }, el("span", { className: "time", textContent: time(a.at) + (a.durationMs !== undefined ? " · " + a.durationMs + " ms" : "") }), a.said));
    item.append(el("div", {}, el("span", { className: "speech " + a.outcome.kind, textContent: a.outcome.speech })));
    if (a.directive || a.response) {
      const d = el("details", { open: open.has(a.id) }, el("summary", { className: "small muted", textContent: "Directive and answer" }),
        el("pre", { textContent: JSON.stringify(a.directive, null, 2) }), el("pre", { textContent: a.response === undefined ? "(no answer: the function failed)" : JSON.stringify(a.response, null, 2) }));
      d.addEventListener("toggle", () => (d.open ? open.add(a.id) : open.delete(a.id)));
      item.append(d);
    }
    item.dataset.kind = a.outcome.kind;
    return item;
  }) : [el("li", { className: "muted", textContent: "Nothing yet." })]));

  $("reports").replaceChildren(...(s.reports.length ? s.reports.slice().reverse().map((r) => el("li", {},
    el("span", { className: "time", textContent: time(r.at) }),
    el("b", { textContent: [r.powerState, r.brightness === undefined ? undefined : r.brightness + " %"].filter(Boolean).join(" · ") || "(no change)" }),
    el("span", { className: "muted small", textContent: "  " + r.cause })))
    : [el("li", { className: "muted", textContent: "None yet. Change the lamp on the companion page and watch." })]));

  $("logs").replaceChildren(...(s.logs.length ? s.logs.slice(-120).reverse().map((l) => el("li", { className: "lvl-" + l.level },
    el("span", { className: "time", textContent: time(l.at) }), el("span", { className: "fn", textContent: l.fn }), l.what,
    el("div", { className: "muted tiny", textContent: l.detail })))
    : [el("li", { className: "muted", textContent: "No lines yet." })]));
}

// One directive at a time, as one user speaks: the buttons wait for Alexa's answer.
let speaking = false;
async function say(body) {
  if (speaking) return;
  speaking = true;
  document.querySelectorAll("#voice button").forEach((b) => (b.disabled = true));
  $("say-error").hidden = true;
  try {
    const answer = await post("/api/say", body);
    if (!answer.ok) {
      $("say-error").hidden = false;
      $("say-error").textContent = (await answer.json()).message;
    }
  } catch (err) {
    $("say-error").hidden = false;
    $("say-error").textContent = "The simulator did not answer: is npm start still running?";
  } finally {
    speaking = false;
    if (current) render(current);
  }
}

document.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", () => say({ action: b.dataset.action })));
const brightness = () => Number($("brightness-value").value);
$("brightness-value").addEventListener("input", () => ($("set-label").textContent = $("brightness-value").value));
$("say-set").addEventListener("click", () => say({ action: "SetBrightness", value: brightness() }));
$("say-brighter").addEventListener("click", () => say({ action: "AdjustBrightness", value: 10 }));
$("say-dimmer").addEventListener("click", () => say({ action: "AdjustBrightness", value: -10 }));
$("say-other").addEventListener("click", () => say({ action: "TurnOn", endpointId: $("other-endpoint").value }));
const post = (path, body = {}) => fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
$("disable").addEventListener("click", () => post("/api/disable"));
$("expire").addEventListener("click", () => post("/api/token/expire"));

const events = new EventSource("/api/events");
events.onmessage = (message) => { $("offline").hidden = true; render(JSON.parse(message.data)); };
events.onerror = () => ($("offline").hidden = false);
setInterval(() => current && render(current), 30000);
`;
