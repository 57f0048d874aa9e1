// Delivers one ChangeReport to Alexa's event gateway for a user, with the user's LWA access token
// (refreshed when it expires, kept per container), and says what became of it. What each answer
// means is decided in handler/causes.ts; here each cause gets its consequence:
//   accepted (202)   done
//   staleToken       refresh the token, send again; refused again with a token LWA has just issued:
//                    our configuration, not the user's
//   userUnreachable  (the gateway knows no account or skill for the user) ask LWA with a refresh and
//                    send again; said again of a token LWA has just issued: the event is dropped,
//                    the grant kept (the gateway's word is not proof the grant is dead)
//   linkGone         (LWA refused the refresh token) the grant is forgotten, and only if: the grant
//                    was made with the Alexa Client Id in use now (for a grant from before that was
//                    recorded: these credentials have had tokens from LWA in this container), else
//                    the credentials may be another skill's, our configuration; and the grant still
//                    holds the refresh token that failed (a new AcceptGrant meanwhile stays)
//   configuration    keep the grant and the event; the event waits (the queue redelivers it) and
//                    the log line says what to fix; after the fix, the waiting events go out. A 403
//                    outside Amazon's table asks LWA first: a user who disabled the skill can get one
//   ourBug           the gateway refuses this event for good: poison (the dead-letter queue)
//   transient        up to 3 tries in all, at least 1 s apart with jitter, within the deadline;
//                    then the event waits for the queue's redelivery
// Before every try the report is checked against the lamp (`stillCurrent`): one the lamp has moved
// on from is not sent, so a late delivery never rolls the Alexa app back.
// Gateway addresses: developer.amazon.com/docs/smarthome/send-events.html ("Gateway endpoints");
// "send again, up to 3 times, at least 1 second apart": .../smarthome/send-events-to-the-alexa-event-gateway.html.
import { classifyAwsFailure, classifyGatewayAnswer, Cause, Classified, GATEWAY_CODES } from "./causes";
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

/** The causes an event can wait for (the queue brings it again). */
export type WaitCause = Exclude<Cause, "linkGone" | "staleToken" | "userUnreachable">;

export type Delivery = (
    | { outcome: "accepted" }
    /** The lamp has changed since the report: a later report, or Alexa's own directive, says what it is now. */
    | { outcome: "superseded"; reason: string }
    /** This event cannot reach the user (no grant, or Alexa knows no account for them); nothing forgotten. */
    | { outcome: "dropped"; reason: string }
    /** LWA proved the user's grant dead and it was forgotten; their events stop until they re-enable the skill. */
    | { outcome: "forgotten"; reason: string }
    /** The gateway refuses this event for good (our bug): keep it for inspection (dead-letter queue). */
    | { outcome: "poison"; cause: "ourBug"; reason: string; fix?: string }
    /** Not now: the event waits for the queue to bring it again. Nothing was forgotten. */
    | { outcome: "wait"; cause: WaitCause; reason: string; fix?: string }
) & {
    /** Tokens LWA renewed that could not be stored (kept in this container, stored at its next try). */
    unstoredTokens?: Classified;
};

export interface EventSenderSettings {
    grants: GrantStore;
    lwa: LwaClient;
    /** Whether the report still says what the lamp is; asked before every try. Default: always. */
    stillCurrent?: (userId: string, report: ChangeReport) => Promise<boolean>;
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

const waitFor = (answer: Classified, reason: string): Delivery => answer.cause === "configuration" || answer.cause === "ourBug" || answer.cause === "transient"
    ? { outcome: "wait", cause: answer.cause, reason, ...(answer.fix ? { fix: answer.fix } : {}) }
    : { outcome: "wait", cause: "transient", reason };

/** A grant a container keeps; `unstoredOver`: the refresh token still in the table, when renewed tokens could not be stored. */
interface Kept {
    grant: Grant;
    unstoredOver?: string;
}

/** A grant whose access token LWA issued during this delivery, or not. */
type Renewed = { grant: Grant; issuedNow: boolean; unstored?: Classified };

export function createEventSender(settings: EventSenderSettings): DeliverChangeReport {
    const now = settings.now ?? Date.now;
    const urlFor = settings.gatewayUrl ?? gatewayUrl;
    const maxAttempts = settings.maxAttempts ?? 3;
    const attemptTimeoutMs = settings.attemptTimeoutMs ?? 3000;
    const retryBaseMs = settings.retryBaseMs ?? 1000;
    const tokensKept = settings.tokensKept ?? 1000;
    const sleep = settings.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const random = settings.random ?? Math.random;
    const stillCurrent = settings.stillCurrent ?? (async () => true);
    // Grants (their access tokens) per user for this container's life: most events need no read.
    // A Map keeps insertion order: a user is moved to the end on use, the first is the longest unused.
    const tokens = new Map<string, Kept>();

    const keep = (userId: string, kept: Kept) => {
        tokens.delete(userId);
        if (tokens.size >= tokensKept) {
            tokens.delete(tokens.keys().next().value!);
        }
        tokens.set(userId, kept);
    };

    /** Stores renewed tokens over `over` (the refresh token in the table); the failure's cause, if any. */
    async function store(userId: string, over: string, renewed: Grant): Promise<Classified | undefined> {
        try {
            await settings.grants.updateTokens(userId, over, renewed);
            keep(userId, { grant: renewed });
            return undefined;
        } catch (err) {
            // Kept here all the same: LWA may have rotated the refresh token, and this container
            // may then hold the only good one. The next delivery for the user stores it again.
            keep(userId, { grant: renewed, unstoredOver: over });
            return classifyAwsFailure(err);
        }
    }

    /**
     * Forgets a grant LWA refused, if the refusal proves it dead and the grant is still that one.
     * invalid_grant also means a refresh token "issued to another client" (RFC 6749 section 5.2):
     * it proves the grant dead only when asked by the client the grant was made with (recorded
     * since this version), or, for an older grant, by credentials LWA has given tokens to already.
     */
    async function forgetIfDead(userId: string, stored: Grant, err: LwaError, inTable: string): Promise<Delivery> {
        const refused = `LWA refused the grant's refresh token (${err.answer.code})`;
        if (stored.clientId !== undefined && stored.clientId !== err.clientId) {
            return {
                outcome: "wait",
                cause: "configuration",
                reason: `${refused}, which was issued to the Alexa Client Id ${stored.clientId}; the functions now use ${err.clientId}`,
                fix: "a refresh token works only with the client it was issued to: set alexaClientId and alexaClientSecret back to the skill's own (Permissions page) and run pulumi up; the grant is kept",
            };
        }
        if (stored.clientId === undefined && !err.credentialsProven) {
            return {
                outcome: "wait",
                cause: "configuration",
                reason: `${refused}; the grant does not say which client it was issued to, and these credentials have had no token from LWA in this container yet`,
                fix: "either the user disabled the skill (the grant is forgotten once another refresh proves the credentials), or alexaClientId and " +
                    "alexaClientSecret are another skill's: check them on the skill's Permissions page; the grant is kept",
            };
        }
        tokens.delete(userId);
        if (await settings.grants.forget(userId, inTable)) {
            return { outcome: "forgotten", reason: `${refused}: the grant was forgotten` };
        }
        return { outcome: "wait", cause: "transient", reason: `${refused}, but a new grant was stored meanwhile: it is kept, and the event waits to go out with it` };
    }

    /**
     * The grant with a new access token: from the table when another container refreshed it
     * meanwhile (and `failedAccessToken` is not the one stored), otherwise from LWA.
     */
    async function refreshed(userId: string, failedAccessToken: string | undefined, deadline: number): Promise<Renewed | Delivery> {
        const stored = await settings.grants.get(userId);
        if (!stored) {
            tokens.delete(userId);
            return { outcome: "dropped", reason: "the user has no grant (it was removed meanwhile)" };
        }
        // Tokens LWA renewed over the stored ones that could not be stored are the newer: LWA may
        // have rotated the refresh token, and the stored one be dead already.
        const kept = tokens.get(userId);
        const current = kept?.unstoredOver !== undefined && kept.unstoredOver === stored.refreshToken ? kept.grant : stored;
        if (current.accessToken !== failedAccessToken && current.accessTokenExpiresAt - EXPIRY_MARGIN_MS > now()) {
            keep(userId, current === stored ? { grant: stored } : kept!);
            return { grant: current, issuedNow: false };
        }
        let renewed: Grant;
        try {
            renewed = { ...current, ...(await settings.lwa.refresh(current.refreshToken, deadline)) };
        } catch (err) {
            if (!(err instanceof LwaError)) {
                throw err;
            }
            if (err.answer.cause === "linkGone") {
                return forgetIfDead(userId, current, err, stored.refreshToken);
            }
            return waitFor(err.answer, `the token could not be refreshed: ${err.message}`);
        }
        return { grant: renewed, issuedNow: true, unstored: await store(userId, stored.refreshToken, renewed) };
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

    async function deliver(userId: string, report: ChangeReport, deadline: number, unstored: { cause?: Classified }): Promise<Delivery> {
        const kept = tokens.get(userId);
        let grant = kept?.grant ?? (await settings.grants.get(userId));
        if (!grant) {
            return { outcome: "dropped", reason: "the user has no grant (events not permitted)" };
        }
        const url = urlFor(grant.region);
        if (url === undefined) {
            // Only a function outside Alexa's three regions stores such a grant: no try can help.
            return { outcome: "poison", cause: "ourBug", reason: `no Alexa event gateway for the grant's region ${grant.region}` };
        }
        if (kept?.unstoredOver !== undefined) {
            unstored.cause = await store(userId, kept.unstoredOver, grant);
        }
        // Whether LWA issued the token in hand during this delivery.
        let issuedNow = false;
        const renew = async (failedAccessToken: string): Promise<Delivery | undefined> => {
            const renewed = await refreshed(userId, failedAccessToken, deadline);
            if ("outcome" in renewed) {
                return renewed;
            }
            grant = renewed.grant;
            issuedNow = renewed.issuedNow;
            unstored.cause ??= renewed.unstored;
            return undefined;
        };
        if (grant.accessTokenExpiresAt - EXPIRY_MARGIN_MS <= now()) {
            const stop = await renew(grant.accessToken);
            if (stop) {
                return stop;
            }
        } else {
            // Kept (again), as the most recently used.
            keep(userId, tokens.get(userId) ?? { grant });
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
            if (!(await stillCurrent(userId, report))) {
                return { outcome: "superseded", reason: "the lamp has changed since: a later report, or the answer to Alexa's own directive, says what it is now" };
            }
            // Whole milliseconds: AbortSignal.timeout refuses fractions.
            const timeoutMs = Math.floor(Math.min(attemptTimeoutMs, deadline - now()));
            const { status, body, failure } = await post(url, report, grant.accessToken, timeoutMs);
            if (status === 202) {
                return { outcome: "accepted" };
            }
            const answer = classifyGatewayAnswer(status, body);
            // The gateway's code when it named one; the status alone otherwise.
            const named = answer.code.startsWith("HTTP ") ? `${status}` : `${status} ${answer.code}`;
            last = failure ?? `the gateway answered ${named}`;
            // A 403 outside Amazon's table may be a user who disabled the skill: LWA can tell.
            const askLwa = answer.cause === "staleToken" || answer.cause === "userUnreachable" ||
                (answer.cause === "configuration" && status === 403 && !Object.hasOwn(GATEWAY_CODES, answer.code));
            if (askLwa && !issuedNow) {
                const stop = await renew(grant.accessToken);
                if (stop) {
                    return stop;
                }
                continue;
            }
            if (answer.cause === "userUnreachable") {
                return { outcome: "dropped", reason: `${last} for a token LWA had just issued: this event cannot reach the user; the grant is kept` };
            }
            if (answer.cause === "staleToken") {
                // LWA's token, refused at once: not the user's doing (handler/causes.ts).
                return { outcome: "wait", cause: "configuration", reason: `${last} for a token LWA had just issued`,
                    fix: "the gateway refuses the tokens LWA issues for this skill: check that alexaClientId and alexaClientSecret are this skill's " +
                        "(Permissions page, Send Alexa Events) and that events go to the gateway of the user's region" };
            }
            if (answer.cause === "ourBug") {
                return { outcome: "poison", cause: "ourBug", reason: `the gateway refused the event: ${named}`, ...(answer.fix ? { fix: answer.fix } : {}) };
            }
            if (answer.cause === "configuration") {
                return waitFor(answer, last);
            }
        }
        return { outcome: "wait", cause: "transient", reason: `${last} (${maxAttempts === 1 ? "1 try" : `${maxAttempts} tries`})` };
    }

    return async (userId, report, deadline = now() + DEFAULT_BUDGET_MS) => {
        const unstored: { cause?: Classified } = {};
        let delivery: Delivery;
        try {
            delivery = await deliver(userId, report, deadline, unstored);
        } catch (err) {
            // The grants table, the lamp (stillCurrent), or the secret behind LWA's credentials
            // could not be read or written.
            const answer = err instanceof LwaError ? err.answer : classifyAwsFailure((err as { cause?: unknown })?.cause ?? err);
            delivery = waitFor(answer, `the grant or the lamp could not be read or written (${answer.code})`);
        }
        return unstored.cause ? { ...delivery, unstoredTokens: unstored.cause } : delivery;
    };
}

// Exported here rather than at their declarations (see handler/lamp.ts).
export { GATEWAYS };
