// A stand-in for a user pool's hosted login on 127.0.0.1, for the companion page's sign-in:
// authorization code with PKCE for a public client. Tokens are real RS256 JWTs signed with the
// test pool's key, so the API verifies them exactly as it verifies Cognito's.
//
// Modeled answers, each from the Amazon Cognito Developer Guide:
// - GET /oauth2/authorize (authorization-endpoint.html): an unknown client_id or a redirect_uri
//   that is not a callback URL of the client goes to /error, never to the redirect_uri; otherwise
//   the sign-in page (302 to /login with the same parameters). Stricter than Cognito, which takes
//   PKCE as optional: a request without an S256 code_challenge is refused too, so the test proves
//   the page always sends one.
// - GET/POST /login (login-endpoint.html): the sign-in form; a wrong password shows the form again
//   with "Incorrect username or password."; a right one redirects to redirect_uri?code=…&state=…
//   and keeps the browser signed in with a session cookie ("cognito"), so that the next
//   /oauth2/authorize of that browser gets a code at once, without the form (the hosted UI's
//   single sign-on: logout-endpoint.html says sign-out "clears the session cookie")
// - GET /logout (logout-endpoint.html): with client_id and a logout_uri that is one of the client's
//   sign-out URLs, clears the session cookie and redirects to logout_uri; any other logout_uri goes
//   to /error, never to it
// - POST /oauth2/token (token-endpoint.html): grant_type=authorization_code with client_id, code,
//   redirect_uri and code_verifier answers 200 {id_token, access_token, refresh_token, expires_in
//   3600, token_type "Bearer"}; a used or unknown code, another redirect_uri or a verifier whose
//   S256 is not the challenge answers 400 {error "invalid_grant"}; unknown client 400 {error "invalid_client"}.
//   Browsers call it from the page's origin, so it answers with CORS headers.
import { createHash, randomBytes } from "crypto";
import { createServer } from "http";
import { AddressInfo } from "net";
import { accessTokenClaims, SigningKey, signToken, ISSUER } from "./tokens";

export interface HostedLoginSetup {
    key: SigningKey;
    clientId: string;
    callbackUrls: string[];
    /** The client's sign-out URLs (default: its callback URLs). */
    logoutUrls?: string[];
    users: { email: string; password: string; sub: string }[];
}

export interface HostedLogin {
    base: string;
    /** Codes issued, tokens issued, token requests received (answered or not) and sign-outs, to check the flow. */
    issued: { codes: number; tokens: number; tokenRequests: number; logouts: number };
    stop(): Promise<void>;
}

const read = (req: import("http").IncomingMessage) => new Promise<string>((resolve) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => resolve(body));
});

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startHostedLogin(setup: HostedLoginSetup): Promise<HostedLogin> {
    const codes = new Map<string, { sub: string; redirectUri: string; challenge: string }>();
    const issued = { codes: 0, tokens: 0, tokenRequests: 0, logouts: 0 };
    /** Signed-in browsers: session id -> the user's sub. */
    const sessions = new Map<string, string>();
    const sessionOf = (req: import("http").IncomingMessage) => /(?:^|;\s*)cognito=([^;]+)/.exec(String(req.headers.cookie ?? ""))?.[1];
    /** A code for `sub`, and the redirect that hands it to the client. */
    const codeFor = (sub: string, params: URLSearchParams) => {
        const code = randomBytes(16).toString("hex");
        codes.set(code, { sub, redirectUri: params.get("redirect_uri")!, challenge: params.get("code_challenge")! });
        issued.codes++;
        return `${params.get("redirect_uri")}?code=${code}&state=${encodeURIComponent(params.get("state") ?? "")}`;
    };

    const loginForm = (params: URLSearchParams, error = "") => `<!doctype html><html><body>
<form name="cognitoSignInForm" method="post" action="/login?${escapeHtml(params.toString())}">
${error ? `<p id="loginErrorMessage">${escapeHtml(error)}</p>` : ""}
<input name="username" id="signInFormUsername" type="text"><input name="password" id="signInFormPassword" type="password">
<input name="signInSubmitButton" type="submit" value="Sign in"></form></body></html>`;

    const server = createServer(async (req, res) => {
        const url = new URL(req.url ?? "/", "http://localhost");
        const params = url.searchParams;
        const redirect = (location: string) => res.writeHead(302, { location }).end();
        const html = (body: string) => res.writeHead(200, { "content-type": "text/html;charset=UTF-8" }).end(body);
        const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json", "access-control-allow-origin": "*" }).end(JSON.stringify(body));
        const body = await read(req);

        if (url.pathname === "/oauth2/authorize" && req.method === "GET") {
            if (params.get("client_id") !== setup.clientId) {
                return void redirect("/error?error=invalid_request&error_description=invalid+client_id");
            }
            if (!setup.callbackUrls.includes(params.get("redirect_uri") ?? "")) {
                return void redirect("/error?error=redirect_mismatch");
            }
            if (params.get("response_type") !== "code" || params.get("code_challenge_method") !== "S256" || !params.get("code_challenge")) {
                return void redirect("/error?error=invalid_request&error_description=code_challenge+required");
            }
            const signedIn = sessions.get(sessionOf(req) ?? "");
            return void redirect(signedIn !== undefined ? codeFor(signedIn, params) : `/login?${params.toString()}`);
        }
        if (url.pathname === "/logout" && req.method === "GET") {
            if (params.get("client_id") !== setup.clientId || !(setup.logoutUrls ?? setup.callbackUrls).includes(params.get("logout_uri") ?? "")) {
                return void redirect("/error?error=invalid_request&error_description=logout_uri+not+allowed");
            }
            sessions.delete(sessionOf(req) ?? "");
            issued.logouts++;
            return void res.writeHead(302, { location: params.get("logout_uri")!, "set-cookie": "cognito=; Path=/; Max-Age=0; HttpOnly" }).end();
        }
        if (url.pathname === "/login" && req.method === "GET") {
            return void html(loginForm(params));
        }
        if (url.pathname === "/login" && req.method === "POST") {
            const form = new URLSearchParams(body);
            const user = setup.users.find((u) => u.email === form.get("username") && u.password === form.get("password"));
            if (!user) {
                return void html(loginForm(params, "Incorrect username or password."));
            }
            const session = randomBytes(16).toString("hex");
            sessions.set(session, user.sub);
            return void res.writeHead(302, { location: codeFor(user.sub, params), "set-cookie": `cognito=${session}; Path=/; HttpOnly; SameSite=Lax` }).end();
        }
        if (url.pathname === "/oauth2/token" && req.method === "OPTIONS") {
            return void res.writeHead(204, { "access-control-allow-origin": "*", "access-control-allow-methods": "POST", "access-control-allow-headers": "content-type" }).end();
        }
        if (url.pathname === "/oauth2/token" && req.method === "POST") {
            issued.tokenRequests++;
            const form = new URLSearchParams(body);
            if (form.get("client_id") !== setup.clientId) {
                return void json(400, { error: "invalid_client" });
            }
            const grant = codes.get(form.get("code") ?? "");
            codes.delete(form.get("code") ?? "");
            const challenge = createHash("sha256").update(form.get("code_verifier") ?? "").digest("base64url");
            if (form.get("grant_type") !== "authorization_code" || !grant || grant.redirectUri !== form.get("redirect_uri") || grant.challenge !== challenge) {
                return void json(400, { error: "invalid_grant" });
            }
            issued.tokens++;
            const claims = accessTokenClaims(grant.sub, { client_id: setup.clientId });
            return void json(200, {
                access_token: signToken(setup.key, claims),
                id_token: signToken(setup.key, { sub: grant.sub, aud: setup.clientId, iss: ISSUER, token_use: "id", exp: claims.exp, iat: claims.iat }),
                refresh_token: randomBytes(32).toString("base64url"),
                expires_in: 3600,
                token_type: "Bearer",
            });
        }
        if (url.pathname === "/favicon.ico") {
            return void res.writeHead(204).end(); // the hosted UI has its own icon
        }
        res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return {
        base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        issued,
        stop: () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        }),
    };
}
