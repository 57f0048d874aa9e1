// Delivers one ChangeReport to Alexa's event gateway for a user, with the user's LWA access token
// (refreshed when it expires, kept per container), and says what became of it.
// Gateway addresses: developer.amazon.com/docs/smarthome/send-events.html ("Gateway endpoints").
// Answers handled (same page and .../smarthome/send-events-to-the-alexa-event-gateway.html,
// "Response codes"; the stand-in is test/support/alexaGateway.ts):
//   202                 accepted
//   401 INVALID_ACCESS_TOKEN_EXCEPTION   refresh the token once and send again
//   403 SKILL_DISABLED_EXCEPTION, SKILL_NEVER_ENABLED_EXCEPTION, INSUFFICIENT_PERMISSION_EXCEPTION,
//   404 ACCOUNT_NOT_FOUND_EXCEPTION      the user's permission is gone: delete the grant, stop sending
//   400 INVALID_REQUEST_EXCEPTION, 413, any other 403/404   refused for good: poison (dead-letter queue)
//   429 THROTTLING_EXCEPTION, 5xx, no answer   retry with backoff, then later through the queue
import { ChangeReport, withToken } from "./changeReport";
import { Grant, GrantStore } from "./grantStore";
import { LwaClient, LwaError } from "./lwa";

/** Where each Alexa region's events go, by the AWS region whose function received the grant. */
const GATEWAYS: Record<string, string> = {
    "us-east-1": "https://api.amazonalexa.com/v3/events",
    "eu-west-1": "https://api.eu.amazonalexa.com/v3/events",
    "us-west-2": "https://api.fe.amazonalexa.com/v3/events",
};

/** The gateway of the Alexa region served from this AWS region; undefined for any other region. */
export function gatewayUrl(region: string): string | undefined {
    return Object.hasOwn(GATEWAYS, region) ? GATEWAYS[region] : undefined;
}

export type Delivery =
    | { outcome: "accepted" }
    /** Nothing more to do: no grant, or the user's permission is gone (the grant was deleted). */
    | { outcome: "dropped"; reason: string }
    /** The gateway refuses this event for good: keep it for inspection (dead-letter queue). */
    | { outcome: "poison"; reason: string }
    /** Try again later (gateway or LWA unavailable): the queue redelivers it. */
    | { outcome: "retry"; reason: string };

export interface EventSenderSettings {
    grants: GrantStore;
    lwa: LwaClient;
    /** Default: the region's gateway; tests point every region at their stand-in. */
    gatewayUrl?: (region: string) => string | undefined;
    /** Tries on 429, 5xx and network failures before leaving the event to the queue. */
    maxAttempts?: number;
    attemptTimeoutMs?: number;
    /** Backoff before try n+1: base * 2^(n-1) with full jitter. */
    backoffBaseMs?: number;
    now?: () => number;
    /** The backoff's wait and its jitter (a fraction in [0, 1)); tests record and fix them. */
    sleep?: (ms: number) => Promise<void>;
    random?: () => number;
}

export type DeliverChangeReport = (userId: string, report: ChangeReport) => Promise<Delivery>;

/** A token this close to its expiry is refreshed first (a send takes well under this). */
const EXPIRY_MARGIN_MS = 60_000;
const GONE = ["SKILL_DISABLED_EXCEPTION", "SKILL_NEVER_ENABLED_EXCEPTION", "INSUFFICIENT_PERMISSION_EXCEPTION", "ACCOUNT_NOT_FOUND_EXCEPTION"];
const CODE = /^[A-Z_]{1,64}$/;

export function createEventSender(settings: EventSenderSettings): DeliverChangeReport {
    const now = settings.now ?? Date.now;
    const urlFor = settings.gatewayUrl ?? gatewayUrl;
    const maxAttempts = settings.maxAttempts ?? 3;
    const attemptTimeoutMs = settings.attemptTimeoutMs ?? 3000;
    const backoffBaseMs = settings.backoffBaseMs ?? 200;
    const sleep = settings.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const random = settings.random ?? Math.random;
    // Access tokens per user for this container's life: most events need no DynamoDB read.
    const tokens = new Map<string, Grant>();

    async function freshGrant(userId: string, force: boolean): Promise<Grant | undefined> {
        let grant = tokens.get(userId) ?? (await settings.grants.get(userId));
        if (!grant) {
            tokens.delete(userId);
            return undefined;
        }
        if (force || grant.accessTokenExpiresAt - EXPIRY_MARGIN_MS <= now()) {
            const stored = await settings.grants.get(userId);
            if (!stored) {
                tokens.delete(userId);
                return undefined;
            }
            // Another container may have refreshed it already.
            if (!force && stored.accessTokenExpiresAt - EXPIRY_MARGIN_MS > now()) {
                grant = stored;
            } else {
                const refreshed = await settings.lwa.refresh(stored.refreshToken);
                await settings.grants.updateTokens(userId, stored.refreshToken, refreshed);
                grant = { ...stored, ...refreshed };
            }
        }
        tokens.set(userId, grant);
        return grant;
    }

    async function post(url: string, report: ChangeReport, accessToken: string): Promise<{ status: number; code: string }> {
        try {
            const response = await fetch(url, {
                method: "POST",
                headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` },
                body: JSON.stringify(withToken(report, accessToken)),
                signal: AbortSignal.timeout(attemptTimeoutMs),
            });
            const text = await response.text();
            let code = "";
            try {
                const parsed = JSON.parse(text)?.payload?.code;
                code = typeof parsed === "string" && CODE.test(parsed) ? parsed : "";
            } catch {
                // 202 has an empty body; other answers without JSON are judged by their status.
            }
            return { status: response.status, code };
        } catch (err) {
            // AbortSignal.timeout is the only abort here, and it fails the request with a TimeoutError.
            const timedOut = err instanceof Error && err.name === "TimeoutError";
            return { status: 0, code: timedOut ? `no answer within ${attemptTimeoutMs} ms` : "unreachable" };
        }
    }

    return async (userId, report) => {
        let grant: Grant | undefined;
        let refreshedAfter401 = false;
        try {
            grant = await freshGrant(userId, false);
            if (!grant) {
                return { outcome: "dropped", reason: "the user has no grant (events not permitted)" };
            }
            const url = urlFor(grant.region);
            if (url === undefined) {
                // Only a function outside Alexa's three regions stores such a grant: no try can help.
                return { outcome: "poison", reason: `no Alexa event gateway for the grant's region ${grant.region}` };
            }
            for (let tries = 1; ; tries++) {
                const { status, code } = await post(url, report, grant.accessToken);
                if (status === 202) {
                    return { outcome: "accepted" };
                }
                if (status === 401 && !refreshedAfter401) {
                    // The token was revoked or expired early: one refresh, one more send.
                    refreshedAfter401 = true;
                    grant = await freshGrant(userId, true);
                    if (!grant) {
                        return { outcome: "dropped", reason: "the grant was deleted meanwhile" };
                    }
                    tries--;
                    continue;
                }
                if ((status === 403 || status === 404) && GONE.includes(code)) {
                    await settings.grants.delete(userId);
                    tokens.delete(userId);
                    return { outcome: "dropped", reason: `the gateway answered ${status} ${code}: the grant was deleted` };
                }
                if (status === 400 || status === 403 || status === 404 || status === 413) {
                    return { outcome: "poison", reason: `the gateway refused the event: ${status} ${code}` };
                }
                const reason = status === 0 ? `the gateway: ${code}` : `the gateway answered ${status} ${code}`.trim();
                if (status === 401 || tries >= maxAttempts) {
                    return { outcome: "retry", reason };
                }
                await sleep(random() * backoffBaseMs * 2 ** (tries - 1));
            }
        } catch (err) {
            if (err instanceof LwaError && err.kind === "rejected") {
                // The refresh token no longer works (the user unlinked, or Amazon revoked it).
                await settings.grants.delete(userId);
                tokens.delete(userId);
                return { outcome: "dropped", reason: `${err.message}: the grant was deleted` };
            }
            return { outcome: "retry", reason: err instanceof LwaError ? err.message : `the grant could not be read or updated (${err instanceof Error ? err.name : typeof err})` };
        }
    };
}

// Exported here rather than at their declarations (see handler/lamp.ts).
export { GATEWAYS };
