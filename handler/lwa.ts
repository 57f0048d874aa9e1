// Login with Amazon (LWA): the OAuth server that gives the skill a token per user for Alexa's event
// gateway. AcceptGrant's code is exchanged once for a refresh token and an hour-long access token;
// the refresh token then gets new access tokens.
// Requests and answers: developer.amazon.com/docs/smarthome/authenticate-a-customer-permissions.html
// and developer.amazon.com/docs/login-with-amazon/authorization-code-grant.html ("Access Token
// Request", "Access Token Response", "Access Token Errors"); the stand-in in
// local/lwaEndpoint.ts answers as these pages say; handler/causes.ts classifies the answers.
import { classifyLwaAnswer, Classified } from "./causes";

export interface LwaCredentials {
    /** The skill's Alexa Client Id (console: Permissions, Send Alexa Events). */
    clientId: string;
    clientSecret: string;
}

export interface LwaTokens {
    accessToken: string;
    refreshToken: string;
    /** Milliseconds since the epoch at which the access token expires. */
    accessTokenExpiresAt: number;
    /** The Alexa Client Id the tokens were issued to (a refresh token works with that client only). */
    clientId?: string;
}

export interface LwaSettings {
    /** Default: https://api.amazon.com/auth/o2/token (tests point it at 127.0.0.1). */
    tokenUrl?: string;
    /** Read on each exchange; the secret reader caches it per container. */
    credentials: () => Promise<LwaCredentials>;
    /** Milliseconds one try may take. */
    attemptTimeoutMs?: number;
    /** Tries on a network failure, a timeout or a 5xx. */
    maxAttempts?: number;
    now?: () => number;
}

/**
 * LWA did not give tokens; `answer` says whose problem that is (handler/causes.ts): `linkGone` only
 * for an invalid_grant, the one answer that says the grant itself is dead. The message holds the
 * HTTP status and LWA's error code only, never a token or the secret.
 */
export class LwaError extends Error {
    constructor(
        readonly answer: Classified,
        message: string,
        /** The Alexa Client Id the request was made with. */
        readonly clientId?: string,
        /**
         * Whether LWA has given tokens to this client's credentials before, in this container: then
         * they are this skill's, and an invalid_grant is the grant's own fault, not theirs.
         */
        readonly credentialsProven = false,
    ) {
        super(message);
        this.name = "LwaError";
    }
}

export interface LwaClient {
    exchangeCode(code: string, deadline?: number): Promise<LwaTokens>;
    refresh(refreshToken: string, deadline?: number): Promise<LwaTokens>;
}

export function createLwaClient(settings: LwaSettings): LwaClient {
    const tokenUrl = settings.tokenUrl ?? "https://api.amazon.com/auth/o2/token";
    const attemptTimeoutMs = settings.attemptTimeoutMs ?? 2500;
    const maxAttempts = settings.maxAttempts ?? 2;
    const now = settings.now ?? Date.now;
    // Set at the first tokens LWA gives these credentials: a refresh token refused after that is
    // the grant's fault; before it, the credentials may be another skill's (RFC 6749 section 5.2:
    // invalid_grant also means "issued to another client").
    let proven = false;

    /** `keptRefreshToken`: on a refresh, LWA may leave the refresh token out; the old one stays good. */
    async function attempt(form: URLSearchParams, timeoutMs: number, keptRefreshToken?: string): Promise<LwaTokens> {
        let response: Response;
        try {
            response = await fetch(tokenUrl, {
                method: "POST",
                headers: { "content-type": "application/x-www-form-urlencoded;charset=UTF-8" },
                body: form.toString(),
                signal: AbortSignal.timeout(timeoutMs),
            });
        } catch (err) {
            // AbortSignal.timeout is the only abort here, and it fails the request with a TimeoutError.
            const timedOut = err instanceof Error && err.name === "TimeoutError";
            throw new LwaError(classifyLwaAnswer(0, undefined), timedOut ? `LWA did not answer within ${timeoutMs} ms` : "LWA could not be reached");
        }
        let body: unknown;
        try {
            body = await response.json();
        } catch {
            // Not JSON (a proxy's error page): judged by its status.
        }
        const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
        const refreshToken = typeof fields.refresh_token === "string" ? fields.refresh_token : keptRefreshToken;
        if (response.status === 200 && typeof fields.access_token === "string" && refreshToken !== undefined) {
            const seconds = Number(fields.expires_in ?? 3600);
            return {
                accessToken: fields.access_token,
                refreshToken,
                accessTokenExpiresAt: now() + (Number.isFinite(seconds) && seconds > 0 ? seconds : 3600) * 1000,
            };
        }
        const answer = classifyLwaAnswer(response.status, body);
        const message = response.status === 200
            ? "LWA answered 200 without an access and a refresh token"
            : `LWA ${answer.cause === "transient" ? "answered" : "refused the request:"} ${response.status} (${answer.code.startsWith("HTTP ") ? "no error code" : answer.code})`;
        throw new LwaError(answer, message);
    }

    async function request(fields: Record<string, string>, deadline: number | undefined, keptRefreshToken?: string): Promise<LwaTokens> {
        const { clientId, clientSecret } = await settings.credentials();
        const form = new URLSearchParams({ ...fields, client_id: clientId, client_secret: clientSecret });
        for (let tries = 1; ; tries++) {
            // Whole milliseconds: AbortSignal.timeout refuses fractions.
            const left = Math.floor(deadline === undefined ? attemptTimeoutMs : Math.min(attemptTimeoutMs, deadline - now()));
            if (left < 200) {
                throw new LwaError({ cause: "transient", code: "no time left" }, "no time left to ask LWA", clientId, proven);
            }
            try {
                const tokens = await attempt(form, left, keptRefreshToken);
                proven = true;
                return { ...tokens, clientId };
            } catch (err) {
                if (!(err instanceof LwaError)) {
                    throw err;
                }
                // Only a failure of LWA or of the way to it is worth another try now.
                if (err.answer.cause !== "transient" || tries >= maxAttempts) {
                    throw new LwaError(err.answer, err.message, clientId, proven);
                }
            }
            await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
        }
    }

    return {
        exchangeCode: (code, deadline) => request({ grant_type: "authorization_code", code }, deadline),
        refresh: (refreshToken, deadline) => request({ grant_type: "refresh_token", refresh_token: refreshToken }, deadline, refreshToken),
    };
}
