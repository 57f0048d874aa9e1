// `npm run check-linking [-- --stack <name>]`: checks the deployed account linking from this
// machine, the way Alexa will use it, before anybody opens the Alexa app. Each check says pass or
// fail and why; the exit code is 0 only when all pass. The client secret is sent, never printed.
//
// What Cognito answers, and where Amazon documents it:
// - GET /oauth2/authorize redirects (302) to its /login page with the same parameters, which
//   serves the sign-in form (200, text/html); a redirect_uri that is not a callback URL of the app
//   client ends on /error?error=redirect_mismatch, an unknown scope on error=invalid_scope
//   (Cognito developer guide, "The redirect and authorization endpoint", "Login endpoint").
// - POST /oauth2/token with HTTP Basic client credentials answers 400 {"error":"invalid_grant"}
//   for a made-up code when the client ID and secret are right, and {"error":"invalid_client"}
//   when they are not (Cognito developer guide, "The token issuer endpoint"; RFC 6749 §5.2).
// - https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json serves the pool's
//   public keys (Cognito developer guide, "Verifying a JSON Web Token").
import { readStackOutputs, stackArgument, StackOutputs } from "./stackOutputs";

export interface CheckResult {
    name: string;
    ok: boolean;
    detail: string;
}

export interface CheckOptions {
    /** Milliseconds each request may take. */
    timeoutMs?: number;
    fetch?: typeof fetch;
}

/** Refresh tokens shorter than this unlink every user that long after they linked. */
export const MIN_REFRESH_TOKEN_DAYS = 365;

async function request(url: string, init: RequestInit, options: CheckOptions): Promise<Response> {
    return (options.fetch ?? fetch)(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
}

function failure(err: unknown, url: string): string {
    const name = err instanceof Error ? err.name : "";
    if (name === "TimeoutError" || name === "AbortError") {
        return `no answer from ${new URL(url).host} in time`;
    }
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return `could not reach ${new URL(url).host}${cause}`;
}

async function checkAuthorize(outputs: StackOutputs, redirectUrl: string, options: CheckOptions): Promise<CheckResult> {
    const name = `authorization URI accepts ${redirectUrl}`;
    const url = new URL(String(outputs.authorizationUri));
    url.search = new URLSearchParams({
        response_type: "code",
        client_id: String(outputs.clientId),
        redirect_uri: redirectUrl,
        scope: (outputs.scopes as string[]).join(" "),
        state: "check-linking",
    }).toString();
    try {
        const first = await request(url.toString(), {}, options);
        const location = first.headers.get("location");
        if (first.status !== 302 || !location) {
            return { name, ok: false, detail: `expected a redirect to the login page, got HTTP ${first.status}` };
        }
        const next = new URL(location, url);
        const error = next.searchParams.get("error");
        if (error === "redirect_mismatch") {
            return { name, ok: false, detail: "Cognito refuses this redirect_uri (redirect_mismatch): the app client's callback URLs lack it. Check alexaVendorId against the console's Alexa Redirect URLs and run `npx pulumi up`." };
        }
        if (error === "invalid_scope") {
            return { name, ok: false, detail: `Cognito refuses the scopes ${(outputs.scopes as string[]).join(" ")} (invalid_scope): set the console's Scope to the stack's scopes.` };
        }
        if (error) {
            return { name, ok: false, detail: `Cognito answers error=${error}: check the client ID (${outputs.clientId}) against the stack's clientId.` };
        }
        if (!next.pathname.endsWith("/login")) {
            return { name, ok: false, detail: `expected a redirect to /login, got one to ${next.pathname}` };
        }
        const login = await request(next.toString(), {}, options);
        const type = login.headers.get("content-type") ?? "";
        if (login.status !== 200 || !type.includes("text/html")) {
            return { name, ok: false, detail: `the login page answers HTTP ${login.status} (${type || "no content type"})` };
        }
        return { name, ok: true, detail: "redirects to Cognito's login page" };
    } catch (err) {
        return { name, ok: false, detail: failure(err, url.toString()) };
    }
}

async function checkToken(outputs: StackOutputs, options: CheckOptions): Promise<CheckResult> {
    const name = "access token URI accepts the client ID and secret (HTTP Basic)";
    const url = String(outputs.accessTokenUri);
    // RFC 6749 §2.3.1: both parts form-encoded before the Basic encoding.
    const basic = Buffer.from(`${encodeURIComponent(String(outputs.clientId))}:${encodeURIComponent(String(outputs.clientSecret))}`).toString("base64");
    try {
        const response = await request(url, {
            method: "POST",
            headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({
                grant_type: "authorization_code",
                code: "check-linking-not-a-real-code",
                redirect_uri: (outputs.alexaRedirectUrls as string[])[0],
            }).toString(),
        }, options);
        const body = (await response.json().catch(() => ({}))) as { error?: string };
        if (body.error === "invalid_grant") {
            return { name, ok: true, detail: "a made-up code is refused as invalid_grant, so the client credentials are right" };
        }
        if (body.error === "invalid_client") {
            return { name, ok: false, detail: "Cognito refuses the client credentials (invalid_client): paste the stack's clientSecret into the console's Your Secret again, and choose HTTP Basic." };
        }
        if (body.error === "unauthorized_client") {
            return { name, ok: false, detail: "the app client may not use the authorization code grant (unauthorized_client): redeploy the stack." };
        }
        return { name, ok: false, detail: `expected invalid_grant, got HTTP ${response.status}${body.error ? ` error=${body.error}` : ""}` };
    } catch (err) {
        return { name, ok: false, detail: failure(err, url) };
    }
}

async function checkJwks(outputs: StackOutputs, options: CheckOptions): Promise<CheckResult> {
    const url = String(outputs.jwksUri);
    const name = "the pool's JWKS is reachable";
    try {
        const response = await request(url, {}, options);
        const jwks = (await response.json().catch(() => undefined)) as { keys?: unknown[] } | undefined;
        return response.status === 200 && Array.isArray(jwks?.keys) && jwks.keys.length > 0
            ? { name, ok: true, detail: `${jwks.keys.length} key(s) at ${url}` }
            : { name, ok: false, detail: `expected a JWKS with keys at ${url}, got HTTP ${response.status}` };
    } catch (err) {
        return { name, ok: false, detail: failure(err, url) };
    }
}

function checkRefreshLifetime(outputs: StackOutputs): CheckResult {
    const days = Number(outputs.refreshTokenValidityDays);
    const name = "refresh tokens live long enough to keep users linked";
    return days >= MIN_REFRESH_TOKEN_DAYS
        ? { name, ok: true, detail: `${days} days` }
        : { name, ok: false, detail: `${days} days: every user is unlinked ${days} days after linking. Run \`npx pulumi config set refreshTokenValidityDays 3650\` and \`npx pulumi up\`.` };
}

export async function checkLinking(outputs: StackOutputs, options: CheckOptions = {}): Promise<CheckResult[]> {
    const redirects = outputs.alexaRedirectUrls as string[];
    return Promise.all([
        ...redirects.map((url) => checkAuthorize(outputs, url, options)),
        checkToken(outputs, options),
        checkJwks(outputs, options),
        Promise.resolve(checkRefreshLifetime(outputs)),
    ]);
}

export function formatResults(results: CheckResult[]): string {
    const passed = results.filter((r) => r.ok).length;
    return [
        ...results.map((r) => `${r.ok ? "PASS" : "FAIL"}  ${r.name}\n      ${r.detail}`),
        "",
        passed === results.length ? `All ${results.length} checks passed.` : `${results.length - passed} of ${results.length} checks failed.`,
    ].join("\n");
}

async function main() {
    const outputs = await readStackOutputs(stackArgument(process.argv));
    const results = await checkLinking(outputs);
    console.log(formatResults(results));
    process.exit(results.every((r) => r.ok) ? 0 : 1);
}

if (require.main === module) {
    main().catch((err) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(2);
    });
}
