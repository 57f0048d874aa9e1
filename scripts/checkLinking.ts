// `npm run check-linking [-- --stack <name>]`: checks the deployed account linking from this
// machine, the way Alexa will use it, before anybody opens the Alexa app. Each check says pass or
// fail and why; the exit code is 0 only when all pass. The client secret is sent, never printed.
//
// What Cognito answers, and where Amazon documents it:
// - GET /oauth2/authorize redirects (302) to its /login page with the same parameters, which
//   serves the sign-in form (200, text/html); a redirect_uri that is not a callback URL of the app
//   client ends on /error?error=redirect_mismatch, an unknown scope on error=invalid_scope
//   (Cognito developer guide, "The redirect and authorization endpoint", "Login endpoint").
//   Without response_type (code or token) it sends the user back to the redirect URI with
//   error=invalid_request (Cognito developer guide, "Authorize endpoint").
// - POST /oauth2/token with HTTP Basic client credentials answers 400 {"error":"invalid_grant"}
//   for a made-up code when the client ID and secret are right, and {"error":"invalid_client"}
//   when they are not; a body that is not form-encoded or lacks code or redirect_uri gets
//   invalid_request, an unknown grant_type unsupported_grant_type (Cognito developer guide, "The
//   token issuer endpoint"; RFC 6749 §5.2).
// - https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json serves the pool's
//   public keys (Cognito developer guide, "Verifying a JSON Web Token").
//
// With the three smapi* values in the stack's config, it also reads the skill itself through SMAPI
// (the same client as the stack's dynamic provider: infra/smapiClient.ts) and compares its account
// linking and Smart Home endpoints with the stacks' outputs: the development stage, which `pulumi
// up` writes, and, once the skill is certified and published, the live stage, which only a new
// certification changes. What SMAPI answers, and where Amazon documents it, is listed in
// test/support/smapiStandIn.ts.
import type { AccountLinkingRequest } from "../infra/accountLinkingRequest";
import { alexaRegionCode, managedValues } from "../infra/skillManifest";
import { linkingDifferences, shownPart } from "../infra/skillLinking";
import { defaultTiming, LiveStage, readAccountLinking, readLiveStage, readManifest, SmapiCredentials, SmapiEndpoints, SmapiSession, smapiSession, SmapiTiming } from "../infra/smapiClient";
import { endpointsOfPool, RegionEndpoint } from "./alexaValues";
import { listStacks, readStackConfig, readStackOutputs, stackArgument, StackOutputs } from "./stackOutputs";

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

export interface SmapiCheckOptions {
    skillId: string;
    credentials: SmapiCredentials;
    /** Amazon's by default; a stand-in in the tests. */
    endpoints?: SmapiEndpoints;
    timing?: Partial<SmapiTiming>;
    /** The endpoint of each region stack that serves this pool (this stack's included). */
    stackEndpoints: RegionEndpoint[];
}

const AMAZON: SmapiEndpoints = { smapiBase: "https://api.amazonalexa.com", lwaTokenUrl: "https://api.amazon.com/auth/o2/token" };

/** The primary is the stack in us-east-1: it sets the default endpoint (infra/skillConfiguration.ts). */
const PRIMARY_REGION = "us-east-1";

function show(value: unknown): string {
    return value === undefined ? "(not set)" : JSON.stringify(value);
}

/**
 * Reads the skill's live account linking and Smart Home endpoints through SMAPI and compares them
 * with the stack: every field that differs is named, with both values (never the client secret,
 * which SMAPI does not show; the token check covers it).
 */
export async function checkSkillThroughSmapi(outputs: StackOutputs, options: SmapiCheckOptions): Promise<CheckResult[]> {
    const timing = { ...defaultTiming(), ...(options.timing ?? {}) };
    const session = smapiSession(options.skillId, options.credentials, options.endpoints ?? AMAZON, timing);
    const results: CheckResult[] = [];

    const linkingName = "the skill's account linking (read through SMAPI) is the stack's";
    const wanted = outputs.accountLinkingRequest as AccountLinkingRequest | undefined;
    try {
        const live = await readAccountLinking(session);
        if (!wanted?.accountLinkingRequest) {
            results.push({ name: linkingName, ok: false, detail: "the stack has no accountLinkingRequest output: run `npx pulumi up` with this version of the program." });
        } else if (live === undefined) {
            results.push({ name: linkingName, ok: false, detail: "the skill has no account linking: run `npx pulumi up` on the primary stack (with the smapi* values set), or apply it by hand (README, Deploy)." });
        } else {
            const fields = linkingDifferences(live, shownPart(wanted));
            results.push(fields.length === 0
                ? { name: linkingName, ok: true, detail: "every field SMAPI shows matches (the client secret is not readable through SMAPI; the token check tests it)" }
                : { name: linkingName, ok: false, detail: differences(fields, live, wanted) +
                    ". Someone changed it in the console: run `npx pulumi up --refresh` on the primary stack to set it again (a plain `up` compares with its last state only)." });
        }
    } catch (err) {
        results.push({ name: linkingName, ok: false, detail: err instanceof Error ? err.message : String(err) });
    }

    try {
        const { envelope } = await readManifest(session);
        results.push(...endpointChecks(envelope, options.stackEndpoints, "the skill's", " (read through SMAPI)", (endpoint, live) =>
            `the manifest has ${live ?? "no endpoint"} for ${alexaRegionCode(endpoint.region)}: run \`npx pulumi up --refresh --stack ${endpoint.stack}\` (or paste ${endpoint.arn} into the console).`,
        (endpoint, live) => `the manifest has ${live ?? "no default endpoint"}: run \`npx pulumi up --refresh --stack ${endpoint.stack}\`.`));
    } catch (err) {
        results.push({ name: "the skill manifest can be read through SMAPI", ok: false, detail: err instanceof Error ? err.message : String(err) });
    }

    results.push(...await liveStageChecks(session, wanted, options));
    return results;
}

/** Each field that differs, with the skill's value and the stack's (the secret is never among them). */
function differences(fields: string[], live: Record<string, unknown>, wanted: AccountLinkingRequest): string {
    const request = wanted.accountLinkingRequest as unknown as Record<string, unknown>;
    return fields.map((f) => `${f}: the skill has ${show(live[f])}, the stack ${show(request[f])}`).join("; ");
}

/** Each stack's region endpoint in `envelope`, and the primary's default endpoint, as checks. */
function endpointChecks(
    envelope: unknown,
    stackEndpoints: RegionEndpoint[],
    whose: string,
    how: string,
    regionFix: (endpoint: RegionEndpoint, live: string | undefined) => string,
    defaultFix: (endpoint: RegionEndpoint, live: string | undefined) => string,
): CheckResult[] {
    const results: CheckResult[] = [];
    for (const endpoint of stackEndpoints) {
        const region = alexaRegionCode(endpoint.region);
        const live = managedValues(envelope, region);
        const name = `${whose} ${region} endpoint${how} is stack ${endpoint.stack}'s function`;
        results.push(live.regionUri === endpoint.arn ? { name, ok: true, detail: endpoint.arn } : { name, ok: false, detail: regionFix(endpoint, live.regionUri) });
        if (endpoint.region === PRIMARY_REGION) {
            const defaultName = `${whose} default endpoint${how} is stack ${endpoint.stack}'s function`;
            results.push(live.defaultUri === endpoint.arn ? { name: defaultName, ok: true, detail: endpoint.arn } : { name: defaultName, ok: false, detail: defaultFix(endpoint, live.defaultUri) });
        }
    }
    return results;
}

/**
 * What a certified skill's users get. SMAPI writes only the development stage (what `pulumi up`
 * sets); the live stage changes only when a version passes certification and is published. So a
 * function replaced or a stack destroyed after certification leaves live users' directives going
 * to the old function, and a changed pool or domain leaves them linking through the old one.
 */
async function liveStageChecks(session: SmapiSession, wanted: AccountLinkingRequest | undefined, options: SmapiCheckOptions): Promise<CheckResult[]> {
    let live: LiveStage | undefined;
    try {
        live = await readLiveStage(session);
    } catch (err) {
        return [{ name: "the live skill can be read through SMAPI", ok: false, detail: err instanceof Error ? err.message : String(err) }];
    }
    if (live === undefined) {
        return [{ name: "the live skill (read through SMAPI)", ok: true,
            detail: "the skill has no live stage (it was never certified and published): its users are its developers and beta testers, on the development stage that `pulumi up` sets" }];
    }
    const advice = (what: string) => `Live users get ${what} until a version with the stack's values is certified and published. ` +
        `Keep what they use running meanwhile (do not destroy or replace it), and submit the development version for certification ` +
        `(developer console, Certification; or \`ask smapi submit-skill-for-certification --skill-id ${options.skillId}\`).`;
    const results: CheckResult[] = [];
    const linkingName = "the live skill's account linking is the stack's";
    if (wanted?.accountLinkingRequest && live.accountLinking === undefined) {
        results.push({ name: linkingName, ok: false, detail: `the live skill has no account linking. ${advice("no way to link")}` });
    } else if (wanted?.accountLinkingRequest && live.accountLinking !== undefined) {
        const fields = linkingDifferences(live.accountLinking, shownPart(wanted));
        results.push(fields.length === 0
            ? { name: linkingName, ok: true, detail: "every field SMAPI shows matches" }
            : { name: linkingName, ok: false, detail: `${differences(fields, live.accountLinking, wanted)}. ${advice("the live skill's settings when they link")}` });
    }
    results.push(...endpointChecks(live.envelope, options.stackEndpoints, "the live skill's", "", (endpoint, uri) =>
        `the live skill sends ${alexaRegionCode(endpoint.region)} users' directives to ${uri ?? "no endpoint"}, not to ${endpoint.arn}. ${advice("that function")}`,
    (endpoint, uri) => `the live skill's default endpoint is ${uri ?? "not set"}, not ${endpoint.arn}. ${advice("that function")}`));
    return results;
}

/** The SMAPI options from a stack's config, or undefined when its smapi* values are not set. */
export function smapiOptionsFromConfig(config: Record<string, string | undefined>, stackEndpoints: RegionEndpoint[]): SmapiCheckOptions | undefined {
    const [clientId, clientSecret, refreshToken, skillId] = ["smapiClientId", "smapiClientSecret", "smapiRefreshToken", "alexaSkillId"].map((key) => config[key] ?? "");
    if (!clientId || !clientSecret || !refreshToken || !skillId) {
        return undefined;
    }
    return { skillId, credentials: { clientId, clientSecret, refreshToken }, stackEndpoints };
}

async function main() {
    const stack = stackArgument(process.argv);
    const outputs = await readStackOutputs(stack);
    const results = await checkLinking(outputs);
    const smapi = smapiOptionsFromConfig(await readStackConfig(stack), await poolEndpoints(outputs));
    if (smapi) {
        results.push(...(await checkSkillThroughSmapi(outputs, smapi)));
    } else {
        console.log("(The smapi* values are not set: the skill itself is not read. README, Deploy, shows how to set them.)\n");
    }
    console.log(formatResults(results));
    process.exit(results.every((r) => r.ok) ? 0 : 1);
}

/** This stack's endpoint, and those of the other stacks of this project that serve the same pool. */
async function poolEndpoints(outputs: StackOutputs): Promise<RegionEndpoint[]> {
    const stacks: { stack: string; outputs: StackOutputs }[] = [];
    for (const name of await listStacks().catch(() => [] as string[])) {
        const found = await readStackOutputs(name).catch(() => undefined);
        if (found) {
            stacks.push({ stack: name, outputs: found });
        }
    }
    const endpoints = endpointsOfPool(outputs.userPoolId, stacks);
    return endpoints.some((e) => e.arn === outputs.skillEndpointArn)
        ? endpoints
        : [...endpoints, { stack: "(selected)", region: String(outputs.region), arn: String(outputs.skillEndpointArn) }];
}

if (require.main === module) {
    main().catch((err) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(2);
    });
}
