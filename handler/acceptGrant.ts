// AcceptGrant with events on: the grant's code is exchanged with LWA and the user's tokens are
// stored whole, within Alexa's 8 s. Order matters for "no partial state": nothing is written
// until LWA has answered with both tokens, and then one PutItem writes the grant.
// Doc: developer.amazon.com/docs/device-apis/alexa-authorization.html (AcceptGrant, and
// ACCEPT_GRANT_FAILED when the exchange or the storing fails).
import { GrantStore } from "./grantStore";
import { LwaClient } from "./lwa";

/**
 * Resolves once the grant is stored; rejects (with a message holding no token) otherwise.
 * `elapsedMs`: how long the directive has been in the function already (the token check).
 */
export type AcceptGrant = (userId: string, code: string, elapsedMs?: number) => Promise<void>;

export interface GrantAcceptorSettings {
    lwa: LwaClient;
    grants: GrantStore;
    /** The region of this function: it selects the event gateway for the user's events. */
    region: string;
    /**
     * Milliseconds from the directive's arrival within which LWA and the store must be done. Alexa
     * waits 8 s; the rest is for the answer's way back.
     */
    budgetMs?: number;
    now?: () => number;
}

/** The grant could not be written; `cause` is the store's failure (its message is not repeated). */
export class GrantNotStored extends Error {
    constructor(readonly cause: unknown) {
        super(`could not store the grant (${cause instanceof Error ? cause.name : typeof cause})`);
        this.name = "GrantNotStored";
    }
}

/**
 * Each try's limit for the store's two calls, sealing the tokens (KMS Encrypt) and writing them
 * (DynamoDB PutItem), two tries each: both are in the function's region and answer in tens of
 * milliseconds.
 */
const STORE_ATTEMPT_MS = 600;
/**
 * The store needs this much of the budget: two calls of two tries each, with the client's jitter
 * between tries (handler/awsJson.ts, at most 25 ms). With less left, LWA is not asked.
 */
const STORE_RESERVE_MS = 2 * (2 * STORE_ATTEMPT_MS + 25) + 50;

export function createGrantAcceptor(settings: GrantAcceptorSettings): AcceptGrant {
    const now = settings.now ?? Date.now;
    const budgetMs = settings.budgetMs ?? 6500;
    return async (userId, code, elapsedMs = 0) => {
        const started = now() - elapsedMs;
        const tokens = await settings.lwa.exchangeCode(code, started + budgetMs - STORE_RESERVE_MS);
        try {
            await settings.grants.put(userId, { ...tokens, region: settings.region, grantedAt: now() });
        } catch (err) {
            // Only the error's type: a store's message might echo the item, and the item holds tokens.
            throw new GrantNotStored(err);
        }
    };
}

// Exported here rather than at its declaration (see handler/lamp.ts).
export { STORE_ATTEMPT_MS };
