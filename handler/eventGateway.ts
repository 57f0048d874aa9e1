// Delivers one ChangeReport to Alexa's event gateway for a user, with the user's LWA access token
// (refreshed when it expires, kept per container), and says what became of it. What each answer
// means is decided in handler/causes.ts; here each cause gets its consequence:
//   accepted (202)   done
//   staleToken       refresh the token once, send again; refused again with a token LWA has just
//                    issued: our configuration, not the user's
//   linkGone         only believed for a token LWA has just issued: a first such answer refreshes
//                    and sends again. Then, or when LWA itself refuses the refresh token
//                    (invalid_grant), the grant is forgotten, and only if it still holds the
//                    refresh token that failed (a new AcceptGrant meanwhile stays)
//   configuration    keep the grant and the event; the event waits (the queue redelivers it) and
//                    the log line says what to fix; after the fix, the waiting events go out
//   ourBug           the gateway refuses this event for good: poison (the dead-letter queue)
//   transient        up to 3 tries in all, at least 1 s apart with jitter, within the deadline;
//                    then the event waits for the queue's redelivery
// Gateway addresses: developer.amazon.com/docs/smarthome/send-events.html ("Gateway endpoints");
// "send again, up to 3 times, at least 1 second apart": .../smarthome/send-events-to-the-alexa-event-gateway.html.
import { classifyAwsFailure, classifyGatewayAnswer, Cause, Classified } from "./causes";
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
    /** The user has no grant: events for them are not permitted. */
    | { outcome: "dropped"; reason: string }
    /** The user's grant was proven dead and forgotten; their events stop until they re-enable the skill. */
    | { outcome: "forgotten"; reason: string }
    /** The gateway refuses this event for good (our bug): keep it for inspection (dead-letter queue). */
    | { outcome: "poison"; cause: "ourBug"; reason: string; fix?: string }
    /** Not now: the event waits for the queue to bring it again. Nothing was forgotten. */
    | { outcome: "wait"; cause: Exclude<Cause, "linkGone" | "staleToken">; reason: string; fix?: string };

export interface EventSenderSettings {
    grants: GrantStore;
    lwa: LwaClient;
    /** Default: the region's gateway; tests point every region at their stand-in. */
    gatewayUrl?: (region: string) => string | undefined;
    /** Tries per delivery, every try counted (Amazon: send again up to 3 times). */
    maxAttempts?: number;
    attemptTimeoutMs?: number;
    /** The wait before try n+1: retryBaseMs * 2^(n-1), plus up to as much again as jitter. */
    retryBaseMs?: number;
    /** Users whose tokens a container keeps, the longest unused dropped first. */
    tokensKept?: number;
    now?: () => number;
    /** The wait between tries and its jitter (a fraction in [0, 1)); tests record and fix them. */
    sleep?: (ms: number) => Promise<void>;
    random?: () => number;
}

/** `deadline`: milliseconds since the epoch by which the delivery must be over (the function's budget). */
export type DeliverChangeReport = (userId: string, report: ChangeReport, deadline?: number) => Promise<Delivery>;

/** A token this close to its expiry is refreshed first (a send takes well under this). */
const EXPIRY_MARGIN_MS = 60_000;
/** Without a deadline of the caller's, a delivery keeps to this. */
const DEFAULT_BUDGET_MS = 30_000;
/** No try starts with less time than this left. */
const SHORTEST_TRY_MS = 200;

const waitFor = (answer: Classified, reason: string): Delivery => answer.cause === "linkGone" || answer.cause === "staleToken"
    ? { outcome: "wait", cause: "transient", reason }
    : { outcome: "wait", cause: answer.cause, reason, ...(answer.fix ? { fix: answer.fix } : {}) };

export function createEventSender(settings: EventSenderSettings): DeliverChangeReport {
    const now = settings.now ?? Date.now;
    const urlFor = settings.gatewayUrl ?? gatewayUrl;
    const maxAttempts = settings.maxAttempts ?? 3;
    const attemptTimeoutMs = settings.attemptTimeoutMs ?? 3000;
    const retryBaseMs = settings.retryBaseMs ?? 1000;
    const tokensKept = settings.tokensKept ?? 1000;
    const sleep = settings.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const random = settings.random ?? Math.random;
    // Grants (their access tokens) per user for this container's life: most events need no read.
    // A Map keeps insertion order: a user is moved to the end on use, the first is the longest unused.
    const tokens = new Map<string, Grant>();

    const keep = (userId: string, grant: Grant) => {
        tokens.delete(userId);
        if (tokens.size >= tokensKept) {
            tokens.delete(tokens.keys().next().value!);
        }
        tokens.set(userId, grant);
    };

    /** Forgets a grant proven dead, only if it still holds the refresh token that failed. */
    async function forget(userId: string, dead: Grant, why: string): Promise<Delivery> {
        tokens.delete(userId);
        if (await settings.grants.forget(userId, dead.refreshToken)) {
            return { outcome: "forgotten", reason: `${why}: the grant was forgotten` };
        }
        return { outcome: "wait", cause: "transient", reason: `${why}, but a new grant was stored meanwhile: it is kept, and the event waits to go out with it` };
    }

    /**
     * The grant with a new access token: from the table when another container refreshed it
     * meanwhile (and `failedAccessToken` is not the one stored), otherwise from LWA.
     */
    async function refreshed(userId: string, failedAccessToken: string | undefined, deadline: number): Promise<Grant | Delivery> {
        const stored = await settings.grants.get(userId);
        if (!stored) {
            tokens.delete(userId);
            return { outcome: "dropped", reason: "the user has no grant (it was removed meanwhile)" };
        }
        if (stored.accessToken !== failedAccessToken && stored.accessTokenExpiresAt - EXPIRY_MARGIN_MS > now()) {
            keep(userId, stored);
            return stored;
        }
        try {
            const renewed = { ...stored, ...(await settings.lwa.refresh(stored.refreshToken, deadline)) };
            await settings.grants.updateTokens(userId, stored.refreshToken, renewed);
            keep(userId, renewed);
            return renewed;
        } catch (err) {
            if (!(err instanceof LwaError)) {
                throw err;
            }
            if (err.answer.cause === "linkGone") {
                return forget(userId, stored, `LWA refused the grant's refresh token (${err.answer.code})`);
            }
            return waitFor(err.answer, `the token could not be refreshed: ${err.message}`);
        }
    }

    /** The gateway's answer; status 0: none (`failure` says why). */
    async function post(url: string, report: ChangeReport, accessToken: string, timeoutMs: number): Promise<{ status: number; body: unknown; failure?: string }> {
        try {
            const response = await fetch(url, {
                method: "POST",
                headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` },
                body: JSON.stringify(withToken(report, accessToken)),
                signal: AbortSignal.timeout(timeoutMs),
            });
            const text = await response.text();
            let body: unknown;
            try {
                body = JSON.parse(text);
            } catch {
                // 202 has an empty body; other answers without JSON are judged by their status.
            }
            return { status: response.status, body };
        } catch (err) {
            // AbortSignal.timeout is the only abort here, and it fails the request with a TimeoutError.
            const timedOut = err instanceof Error && err.name === "TimeoutError";
            return { status: 0, body: undefined, failure: timedOut ? `the gateway gave no answer within ${timeoutMs} ms` : "the gateway could not be reached" };
        }
    }

    async function deliver(userId: string, report: ChangeReport, deadline: number): Promise<Delivery> {
        let grant = tokens.get(userId) ?? (await settings.grants.get(userId));
        if (!grant) {
            return { outcome: "dropped", reason: "the user has no grant (events not permitted)" };
        }
        const url = urlFor(grant.region);
        if (url === undefined) {
            // Only a function outside Alexa's three regions stores such a grant: no try can help.
            return { outcome: "poison", cause: "ourBug", reason: `no Alexa event gateway for the grant's region ${grant.region}` };
        }
        // Whether the token in hand was issued by LWA during this delivery.
        let fresh = false;
        if (grant.accessTokenExpiresAt - EXPIRY_MARGIN_MS <= now()) {
            const renewed = await refreshed(userId, grant.accessToken, deadline);
            if ("outcome" in renewed) {
                return renewed;
            }
            grant = renewed;
            fresh = true;
        } else {
            keep(userId, grant);
        }
        let last = "";
        for (let tries = 1; tries <= maxAttempts; tries++) {
            if (tries > 1) {
                const pause = retryBaseMs * 2 ** (tries - 2) * (1 + random());
                if (now() + pause + SHORTEST_TRY_MS > deadline) {
                    return { outcome: "wait", cause: "transient", reason: `${last}; no time left for another try` };
                }
                await sleep(pause);
            }
            const left = deadline - now();
            if (left < SHORTEST_TRY_MS) {
                return { outcome: "wait", cause: "transient", reason: tries === 1 ? "no time left to send the event" : `${last}; no time left for another try` };
            }
            // Whole milliseconds: AbortSignal.timeout refuses fractions.
            const timeoutMs = Math.floor(Math.min(attemptTimeoutMs, left));
            const { status, body, failure } = await post(url, report, grant.accessToken, timeoutMs);
            if (status === 202) {
                return { outcome: "accepted" };
            }
            const answer = classifyGatewayAnswer(status, body);
            // The gateway's code when it named one; the status alone otherwise.
            const named = answer.code.startsWith("HTTP ") ? `${status}` : `${status} ${answer.code}`;
            last = failure ?? `the gateway answered ${named}`;
            if (answer.cause === "staleToken" || answer.cause === "linkGone") {
                if (fresh) {
                    if (answer.cause === "linkGone") {
                        return forget(userId, grant, `${last} for a token LWA had just issued`);
                    }
                    // LWA's token, refused at once: not the user's doing (handler/causes.ts).
                    return { outcome: "wait", cause: "configuration", reason: `${last} for a token LWA had just issued`,
                        fix: "the gateway refuses the tokens LWA issues for this skill: check that alexaClientId and alexaClientSecret are this skill's " +
                            "(Permissions page, Send Alexa Events) and that events go to the gateway of the user's region" };
                }
                const renewed = await refreshed(userId, grant.accessToken, deadline);
                if ("outcome" in renewed) {
                    return renewed;
                }
                grant = renewed;
                fresh = true;
                continue;
            }
            if (answer.cause === "ourBug") {
                return { outcome: "poison", cause: "ourBug", reason: `the gateway refused the event: ${named}`, fix: answer.fix };
            }
            if (answer.cause === "configuration") {
                return waitFor(answer, last);
            }
        }
        return { outcome: "wait", cause: "transient", reason: `${last} (${maxAttempts === 1 ? "1 try" : `${maxAttempts} tries`})` };
    }

    return async (userId, report, deadline = now() + DEFAULT_BUDGET_MS) => {
        try {
            return await deliver(userId, report, deadline);
        } catch (err) {
            // The grants table (or the secret behind LWA's credentials) could not be read or written.
            const answer = err instanceof LwaError ? err.answer : classifyAwsFailure(err);
            return waitFor(answer, `the grant could not be read or updated (${answer.code})`);
        }
    };
}

// Exported here rather than at their declarations (see handler/lamp.ts).
export { GATEWAYS };
