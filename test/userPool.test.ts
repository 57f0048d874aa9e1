// The local user pool (local/userPool.ts) answer by answer, over HTTP as a browser and Alexa use it:
// each refusal Cognito documents, the sign-up with its emailed code, and tokens that the skill's
// own verifier accepts.
import { strict as assert } from "assert";
import { createHash, randomBytes } from "crypto";
import { createAccessTokenVerifier } from "../handler/token";
import { jwksOf, newSigningKey } from "../local/tokens";
import { PoolClient, startUserPool, UserPool } from "../local/userPool";

const POOL_ID = "us-east-1_LocalPool1";
const ALEXA: PoolClient = {
    clientId: "alexaclient1234567890abcd",
    clientSecret: "s3cr3t-" + randomBytes(8).toString("hex"),
    callbackUrls: ["https://pitangui.amazon.com/api/skill/link/M2AAAAAAAAAAAA"],
    scopes: ["openid"],
    accessTokenValidityMinutes: 60,
    refreshTokenValidityDays: 3650,
};
const PAGE: PoolClient = {
    clientId: "companionclient1234567890",
    callbackUrls: ["http://localhost:4100/"],
    scopes: ["openid"],
    accessTokenValidityMinutes: 60,
    refreshTokenValidityDays: 30,
};
const ADA = { email: "ada@example.com", password: "Correct-Horse-9!" };

describe("the local user pool", function () {
    this.timeout(20000);
    const key = newSigningKey("local-pool-key");
    let clock: number;
    let pool: UserPool;

    beforeEach(async () => {
        clock = Date.now();
        pool = await startUserPool({ poolId: POOL_ID, key, clients: [ALEXA, PAGE], users: [ADA], now: () => clock });
    });
    afterEach(() => pool.stop());

    /** A browser: follows nothing by itself, keeps the pool's cookie. */
    function browser() {
        let cookie = "";
        return async (path: string, init: RequestInit = {}) => {
            const response = await fetch(new URL(path, pool.base), { ...init, redirect: "manual", headers: { ...(init.headers ?? {}), cookie } });
            const set = response.headers.get("set-cookie");
            if (set) {
                cookie = set.split(";")[0];
            }
            return response;
        };
    }
    const form = (fields: Record<string, string>) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
    const authorizeQuery = (client: PoolClient, extra: Record<string, string> = {}) =>
        "/oauth2/authorize?" + new URLSearchParams({ client_id: client.clientId, response_type: "code", redirect_uri: client.callbackUrls[0], state: "st-1", scope: "openid", ...extra }).toString();

    /** Signs Ada in through the hosted page and returns the code the redirect carries. */
    async function codeFor(client: PoolClient, extra: Record<string, string> = {}, user = ADA): Promise<string> {
        const go = browser();
        const first = await go(authorizeQuery(client, extra));
        assert.equal(first.status, 302);
        const login = first.headers.get("location")!;
        assert.match(login, /^\/login\?/);
        const signedIn = await go(login, form({ username: user.email, password: user.password }));
        assert.equal(signedIn.status, 302, await signedIn.text());
        const back = new URL(signedIn.headers.get("location")!);
        assert.equal(back.origin + back.pathname, client.callbackUrls[0]);
        assert.equal(back.searchParams.get("state"), "st-1");
        return back.searchParams.get("code")!;
    }
    const basic = (client: PoolClient, secret = client.clientSecret!) => `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`;
    const token = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
        fetch(new URL("/oauth2/token", pool.base), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(fields).toString() });
    const errorOf = async (response: Response) => [response.status, ((await response.json()) as { error: string }).error];

    describe("the authorization endpoint", () => {
        it("never sends an unknown client or a redirect_uri that is not a callback URL to that redirect_uri", async () => {
            for (const query of [authorizeQuery({ ...ALEXA, clientId: "unknown" }), authorizeQuery(ALEXA, { redirect_uri: "https://evil.example.com/cb" })]) {
                const response = await browser()(query);
                assert.equal(response.status, 302);
                assert.match(response.headers.get("location")!, /^\/error\?error=(invalid_request|redirect_mismatch)/);
            }
        });

        it("sends other mistakes back to the client's redirect_uri with the error and the state", async () => {
            for (const [extra, error] of [
                [{ response_type: "" }, "invalid_request"],
                [{ response_type: "token" }, "unsupported_response_type"],
                [{ scope: "openid email" }, "invalid_scope"],
                [{ code_challenge: "x".repeat(43), code_challenge_method: "plain" }, "invalid_request"],
            ] as const) {
                const location = new URL((await browser()(authorizeQuery(ALEXA, extra))).headers.get("location")!);
                assert.equal(location.origin + location.pathname, ALEXA.callbackUrls[0]);
                assert.deepEqual([location.searchParams.get("error"), location.searchParams.get("state")], [error, "st-1"], JSON.stringify(extra));
            }
        });

        it("answers a wrong password and an unknown user alike, without a code", async () => {
            const go = browser();
            const login = (await go(authorizeQuery(ALEXA))).headers.get("location")!;
            for (const attempt of [{ username: ADA.email, password: "wrong" }, { username: "nobody@example.com", password: ADA.password }]) {
                const page = await go(login, form(attempt));
                assert.equal(page.status, 200);
                assert.match(await page.text(), /id="loginErrorMessage">Incorrect username or password\./);
            }
            assert.equal(pool.issued.codes, 0);
        });

        it("keeps the browser signed in (the session cookie) until /logout, which takes only the client's sign-out URLs", async () => {
            const go = browser();
            await go((await go(authorizeQuery(PAGE))).headers.get("location")!, form({ username: ADA.email, password: ADA.password }));
            const again = await go(authorizeQuery(PAGE));
            assert.match(again.headers.get("location")!, /^http:\/\/localhost:4100\/\?code=/);
            const refused = await go(`/logout?client_id=${PAGE.clientId}&logout_uri=${encodeURIComponent("https://evil.example.com/")}`);
            assert.match(refused.headers.get("location")!, /^\/error/);
            const out = await go(`/logout?client_id=${PAGE.clientId}&logout_uri=${encodeURIComponent(PAGE.callbackUrls[0])}`);
            assert.equal(out.headers.get("location"), PAGE.callbackUrls[0]);
            assert.match((await go(authorizeQuery(PAGE))).headers.get("location")!, /^\/login\?/);
        });
    });

    describe("sign-up", () => {
        it("creates an account with a password that meets the pool's policy, confirms it with the emailed code, and signs the user in", async () => {
            const go = browser();
            const login = (await go(authorizeQuery(ALEXA))).headers.get("location")!;
            assert.match(await (await go(login)).text(), /id="signUpLink"/);
            const signup = login.replace("/login?", "/signup?");
            assert.match(await (await go(signup, form({ username: "grace@example.com", password: "short" }))).text(), /Password did not conform with policy: Password must have length greater than or equal to 12/);
            assert.match(await (await go(signup, form({ username: "ADA@example.com", password: "Another-Pass-77!" }))).text(), /An account with the given email already exists\./);
            const confirm = await (await go(signup, form({ username: "Grace@Example.com", password: "Another-Pass-77!" }))).text();
            assert.match(confirm, /We have sent a code by email to grace@example\.com/);
            const [mail] = pool.mailbox;
            assert.equal(mail.email, "grace@example.com");
            const action = /action="([^"]+)"/.exec(confirm)![1].replace(/&#38;/g, "&");
            assert.match(await (await go(action, form({ code: "000000" === mail.code ? "111111" : "000000" }))).text(), /Invalid verification code provided/);
            const signedIn = await go(action, form({ code: mail.code }));
            const back = new URL(signedIn.headers.get("location")!);
            assert.ok(back.searchParams.get("code"), "no code after confirming");
            assert.equal(pool.users().find((u) => u.email === "grace@example.com")!.confirmed, true);
        });

        it("offers none in an invite-only pool (selfSignUp false)", async () => {
            const invite = await startUserPool({ poolId: POOL_ID, key, clients: [ALEXA], users: [ADA], selfSignUp: false });
            try {
                const page = await (await fetch(new URL("/login?client_id=x", invite.base))).text();
                assert.doesNotMatch(page, /signUpLink/);
                assert.equal((await fetch(new URL("/signup", invite.base))).status, 400);
            } finally {
                await invite.stop();
            }
        });
    });

    describe("the token endpoint", () => {
        it("gives Alexa's client, authenticated with HTTP Basic, tokens that the skill's own verifier accepts", async () => {
            const code = await codeFor(ALEXA);
            const response = await token({ grant_type: "authorization_code", code, redirect_uri: ALEXA.callbackUrls[0] }, { authorization: basic(ALEXA) });
            assert.equal(response.status, 200);
            assert.equal(response.headers.get("access-control-allow-origin"), "*");
            const tokens = (await response.json()) as Record<string, unknown>;
            assert.deepEqual([tokens.token_type, tokens.expires_in, typeof tokens.refresh_token, typeof tokens.id_token], ["Bearer", 3600, "string", "string"]);
            const verify = createAccessTokenVerifier({ userPoolId: POOL_ID, clientId: ALEXA.clientId, jwks: jwksOf(key) });
            const checked = await verify(tokens.access_token as string);
            assert.deepEqual(checked, { ok: true, userId: pool.users()[0].sub });
            const claims = JSON.parse(Buffer.from((tokens.access_token as string).split(".")[1], "base64url").toString());
            assert.deepEqual([claims.iss, claims.token_use, claims.client_id, claims.scope, claims.version], [pool.issuer, "access", ALEXA.clientId, "openid", 2]);
            const id = JSON.parse(Buffer.from((tokens.id_token as string).split(".")[1], "base64url").toString());
            assert.deepEqual([id.aud, id.email, id.token_use], [ALEXA.clientId, ADA.email, "id"]);
        });

        it("takes the secret in the body too (client_secret_post), and refuses a wrong or missing one as invalid_client", async () => {
            const code = await codeFor(ALEXA);
            assert.deepEqual(await errorOf(await token({ grant_type: "authorization_code", code, redirect_uri: ALEXA.callbackUrls[0] }, { authorization: basic(ALEXA, "wrong-secret") })), [400, "invalid_client"]);
            const again = await codeFor(ALEXA);
            assert.deepEqual(await errorOf(await token({ grant_type: "authorization_code", code: again, redirect_uri: ALEXA.callbackUrls[0], client_id: ALEXA.clientId })), [400, "invalid_client"]);
            const third = await codeFor(ALEXA);
            assert.equal((await token({ grant_type: "authorization_code", code: third, redirect_uri: ALEXA.callbackUrls[0], client_id: ALEXA.clientId, client_secret: ALEXA.clientSecret! })).status, 200);
        });

        it("refuses a Basic header it cannot decode as invalid_client, and serves on", async () => {
            const garbled = "Basic " + Buffer.from("%zz:%zz").toString("base64");
            assert.deepEqual(await errorOf(await token({ grant_type: "authorization_code", code: await codeFor(ALEXA), redirect_uri: ALEXA.callbackUrls[0] }, { authorization: garbled })), [400, "invalid_client"]);
            assert.equal((await fetch(pool.jwksUri)).status, 200);
        });

        it("refuses a code used before, another redirect_uri, another client's, and one older than five minutes, as invalid_grant", async () => {
            const used = await codeFor(ALEXA);
            const redeem = (code: string, redirectUri = ALEXA.callbackUrls[0]) => token({ grant_type: "authorization_code", code, redirect_uri: redirectUri }, { authorization: basic(ALEXA) });
            assert.equal((await redeem(used)).status, 200);
            assert.deepEqual(await errorOf(await redeem(used)), [400, "invalid_grant"]);
            assert.deepEqual(await errorOf(await redeem(await codeFor(ALEXA), "https://layla.amazon.com/api/skill/link/M2AAAAAAAAAAAA")), [400, "invalid_grant"]);
            assert.deepEqual(await errorOf(await redeem(await codeFor(PAGE))), [400, "invalid_grant"]);
            const late = await codeFor(ALEXA);
            clock += 5 * 60_000;
            assert.deepEqual(await errorOf(await redeem(late)), [400, "invalid_grant"]);
            assert.deepEqual(await errorOf(await redeem("tampered-" + (await codeFor(ALEXA)))), [400, "invalid_grant"]);
        });

        it("gives the public client tokens for the code_verifier of its code_challenge (PKCE, S256), and refuses any other verifier", async () => {
            const verifier = randomBytes(32).toString("base64url");
            const challenge = createHash("sha256").update(verifier).digest("base64url");
            const redeem = async (code: string, codeVerifier: string) => token({ grant_type: "authorization_code", code, redirect_uri: PAGE.callbackUrls[0], client_id: PAGE.clientId, code_verifier: codeVerifier });
            assert.deepEqual(await errorOf(await redeem(await codeFor(PAGE, { code_challenge: challenge, code_challenge_method: "S256" }), "another-verifier")), [400, "invalid_grant"]);
            assert.equal((await redeem(await codeFor(PAGE, { code_challenge: challenge, code_challenge_method: "S256" }), verifier)).status, 200);
        });

        it("refreshes with a refresh token of the client within its validity: new access and ID tokens, no new refresh token", async () => {
            const tokens = (await (await token({ grant_type: "authorization_code", code: await codeFor(ALEXA), redirect_uri: ALEXA.callbackUrls[0] }, { authorization: basic(ALEXA) })).json()) as { refresh_token: string; access_token: string };
            clock += 61 * 60_000;
            const refreshed = await token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token }, { authorization: basic(ALEXA) });
            const body = (await refreshed.json()) as Record<string, unknown>;
            assert.equal(refreshed.status, 200);
            assert.equal(body.refresh_token, undefined);
            assert.notEqual(body.access_token, tokens.access_token);
            const exp = JSON.parse(Buffer.from((body.access_token as string).split(".")[1], "base64url").toString()).exp;
            assert.equal(exp, Math.floor(clock / 1000) + 3600);
            assert.deepEqual(await errorOf(await token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: PAGE.clientId })), [400, "invalid_grant"]);
            assert.deepEqual(await errorOf(await token({ grant_type: "refresh_token", refresh_token: "made-up" }, { authorization: basic(ALEXA) })), [400, "invalid_grant"]);
            clock += 3650 * 86_400_000;
            assert.deepEqual(await errorOf(await token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token }, { authorization: basic(ALEXA) })), [400, "invalid_grant"]);
        });

        it("refuses a body that is not a form, a missing parameter, and grant types the clients may not use", async () => {
            const json = await fetch(new URL("/oauth2/token", pool.base), { method: "POST", headers: { "content-type": "application/json", authorization: basic(ALEXA) }, body: "{}" });
            assert.deepEqual(await errorOf(json), [400, "invalid_request"]);
            assert.deepEqual(await errorOf(await token({ grant_type: "authorization_code", redirect_uri: ALEXA.callbackUrls[0] }, { authorization: basic(ALEXA) })), [400, "invalid_request"]);
            assert.deepEqual(await errorOf(await token({ grant_type: "client_credentials" }, { authorization: basic(ALEXA) })), [400, "unauthorized_client"]);
            assert.deepEqual(await errorOf(await token({ grant_type: "password" }, { authorization: basic(ALEXA) })), [400, "unsupported_grant_type"]);
        });
    });

    it("publishes its public keys at the pool's JWKS path", async () => {
        const response = await fetch(pool.jwksUri);
        assert.deepEqual(await response.json(), jwksOf(key));
        assert.equal(pool.jwksUri, `${pool.base}/${POOL_ID}/.well-known/jwks.json`);
        assert.equal(pool.issuer, `https://cognito-idp.us-east-1.amazonaws.com/${POOL_ID}`);
    });

    it("sends the browser to a local address instead of a callback URL's origin when told to (npm start's Alexa), checking the redirect_uri all the same", async () => {
        const mapped = await startUserPool({ poolId: POOL_ID, key, clients: [ALEXA], users: [ADA], redirectHosts: { "https://pitangui.amazon.com": "http://127.0.0.1:4000" } });
        try {
            const go = async (path: string, init: RequestInit = {}) => fetch(new URL(path, mapped.base), { ...init, redirect: "manual" });
            const login = (await go(authorizeQuery(ALEXA))).headers.get("location")!;
            const back = (await go(login, form({ username: ADA.email, password: ADA.password }))).headers.get("location")!;
            assert.match(back, /^http:\/\/127\.0\.0\.1:4000\/api\/skill\/link\/M2AAAAAAAAAAAA\?code=/);
            const code = new URL(back).searchParams.get("code")!;
            const redeemed = await fetch(new URL("/oauth2/token", mapped.base), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(ALEXA) },
                body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: ALEXA.callbackUrls[0] }).toString() });
            assert.equal(redeemed.status, 200, "the code is bound to the redirect_uri as sent, not the local address");
        } finally {
            await mapped.stop();
        }
    });
});
