// The companion page: one HTML document with its script, served by the companion API at "/". It
// signs the user in through the pool's hosted login (authorization code with PKCE, the public
// "companion" client: no secret in a page), then reads and switches the lamp through the API with
// the access token as bearer. The token lives in sessionStorage: gone when the tab closes. Sign-out
// also ends the hosted login's own session (its cookie would sign the next person at this computer
// in as the last one): the page goes through Cognito's /logout, which clears it and comes back to
// the page, one of the client's sign-out URLs (Cognito Developer Guide, logout-endpoint.html).
// Cognito endpoints: docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html
// and token-endpoint.html (PKCE: code_challenge_method S256, code_verifier at the token endpoint).

export interface PageSettings {
    /** The hosted domain's base, e.g. https://<prefix>.auth.us-east-1.amazoncognito.com */
    authBaseUrl: string;
    clientId: string;
    /** This page's own URL, registered as the client's callback URL. */
    redirectUri: string;
}

const escapeForScript = (value: string) => JSON.stringify(value).replace(/</g, "\\u003c");

/** The page, with its settings in the script and the nonce its Content-Security-Policy allows. */
export function companionPage(settings: PageSettings, nonce: string): string {
    const config = escapeForScript(JSON.stringify(settings));
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Smart Lamp</title>
<style nonce="${nonce}">
body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; }
.lamp { font-size: 1.4rem; margin: 1rem 0; }
button, input { font-size: 1rem; margin: .25rem 0; }
[hidden] { display: none !important; }
#error { color: #a00; }
</style>
</head>
<body>
<h1>Smart Lamp</h1>
<p id="error" role="alert"></p>
<section id="signed-out" hidden>
  <p>Sign in with the account you linked in the Alexa app.</p>
  <button id="sign-in">Sign in</button>
</section>
<section id="signed-in" hidden>
  <p class="lamp">The lamp is <strong id="power">…</strong> at <strong id="brightness">…</strong> %.</p>
  <button id="toggle">Switch</button>
  <p><label>Brightness <input id="level" type="number" min="0" max="100" step="1"></label> <button id="set-level">Set</button></p>
  <button id="sign-out">Sign out</button>
</section>
<script nonce="${nonce}">
"use strict";
const CONFIG = JSON.parse(${config});
const $ = (id) => document.getElementById(id);
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
const randomText = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
function showError(text) { $("error").textContent = text; }

async function signIn() {
  const verifier = randomText();
  const state = randomText();
  sessionStorage.setItem("pkce", JSON.stringify({ verifier, state }));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const url = new URL(CONFIG.authBaseUrl + "/oauth2/authorize");
  url.search = new URLSearchParams({ response_type: "code", client_id: CONFIG.clientId, redirect_uri: CONFIG.redirectUri,
    scope: "openid", state, code_challenge: challenge, code_challenge_method: "S256" }).toString();
  location.assign(url.toString());
}

async function finishSignIn(params) {
  const saved = JSON.parse(sessionStorage.getItem("pkce") || "null");
  sessionStorage.removeItem("pkce");
  history.replaceState(null, "", location.pathname);
  if (!saved || params.get("state") !== saved.state) { showError("The sign-in answer did not match this page's request; please sign in again."); return; }
  const response = await fetch(CONFIG.authBaseUrl + "/oauth2/token", { method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", client_id: CONFIG.clientId, code: params.get("code"),
      redirect_uri: CONFIG.redirectUri, code_verifier: saved.verifier }).toString() });
  if (!response.ok) { showError("Sign-in failed (" + response.status + "); please try again."); return; }
  const tokens = await response.json();
  sessionStorage.setItem("accessToken", tokens.access_token);
}

async function api(method, body) {
  const response = await fetch("api/lamp", { method, headers: { authorization: "Bearer " + sessionStorage.getItem("accessToken"),
    ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401) { sessionStorage.removeItem("accessToken"); render(); showError("Your sign-in has expired; please sign in again."); return undefined; }
  if (!response.ok) { showError(answer.message || ("The lamp could not be reached (" + response.status + ").")); return undefined; }
  showError("");
  return answer;
}

function show(lamp) {
  $("power").textContent = lamp.powerState;
  $("brightness").textContent = String(lamp.brightness);
  $("level").value = String(lamp.brightness);
  $("toggle").textContent = lamp.powerState === "ON" ? "Switch off" : "Switch on";
  $("toggle").dataset.next = lamp.powerState === "ON" ? "OFF" : "ON";
  document.body.dataset.lamp = lamp.powerState;
}

async function render() {
  const signedIn = Boolean(sessionStorage.getItem("accessToken"));
  $("signed-in").hidden = !signedIn;
  $("signed-out").hidden = signedIn;
  if (signedIn) { const lamp = await api("GET"); if (lamp) show(lamp); }
}

$("sign-in").addEventListener("click", () => signIn().catch((e) => showError(String(e))));
$("sign-out").addEventListener("click", () => {
  sessionStorage.clear();
  const url = new URL(CONFIG.authBaseUrl + "/logout");
  url.search = new URLSearchParams({ client_id: CONFIG.clientId, logout_uri: CONFIG.redirectUri }).toString();
  location.assign(url.toString());
});
$("toggle").addEventListener("click", async () => { const lamp = await api("POST", { powerState: $("toggle").dataset.next }); if (lamp) show(lamp); });
$("set-level").addEventListener("click", async () => { const lamp = await api("POST", { brightness: Number($("level").value) }); if (lamp) show(lamp); });

(async () => {
  const params = new URLSearchParams(location.search);
  if (params.get("error")) { showError("Sign-in was refused: " + params.get("error")); history.replaceState(null, "", location.pathname); }
  if (params.get("code")) await finishSignIn(params);
  await render();
})().catch((e) => showError(String(e)));
</script>
</body>
</html>
`;
}
