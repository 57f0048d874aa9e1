// A small client for the Alexa Skill Management API, built anew inside each call of the dynamic
// provider (infra/skillProviders.ts) and serialized with it: no module state, no credential kept
// anywhere but in the session object of one call. Bearer token from Login with Amazon's
// refresh-token grant (developer.amazon.com/docs/alexa/smapi/get-access-token-smapi.html).
//
// Operations used (developer.amazon.com/docs/alexa/smapi/skill-operations.html and
// account-linking-operations.html; SMAPI's model: getSkillManifestV1, updateSkillManifestV1,
// getSkillStatusV1, get/updateAccountLinkingInfoV1, getSkillCredentialsV1):
//   GET  /v1/skills/{skillId}/stages/development/manifest           200 + ETag
//   PUT  /v1/skills/{skillId}/stages/development/manifest (If-Match) 202 + Location; 412 stale ETag
//   GET  /v1/skills/{skillId}/status?resource=manifest              lastUpdateRequest.status
//   GET  /v1/skills/{skillId}/stages/development/accountLinkingClient  {accountLinkingResponse}
//   PUT  /v1/skills/{skillId}/stages/development/accountLinkingClient  204
//   GET  /v1/skills/{skillId}/credentials                           {skillMessagingCredentials}
import { endpointChanges, ManagedEndpoint, ownsAnyEntry, withEndpoint, withoutEndpoint } from "./skillManifest";
import { AmazonApiError, explainFailure, HttpFailure, manifestUpdateFailed, redact } from "./smapiErrors";

export interface SmapiCredentials {
    /** Client ID and secret of the LWA security profile, and the refresh token made with it. */
    clientId: string;
    clientSecret: string;
    refreshToken: string;
}

export interface SmapiEndpoints {
    /** https://api.amazonalexa.com, or a stand-in in the tests. */
    smapiBase: string;
    /** https://api.amazon.com/auth/o2/token, or a stand-in in the tests. */
    lwaTokenUrl: string;
}

/** How long to wait for what; the defaults suit Amazon, the tests pass shorter ones. */
export interface SmapiTiming {
    /** First wait after a 429 or 5xx; doubled after each. */
    retryDelayMs: number;
    /** Give up retrying one request after this long. */
    retryBudgetMs: number;
    /** Between two status polls of a manifest update. */
    pollIntervalMs: number;
    /** Give up waiting for a manifest update after this long. */
    pollBudgetMs: number;
    /** Read-modify-write rounds when the manifest keeps changing underneath (412). */
    conflictTries: number;
    /** One HTTP request may take this long. */
    requestTimeoutMs: number;
}

export function defaultTiming(): SmapiTiming {
    return { retryDelayMs: 1000, retryBudgetMs: 60_000, pollIntervalMs: 2000, pollBudgetMs: 180_000, conflictTries: 5, requestTimeoutMs: 20_000 };
}

export interface HttpAnswer {
    status: number;
    headers: Headers;
    body: unknown;
}

export interface SmapiSession {
    request(method: string, path: string, operation: string, options?: { body?: unknown; headers?: Record<string, string>; accept?: number[] }): Promise<HttpAnswer>;
    readonly skillId: string;
}

/** Only the development stage can be written; the live stage changes through certification. */
const STAGE = "development";

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

async function bodyOf(response: Response): Promise<unknown> {
    const text = await response.text();
    if (text === "") {
        return undefined;
    }
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/**
 * One session for one provider call: asks LWA for an access token on first use, sends each request
 * with it, retries throttling and server errors with growing waits within the time budget, and
 * turns any other failure into an error that says what to do, with every secret removed: the SMAPI
 * credentials, the access token, and `alsoSecret` (what the call sends, e.g. the Cognito client
 * secret of an account-linking request, which an answer may quote back).
 */
export function smapiSession(skillId: string, credentials: SmapiCredentials, endpoints: SmapiEndpoints, timing: SmapiTiming = defaultTiming(),
    alsoSecret: readonly string[] = []): SmapiSession {
    const secrets = [credentials.clientSecret, credentials.refreshToken, ...alsoSecret];
    let accessToken: string | undefined;

    const fail = (failure: HttpFailure): AmazonApiError => {
        const error = new AmazonApiError(failure, redact(explainFailure(failure), [...secrets, accessToken]));
        return error;
    };

    /** Sends with retries; `send` builds a fresh request each time. */
    async function withRetries(service: "LWA" | "SMAPI", operation: string, send: () => Promise<Response>, accept: (status: number) => boolean): Promise<HttpAnswer> {
        const started = Date.now();
        let delay = timing.retryDelayMs;
        for (;;) {
            let answer: HttpAnswer | undefined;
            let networkError: unknown;
            try {
                const response = await send();
                answer = { status: response.status, headers: response.headers, body: await bodyOf(response) };
            } catch (err) {
                networkError = err;
            }
            if (answer && accept(answer.status)) {
                return answer;
            }
            const retryable = answer === undefined || answer.status === 429 || answer.status >= 500;
            const retryAfter = Number(answer?.headers.get("retry-after"));
            const wait = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : delay;
            if (!retryable || Date.now() - started + wait > timing.retryBudgetMs) {
                if (answer === undefined) {
                    const cause = networkError instanceof Error ? (networkError.cause instanceof Error ? networkError.cause.message : networkError.message) : String(networkError);
                    const host = new URL(service === "LWA" ? endpoints.lwaTokenUrl : endpoints.smapiBase).host;
                    throw new Error(redact(`Could not reach ${host} to ${operation} (${cause}); check the network and run \`npx pulumi up\` again.`, secrets));
                }
                throw fail({ service, status: answer.status, body: answer.body, operation, skillId });
            }
            await sleep(wait);
            delay *= 2;
        }
    }

    async function token(): Promise<string> {
        if (accessToken === undefined) {
            const form = new URLSearchParams({
                grant_type: "refresh_token",
                refresh_token: credentials.refreshToken,
                client_id: credentials.clientId,
                client_secret: credentials.clientSecret,
            });
            const answer = await withRetries("LWA", "get an access token for SMAPI", () => fetch(endpoints.lwaTokenUrl, {
                method: "POST",
                headers: { "content-type": "application/x-www-form-urlencoded" },
                body: form.toString(),
                signal: AbortSignal.timeout(timing.requestTimeoutMs),
            }), (status) => status === 200);
            const issued = (answer.body as { access_token?: unknown } | undefined)?.access_token;
            if (typeof issued !== "string" || issued.length === 0) {
                throw new Error("Login with Amazon answered without an access token; run `npx pulumi up` again.");
            }
            accessToken = issued;
        }
        return accessToken;
    }

    return {
        skillId,
        async request(method, path, operation, options = {}) {
            const bearer = await token();
            const accept = options.accept ?? [200, 202, 204];
            return withRetries("SMAPI", operation, () => fetch(`${endpoints.smapiBase}${path}`, {
                method,
                headers: {
                    authorization: `Bearer ${bearer}`,
                    accept: "application/json",
                    ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
                    ...(options.headers ?? {}),
                },
                body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
                signal: AbortSignal.timeout(timing.requestTimeoutMs),
            }), (status) => accept.includes(status));
        },
    };
}

function skillPath(skillId: string, rest: string): string {
    return `/v1/skills/${encodeURIComponent(skillId)}/${rest}`;
}

export interface ManifestRead {
    envelope: unknown;
    eTag?: string;
}

export async function readManifest(session: SmapiSession): Promise<ManifestRead> {
    const answer = await session.request("GET", skillPath(session.skillId, `stages/${STAGE}/manifest`), "read the skill manifest");
    return { envelope: answer.body, eTag: answer.headers.get("etag") ?? undefined };
}

/** Status polls running that must show the same outcome before it counts as this update's, when nothing else tells. */
const SETTLE_POLLS = 3;

/**
 * An ETag's value without its quotes and weak mark (RFC 9110 8.8.3), to compare two versions.
 * Exported at the module's end: an export at its declaration would be reached through `exports`,
 * and Pulumi would serialize the module's whole exports object into the providers.
 */
const eTagValue = (eTag: string) => eTag.replace(/^(W\/)?"(.*)"$/, "$2");

/**
 * Polls the manifest's update status until this update is SUCCEEDED (resolves) or FAILED (throws
 * Amazon's errors). Right after a PUT the status may still show the previous update's outcome, so
 * an outcome counts as this update's only after an IN_PROGRESS, or (a success) with a manifest
 * version other than `writtenOver`, the ETag the PUT was made against (the status's eTag is "an
 * opaque identifier for last successfully updated resource": SMAPI's model, ManifestStatus), or
 * when the same outcome shows SETTLE_POLLS times running (SMAPI was done before the first poll).
 */
export async function waitForManifestUpdate(session: SmapiSession, timing: SmapiTiming = defaultTiming(), writtenOver?: string): Promise<void> {
    const started = Date.now();
    let seenInProgress = false;
    let sameOutcome = 0;
    let lastOutcome = "";
    for (;;) {
        const answer = await session.request("GET", `${skillPath(session.skillId, "status")}?resource=manifest`, "read the manifest update's status");
        const manifest = (answer.body as { manifest?: { lastUpdateRequest?: { status?: unknown; errors?: unknown }; eTag?: unknown } } | undefined)?.manifest;
        const last = manifest?.lastUpdateRequest;
        if (last?.status === "IN_PROGRESS") {
            seenInProgress = true;
        } else if (last?.status === "SUCCEEDED" || last?.status === "FAILED") {
            const outcome = `${last.status} ${String(manifest?.eTag)}`;
            sameOutcome = outcome === lastOutcome ? sameOutcome + 1 : 1;
            lastOutcome = outcome;
            const newVersion = writtenOver !== undefined && typeof manifest?.eTag === "string" && eTagValue(manifest.eTag) !== eTagValue(writtenOver);
            if (seenInProgress || (last.status === "SUCCEEDED" && newVersion) || sameOutcome >= SETTLE_POLLS) {
                if (last.status === "SUCCEEDED") {
                    return;
                }
                throw new Error(manifestUpdateFailed(session.skillId, last.errors));
            }
        }
        if (Date.now() - started + timing.pollIntervalMs > timing.pollBudgetMs) {
            throw new Error(`SMAPI was still applying the manifest of ${session.skillId} after ${Math.round(timing.pollBudgetMs / 1000)} s (status ${String(last?.status)}): ` +
                "check the skill's Build page in the console, then run `npx pulumi refresh` and `npx pulumi up`.");
        }
        await sleep(timing.pollIntervalMs);
    }
}

/**
 * Read, change, write with If-Match, wait: the manifest gets `change(envelope)` (null: nothing to
 * do). A 412 means someone wrote the manifest between our read and our write: read it again and
 * redo the change on top of theirs, so that no one's entry is lost.
 */
async function changeManifest(session: SmapiSession, change: (envelope: unknown) => unknown | null, timing: SmapiTiming): Promise<boolean> {
    for (let attempt = 1; attempt <= timing.conflictTries; attempt++) {
        const { envelope, eTag } = await readManifest(session);
        const changed = change(envelope);
        if (changed === null) {
            return false;
        }
        const answer = await session.request("PUT", skillPath(session.skillId, `stages/${STAGE}/manifest`), "update the skill manifest", {
            body: changed,
            headers: eTag !== undefined ? { "if-match": eTag } : {},
            accept: [202, 409, 412],
        });
        if (answer.status === 202) {
            await waitForManifestUpdate(session, timing, eTag);
            return true;
        }
        if (answer.status === 409) {
            // 409: an earlier update is still being applied; give it time before reading again.
            await sleep(timing.pollIntervalMs);
        }
    }
    throw new Error(`The manifest of ${session.skillId} changed under every one of ${timing.conflictTries} writes (HTTP 412, Precondition failed): ` +
        "another stack or the console is writing it right now. Run `npx pulumi up` again when they are done.");
}

/** Sets this stack's endpoint entries; no write when they already hold the wanted values. */
export function applyEndpoint(session: SmapiSession, wanted: ManagedEndpoint, timing: SmapiTiming = defaultTiming()): Promise<boolean> {
    return changeManifest(session, (envelope) => (endpointChanges(envelope, wanted).length === 0 ? null : withEndpoint(envelope, wanted)), timing);
}

/** Removes this stack's endpoint entries, only while they still point at its function. */
export function removeEndpoint(session: SmapiSession, owned: ManagedEndpoint, timing: SmapiTiming = defaultTiming()): Promise<boolean> {
    return changeManifest(session, (envelope) => (ownsAnyEntry(envelope, owned) ? withoutEndpoint(envelope, owned) : null), timing);
}

/** What a certified skill's users get: the live stage's manifest and account linking. */
export interface LiveStage {
    envelope: unknown;
    /** Undefined: the live skill has no account linking. */
    accountLinking?: Record<string, unknown>;
}

/**
 * The live stage, read only (SMAPI serves GET on stages/live like stages/development; it changes
 * only when a certified version is published), or undefined when the skill has none: 404, a skill
 * never certified and published.
 */
export async function readLiveStage(session: SmapiSession): Promise<LiveStage | undefined> {
    const manifest = await session.request("GET", skillPath(session.skillId, "stages/live/manifest"), "read the live skill's manifest", { accept: [200, 404] });
    if (manifest.status === 404) {
        return undefined;
    }
    const linking = await session.request("GET", skillPath(session.skillId, "stages/live/accountLinkingClient"), "read the live skill's account linking", { accept: [200, 404] });
    const body = linking.body as { accountLinkingResponse?: Record<string, unknown> } | undefined;
    return { envelope: manifest.body, accountLinking: linking.status === 404 ? undefined : body?.accountLinkingResponse ?? (body as Record<string, unknown> | undefined) };
}

/** The skill's account linking as SMAPI shows it (never with the client secret), or undefined when none is set. */
export async function readAccountLinking(session: SmapiSession): Promise<Record<string, unknown> | undefined> {
    const answer = await session.request("GET", skillPath(session.skillId, `stages/${STAGE}/accountLinkingClient`), "read the account linking", { accept: [200, 404] });
    if (answer.status === 404) {
        return undefined;
    }
    const body = answer.body as { accountLinkingResponse?: Record<string, unknown> } | undefined;
    return body?.accountLinkingResponse ?? (body as Record<string, unknown> | undefined);
}

export async function writeAccountLinking(session: SmapiSession, request: unknown): Promise<void> {
    await session.request("PUT", skillPath(session.skillId, `stages/${STAGE}/accountLinkingClient`), "update the account linking", { body: request, accept: [200, 204] });
}

/** The skill's messaging credentials (the console's Permissions page: Alexa Client ID and Secret). */
export async function readMessagingCredentials(session: SmapiSession): Promise<{ clientId: string; clientSecret: string }> {
    const answer = await session.request("GET", skillPath(session.skillId, "credentials"), "read the skill's messaging credentials", { accept: [200, 404] });
    if (answer.status === 404) {
        throw new Error(`SMAPI has no messaging credentials for ${session.skillId} (HTTP 404): a skill gets them with a permission in its manifest; ` +
            'turn on "Send Alexa Events" on the skill\'s Permissions page in the console (and check alexaSkillId), then run `npx pulumi up` again.');
    }
    const credentials = (answer.body as { skillMessagingCredentials?: { clientId?: unknown; clientSecret?: unknown } } | undefined)?.skillMessagingCredentials;
    if (typeof credentials?.clientId !== "string" || typeof credentials.clientSecret !== "string") {
        throw new Error(`SMAPI answered without messaging credentials for ${session.skillId}: turn on "Send Alexa Events" on the skill's Permissions page in the console, then run \`npx pulumi up\` again.`);
    }
    return { clientId: credentials.clientId, clientSecret: credentials.clientSecret };
}

export { eTagValue };
