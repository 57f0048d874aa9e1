// A user pool's hosted login and OAuth 2.0 endpoints on 127.0.0.1, as the stack's Cognito pool
// serves them to its two app clients: Alexa's (authorization code grant with the client secret) and
// the companion page's (public, authorization code with PKCE). Tokens are real RS256 JWTs with
// Cognito's claims, signed with the pool's key and issued under the pool's own issuer
// (https://cognito-idp.<region>.amazonaws.com/<pool id>), so the functions verify them exactly as
// they verify Cognito's. The tests and `npm start` use this one server.
//
// Modeled answers, each from the Amazon Cognito Developer Guide:
// - GET /oauth2/authorize (authorization-endpoint.html): an unknown client_id, or a redirect_uri that
//   is not one of the client's callback URLs, goes to /error and never to the redirect_uri
//   (redirect_mismatch); otherwise errors go back to the redirect_uri with `state`: no or another
//   response_type than code (invalid_request, unsupported_response_type), a scope the client may not
//   ask for (invalid_scope), a code_challenge_method other than S256 (invalid_request). A browser
//   still signed in (the session cookie) gets its code at once; others see the sign-in page.
// - GET/POST /login (login-endpoint.html): the sign-in form, with the classic hosted UI's element ids;
//   a wrong password or an unknown user both get "Incorrect username or password." (the user pool's
//   PreventUserExistenceErrors, which the stack's clients enable); an account not yet confirmed is
//   sent to confirm it. Usernames are email addresses, matched without case (the stack's pool).
// - GET/POST /signup and /confirm (signup-endpoint.html; user-pool-settings-email-verification and
//   "Signing up and confirming user accounts"): email and a password meeting the pool's policy (12
//   characters, upper and lower case, digits, symbols); an address already used gets "An account
//   with the given email already exists."; the confirmation code goes to the user's mailbox (here: the
//   `mailbox` of this object, which `npm start` shows), and a right code signs the user in. Without
//   self sign-up (the stack's selfSignUp false: AllowAdminCreateUserOnly) there is no sign-up.
// - GET /logout (logout-endpoint.html): with client_id and a logout_uri that is one of the client's
//   sign-out URLs, ends the session and redirects there; any other logout_uri goes to /error.
// - POST /oauth2/token (token-endpoint.html): a form body; a confidential client authenticates with
//   HTTP Basic (client_secret_basic) or client_secret in the body (client_secret_post); a public one
//   with client_id. authorization_code: a code is good once (for 5 minutes: see CODE_LIFETIME_MS), for its client and
//   redirect_uri, with the code_verifier whose S256 is its code_challenge when one was sent; it gives
//   {access_token, id_token, refresh_token, expires_in, token_type "Bearer"}. refresh_token: a refresh
//   token of the client, within its validity, gives new access and ID tokens (no new refresh token).
//   Every refusal is HTTP 400 with {error}: invalid_request (no form, a missing parameter),
//   invalid_client, invalid_grant, unauthorized_client (a grant type the client may not use),
//   unsupported_grant_type. The page's example answers 400 for invalid_client too (RFC 6749 allows
//   401 there). It answers `Access-Control-Allow-Origin: *`, so a page can call it from its origin.
// - GET /<pool id>/.well-known/jwks.json (amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html):
//   the pool's public keys.
// - Claims (amazon-cognito-user-pools-using-the-access-token.html, ...-id-token.html): the access
//   token has sub, iss, client_id, token_use "access", scope, auth_time, iat, exp, jti, origin_jti,
//   event_id, username, version 2; the ID token aud, email, email_verified, cognito:username.
// Where the local pool differs from Cognito, on purpose: it may send a browser that Cognito would
// send to a callback URL on the public internet (Alexa's redirect URLs) to a local address instead
// (`redirectHosts`), which `npm start` uses for its Alexa simulator; the redirect_uri is checked and
// the code is bound to it exactly as Cognito does.
import { createHash, randomBytes, randomInt, randomUUID, timingSafeEqual } from "crypto";
import { createServer, IncomingMessage, ServerResponse } from "http";
import { AddressInfo } from "net";
import { requestBody } from "./requestBody";
import { jwksOf, SigningKey, signToken } from "./tokens";

export interface PoolClient {
    clientId: string;
    /** Set for a confidential client (Alexa's): it must authenticate at the token endpoint. */
    clientSecret?: string;
    callbackUrls: string[];
    /** Its sign-out URLs (default: its callback URLs). */
    logoutUrls?: string[];
    /** The scopes it may ask for (allowedOauthScopes). */
    scopes: string[];
    accessTokenValidityMinutes: number;
    refreshTokenValidityDays: number;
}

export interface PoolUser {
    email: string;
    password: string;
    sub: string;
    confirmed: boolean;
}

export interface UserPoolSetup {
    /** The pool's id, <region>_<id>: it names the tokens' issuer. */
    poolId: string;
    key: SigningKey;
    clients: PoolClient[];
    users?: { email: string; password: string; sub?: string }[];
    /** False: invite-only (no sign-up), as the stack's selfSignUp false makes it. */
    selfSignUp?: boolean;
    /** Where to send a browser instead of a callback URL's origin (Cognito sends it to the URL itself). */
    redirectHosts?: Record<string, string>;
    /** Where this pool's mail can be read, said on the confirmation page (no mail leaves this machine). */
    mailHint?: string;
    /** Hears each confirmation code as it is sent (the mailbox holds them all). */
    onMail?: (mail: { email: string; code: string }) => void;
    /** The name the sign-in page shows. */
    appName?: string;
    now?: () => number;
    port?: number;
}

export interface UserPool {
    base: string;
    issuer: string;
    jwksUri: string;
    /** The confirmation codes sent, newest last, as a mailbox would hold them. */
    mailbox: { email: string; code: string; at: number }[];
    /** Codes and tokens issued, token requests received (answered or not), sign-outs; the authorize requests' parameters. */
    issued: { codes: number; tokens: number; tokenRequests: number; logouts: number; authorizeRequests: URLSearchParams[] };
    users(): readonly PoolUser[];
    stop(): Promise<void>;
}

/**
 * A code is good for this long, and once (authorization-endpoint.html: an authorization code is
 * valid for five minutes; token-endpoint.html: it can be used once).
 */
const CODE_LIFETIME_MS = 5 * 60_000;
/** The stack's password policy (infra/accountLinking.ts). */
const PASSWORD_RULES: [RegExp, string][] = [
    [/^.{12,}$/s, "Password must have length greater than or equal to 12"],
    [/[a-z]/, "Password must have lowercase characters"],
    [/[A-Z]/, "Password must have uppercase characters"],
    [/[0-9]/, "Password must have numeric characters"],
    [/[^A-Za-z0-9]/, "Password must have symbol characters"],
];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(appName: string, title: string, content: string): string {
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - ${escapeHtml(appName)}</title>
<style>
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f2f4f7;font:15px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2433}
.card{background:#fff;width:340px;padding:28px 28px 22px;border-radius:12px;box-shadow:0 6px 24px rgba(20,30,60,.12)}
h1{font-size:20px;margin:0 0 4px}.sub{color:#5b6475;margin:0 0 18px;font-size:13px}
label{display:block;font-size:13px;margin:12px 0 4px;color:#3b4354}
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:9px 10px;border:1px solid #c9cfdb;border-radius:6px;font-size:15px}
input[type=submit]{margin-top:18px;width:100%;padding:10px;border:0;border-radius:6px;background:#1f6feb;color:#fff;font-size:15px;cursor:pointer}
.error{background:#fdecec;color:#a4161a;padding:8px 10px;border-radius:6px;font-size:13px;margin:0 0 8px}
.info{background:#eaf3ff;color:#134a9c;padding:8px 10px;border-radius:6px;font-size:13px;margin:0 0 8px}
.foot{margin-top:16px;font-size:13px;text-align:center}a{color:#1f6feb}
</style></head><body><main class="card"><h1>${escapeHtml(appName)}</h1>${content}</main></body></html>`;
}

export async function startUserPool(setup: UserPoolSetup): Promise<UserPool> {
    const now = setup.now ?? Date.now;
    const appName = setup.appName ?? "SmartLamp";
    const selfSignUp = setup.selfSignUp ?? true;
    const [region] = setup.poolId.split("_");
    const issuer = `https://cognito-idp.${region}.amazonaws.com/${setup.poolId}`;
    const users: PoolUser[] = (setup.users ?? []).map((u) => ({ email: u.email.toLowerCase(), password: u.password, sub: u.sub ?? randomUUID(), confirmed: true }));
    const mailbox: UserPool["mailbox"] = [];
    const pendingCodes = new Map<string, string>();
    const codes = new Map<string, { sub: string; clientId: string; redirectUri: string; scope: string; challenge?: string; expiresAt: number; authTime: number }>();
    const refreshTokens = new Map<string, { sub: string; clientId: string; scope: string; expiresAt: number; authTime: number; originJti: string }>();
    const sessions = new Map<string, { sub: string; authTime: number }>();
    const issued: UserPool["issued"] = { codes: 0, tokens: 0, tokenRequests: 0, logouts: 0, authorizeRequests: [] };
    const clientOf = (id: string | null) => setup.clients.find((c) => c.clientId === id);
    const userNamed = (email: string) => users.find((u) => u.email === email.trim().toLowerCase());
    // Its own cookie name: browsers share cookies across ports of one host.
    const cookieName = `cognito-${setup.poolId.toLowerCase().replace(/[^a-z0-9]/g, "")}`;
    const sessionOf = (req: IncomingMessage) => new RegExp(`(?:^|;\\s*)${cookieName}=([^;]+)`).exec(String(req.headers.cookie ?? ""))?.[1];

    /** Where the browser goes for `url` (a callback URL, possibly mapped to a local address). */
    const browserUrl = (url: string) => {
        const origin = new URL(url).origin;
        return setup.redirectHosts?.[origin] ? setup.redirectHosts[origin] + url.slice(origin.length) : url;
    };
    const withParams = (url: string, params: Record<string, string>) => {
        const target = new URL(browserUrl(url));
        for (const [name, value] of Object.entries(params)) {
            target.searchParams.set(name, value);
        }
        return target.toString();
    };

    function tokensFor(sub: string, client: PoolClient, scope: string, authTime: number, originJti: string) {
        const iat = Math.floor(now() / 1000);
        const exp = iat + client.accessTokenValidityMinutes * 60;
        const user = users.find((u) => u.sub === sub)!;
        const eventId = randomUUID();
        const access = {
            sub, iss: issuer, client_id: client.clientId, origin_jti: originJti, event_id: eventId, token_use: "access", scope,
            auth_time: authTime, iat, exp, jti: randomUUID(), username: sub, version: 2,
        };
        const id = {
            sub, iss: issuer, aud: client.clientId, origin_jti: originJti, event_id: eventId, token_use: "id", auth_time: authTime, iat, exp,
            jti: randomUUID(), email: user.email, email_verified: true, "cognito:username": sub,
        };
        issued.tokens++;
        // An ID token only for the openid scope (authorization-endpoint.html).
        return {
            access_token: signToken(setup.key, access),
            ...(scope.split(" ").includes("openid") ? { id_token: signToken(setup.key, id) } : {}),
            expires_in: client.accessTokenValidityMinutes * 60,
            token_type: "Bearer",
        };
    }

    function newCode(sub: string, authTime: number, params: URLSearchParams): string {
        const code = randomUUID();
        codes.set(code, {
            sub, authTime, clientId: params.get("client_id")!, redirectUri: params.get("redirect_uri")!, scope: params.get("scope") || clientOf(params.get("client_id"))!.scopes.join(" "),
            challenge: params.get("code_challenge") ?? undefined, expiresAt: now() + CODE_LIFETIME_MS,
        });
        issued.codes++;
        return withParams(params.get("redirect_uri")!, { code, ...(params.get("state") !== null ? { state: params.get("state")! } : {}) });
    }

    const signInForm = (params: URLSearchParams, message: { error?: string; info?: string; username?: string } = {}) => page(appName, "Sign in", `
<p class="sub">Sign in with your email address and password</p>
${message.error ? `<p class="error" id="loginErrorMessage">${escapeHtml(message.error)}</p>` : ""}${message.info ? `<p class="info">${escapeHtml(message.info)}</p>` : ""}
<form name="cognitoSignInForm" method="post" action="/login?${escapeHtml(params.toString())}">
<label for="signInFormUsername">Email</label><input name="username" id="signInFormUsername" type="text" autocomplete="username" value="${escapeHtml(message.username ?? "")}">
<label for="signInFormPassword">Password</label><input name="password" id="signInFormPassword" type="password" autocomplete="current-password">
<input name="signInSubmitButton" type="submit" value="Sign in"></form>
${selfSignUp ? `<p class="foot">Need an account? <a id="signUpLink" href="/signup?${escapeHtml(params.toString())}">Sign up</a></p>` : ""}`);

    const signUpForm = (params: URLSearchParams, error = "", email = "") => page(appName, "Sign up", `
<p class="sub">Create your account</p>
${error ? `<p class="error" id="signUpErrorMessage">${escapeHtml(error)}</p>` : ""}
<form name="cognitoSignUpForm" method="post" action="/signup?${escapeHtml(params.toString())}">
<label for="signUpFormEmail">Email</label><input name="username" id="signUpFormEmail" type="email" autocomplete="email" value="${escapeHtml(email)}">
<label for="signUpFormPassword">Password</label><input name="password" id="signUpFormPassword" type="password" autocomplete="new-password">
<input name="signUpButton" type="submit" value="Sign up"></form>
<p class="foot">Have an account? <a href="/login?${escapeHtml(params.toString())}">Sign in</a></p>`);

    const confirmForm = (params: URLSearchParams, email: string, error = "") => page(appName, "Confirm your account", `
<p class="sub">We have sent a code by email to ${escapeHtml(email)}. Enter it below to confirm your account.</p>
${setup.mailHint ? `<p class="info" id="mailHint">${escapeHtml(setup.mailHint)}</p>` : ""}${error ? `<p class="error" id="confirmErrorMessage">${escapeHtml(error)}</p>` : ""}
<form name="cognitoConfirmForm" method="post" action="/confirm?${escapeHtml(new URLSearchParams([...params, ["username", email]]).toString())}">
<label for="confirmFormCode">Verification code</label><input name="code" id="confirmFormCode" type="text" inputmode="numeric" autocomplete="one-time-code">
<input name="confirm" type="submit" value="Confirm account"></form>`);

    const errorPage = (res: ServerResponse, error: string) => res.writeHead(400, { "content-type": "text/html;charset=UTF-8" })
        .end(page(appName, "Error", `<p class="error" id="errorMessage">An error was encountered with the requested page.</p><p class="sub">${escapeHtml(error)}</p>`));

    /** Signs `user` in on this browser and sends it on with a code. */
    function signedIn(res: ServerResponse, user: PoolUser, params: URLSearchParams) {
        const session = randomBytes(16).toString("hex");
        const authTime = Math.floor(now() / 1000);
        sessions.set(session, { sub: user.sub, authTime });
        res.writeHead(302, { location: newCode(user.sub, authTime, params), "set-cookie": `${cookieName}=${session}; Path=/; HttpOnly; SameSite=Lax` }).end();
    }

    /** Checks an authorize request's parameters; a refusal, or undefined when it may go on. */
    function authorizeRefusal(res: ServerResponse, params: URLSearchParams): boolean {
        const client = clientOf(params.get("client_id"));
        if (!client) {
            res.writeHead(302, { location: "/error?error=invalid_request&error_description=client_id+not+valid" }).end();
            return true;
        }
        const redirectUri = params.get("redirect_uri") ?? "";
        if (!client.callbackUrls.includes(redirectUri)) {
            res.writeHead(302, { location: "/error?error=redirect_mismatch" }).end();
            return true;
        }
        const back = (error: string) => res.writeHead(302, { location: withParams(redirectUri, { error, ...(params.get("state") !== null ? { state: params.get("state")! } : {}) }) }).end();
        const responseType = params.get("response_type");
        if (!responseType) {
            back("invalid_request");
            return true;
        }
        if (responseType !== "code") {
            back("unsupported_response_type");
            return true;
        }
        const scopes = (params.get("scope") ?? "").split(" ").filter(Boolean);
        if (scopes.some((s) => !client.scopes.includes(s))) {
            back("invalid_scope");
            return true;
        }
        if (params.has("code_challenge") && params.get("code_challenge_method") !== "S256") {
            back("invalid_request");
            return true;
        }
        return false;
    }

    /** The client a token request authenticates as, or the error to answer. */
    function authenticate(req: IncomingMessage, form: URLSearchParams): { client: PoolClient } | { error: string } {
        const basic = /^Basic (.+)$/i.exec(String(req.headers.authorization ?? ""))?.[1];
        let id = form.get("client_id");
        let secret = form.get("client_secret");
        if (basic) {
            // RFC 6749 2.3.1: both parts form-encoded before the Basic encoding.
            const [user, pass] = Buffer.from(basic, "base64").toString("utf8").split(":");
            if (pass === undefined) {
                return { error: "invalid_client" };
            }
            try {
                id = decodeURIComponent(user);
                secret = decodeURIComponent(pass);
            } catch {
                return { error: "invalid_client" };
            }
        }
        const client = clientOf(id);
        if (!client) {
            return { error: "invalid_client" };
        }
        if (client.clientSecret !== undefined) {
            const given = Buffer.from(secret ?? "");
            const expected = Buffer.from(client.clientSecret);
            if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
                return { error: "invalid_client" };
            }
        }
        return { client };
    }

    function token(req: IncomingMessage, body: string): { status: number; body: Record<string, unknown> } {
        issued.tokenRequests++;
        const refuse = (error: string) => ({ status: 400, body: { error } });
        if (!String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
            return refuse("invalid_request");
        }
        const form = new URLSearchParams(body);
        const who = authenticate(req, form);
        if ("error" in who) {
            return refuse(who.error);
        }
        const client = who.client;
        const grantType = form.get("grant_type");
        if (grantType === "authorization_code") {
            const codeText = form.get("code");
            const redirectUri = form.get("redirect_uri");
            if (!codeText || !redirectUri) {
                return refuse("invalid_request");
            }
            const code = codes.get(codeText);
            codes.delete(codeText); // good once, whatever the outcome
            const verifier = form.get("code_verifier");
            const challengeMet = code?.challenge === undefined || (verifier !== null && createHash("sha256").update(verifier).digest("base64url") === code.challenge);
            if (!code || code.clientId !== client.clientId || code.redirectUri !== redirectUri || code.expiresAt <= now() || !challengeMet) {
                return refuse("invalid_grant");
            }
            const originJti = randomUUID();
            const refreshToken = randomBytes(48).toString("base64url");
            refreshTokens.set(refreshToken, { sub: code.sub, clientId: client.clientId, scope: code.scope, authTime: code.authTime, originJti, expiresAt: now() + client.refreshTokenValidityDays * 86_400_000 });
            return { status: 200, body: { ...tokensFor(code.sub, client, code.scope, code.authTime, originJti), refresh_token: refreshToken } };
        }
        if (grantType === "refresh_token") {
            const refreshToken = form.get("refresh_token");
            if (!refreshToken) {
                return refuse("invalid_request");
            }
            const grant = refreshTokens.get(refreshToken);
            if (!grant || grant.clientId !== client.clientId || grant.expiresAt <= now()) {
                return refuse("invalid_grant");
            }
            return { status: 200, body: tokensFor(grant.sub, client, grant.scope, grant.authTime, grant.originJti) };
        }
        if (grantType === "client_credentials") {
            return refuse("unauthorized_client");
        }
        return refuse(grantType ? "unsupported_grant_type" : "invalid_request");
    }

    const server = createServer((req, res) => serve(req, res).catch(() => {
        // A request this stand-in did not expect must not stop the process that serves it.
        if (!res.headersSent) {
            res.writeHead(500, { "content-type": "text/plain" });
        }
        res.end("Internal error");
    }));
    async function serve(req: IncomingMessage, res: ServerResponse) {
        const url = new URL(req.url ?? "/", "http://localhost");
        const params = url.searchParams;
        const html = (body: string) => res.writeHead(200, { "content-type": "text/html;charset=UTF-8" }).end(body);
        const body = await requestBody(req);
        const route = `${req.method} ${url.pathname}`;

        if (route === "GET /oauth2/authorize") {
            issued.authorizeRequests.push(new URLSearchParams(params));
            if (authorizeRefusal(res, params)) {
                return;
            }
            const session = sessions.get(sessionOf(req) ?? "");
            return void res.writeHead(302, { location: session ? newCode(session.sub, session.authTime, params) : `/login?${params.toString()}` }).end();
        }
        if (route === "GET /login") {
            // The sign-in page takes the authorize request's parameters, checked as /oauth2/authorize checks them (login-endpoint.html).
            if (authorizeRefusal(res, params)) {
                return;
            }
            return void html(signInForm(params));
        }
        if (route === "POST /login") {
            const form = new URLSearchParams(body);
            const user = userNamed(form.get("username") ?? "");
            if (!user || user.password !== form.get("password")) {
                return void html(signInForm(params, { error: "Incorrect username or password.", username: form.get("username") ?? "" }));
            }
            if (!user.confirmed) {
                return void html(confirmForm(params, user.email));
            }
            if (authorizeRefusal(res, params)) {
                return;
            }
            return void signedIn(res, user, params);
        }
        if (route === "GET /signup" || route === "POST /signup") {
            if (!selfSignUp) {
                return void errorPage(res, "Sign up is not allowed in this user pool: ask for an account.");
            }
            if (route === "GET /signup") {
                return void html(signUpForm(params));
            }
            const form = new URLSearchParams(body);
            const email = (form.get("username") ?? "").trim().toLowerCase();
            const password = form.get("password") ?? "";
            if (!EMAIL.test(email)) {
                return void html(signUpForm(params, "Invalid email address format.", email));
            }
            if (userNamed(email)) {
                return void html(signUpForm(params, "An account with the given email already exists.", email));
            }
            const broken = PASSWORD_RULES.filter(([rule]) => !rule.test(password)).map(([, says]) => says);
            if (broken.length > 0) {
                return void html(signUpForm(params, `Password did not conform with policy: ${broken[0]}`, email));
            }
            users.push({ email, password, sub: randomUUID(), confirmed: false });
            const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
            pendingCodes.set(email, code);
            mailbox.push({ email, code, at: now() });
            setup.onMail?.({ email, code });
            return void html(confirmForm(params, email));
        }
        if (route === "POST /confirm") {
            const form = new URLSearchParams(body);
            const email = (params.get("username") ?? "").toLowerCase();
            const user = userNamed(email);
            params.delete("username");
            if (!user || pendingCodes.get(email) !== (form.get("code") ?? "").trim()) {
                return void html(confirmForm(params, email, "Invalid verification code provided, please try again."));
            }
            pendingCodes.delete(email);
            user.confirmed = true;
            if (authorizeRefusal(res, params)) {
                return;
            }
            return void signedIn(res, user, params);
        }
        if (route === "GET /logout") {
            const client = clientOf(params.get("client_id"));
            const logoutUri = params.get("logout_uri") ?? "";
            if (!client || !(client.logoutUrls ?? client.callbackUrls).includes(logoutUri)) {
                return void res.writeHead(302, { location: "/error?error=invalid_request&error_description=logout_uri+not+allowed" }).end();
            }
            sessions.delete(sessionOf(req) ?? "");
            issued.logouts++;
            return void res.writeHead(302, { location: browserUrl(logoutUri), "set-cookie": `${cookieName}=; Path=/; Max-Age=0; HttpOnly` }).end();
        }
        if (route === "GET /error") {
            return void errorPage(res, params.get("error_description") ?? params.get("error") ?? "error");
        }
        if (route === "OPTIONS /oauth2/token") {
            return void res.writeHead(204, { "access-control-allow-origin": "*", "access-control-allow-methods": "POST", "access-control-allow-headers": "content-type, authorization" }).end();
        }
        if (route === "POST /oauth2/token") {
            const answer = token(req, body);
            return void res.writeHead(answer.status, { "content-type": "application/json;charset=UTF-8", "access-control-allow-origin": "*", "cache-control": "no-store" }).end(JSON.stringify(answer.body));
        }
        if (route === `GET /${setup.poolId}/.well-known/jwks.json`) {
            return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwksOf(setup.key)));
        }
        if (url.pathname === "/favicon.ico") {
            return void res.writeHead(204).end();
        }
        res.writeHead(404, { "content-type": "text/plain" }).end("Not found");
    }
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(setup.port ?? 0, "127.0.0.1", () => resolve());
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
        base,
        issuer,
        jwksUri: `${base}/${setup.poolId}/.well-known/jwks.json`,
        mailbox,
        issued,
        users: () => users,
        stop: () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        }),
    };
}
