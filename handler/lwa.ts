// Login with Amazon (LWA): the OAuth server that gives the skill a token per user for Alexa's event
// gateway. AcceptGrant's code is exchanged once for a refresh token and an hour-long access token;
// the refresh token then gets new access tokens.
// Requests and answers: developer.amazon.com/docs/smarthome/authenticate-a-customer-permissions.html
// and developer.amazon.com/docs/login-with-amazon/authorization-code-grant.html ("Access Token
// Request", "Access Token Response", "Access Token Errors"); the stand-in in
// test/support/lwaEndpoint.ts answers as these pages say.

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
 * LWA refused (`rejected`: the code or refresh token is not good, or the client is not, and asking
 * again will not help) or could not be reached (`unavailable`: try later). The message holds the
 * HTTP status and LWA's error code only, never a token or the secret.
 */
export class LwaError extends Error {
    constructor(readonly kind: "rejected" | "unavailable", message: string) {
        super(message);
        this.name = "LwaError";
    }
}

export interface LwaClient {
    exchangeCode(code: string, deadline?: number): Promise<LwaTokens>;
    refresh(refreshToken: string, deadline?: number): Promise<LwaTokens>;
}

const ERROR_CODE = /^[A-Za-z_]{1,64}$/;

export function createLwaClient(settings: LwaSettings): LwaClient {
    const tokenUrl = settings.tokenUrl ?? "https://api.amazon.com/auth/o2/token";
    const attemptTimeoutMs = settings.attemptTimeoutMs ?? 2500;
    const maxAttempts = settings.maxAttempts ?? 2;
    const now = settings.now ?? Date.now;

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
            throw new LwaError("unavailable", timedOut ? `LWA did not answer within ${timeoutMs} ms` : "LWA could not be reached");
        }
        let body: Record<string, unknown> = {};
        try {
            body = (await response.json()) as Record<string, unknown>;
        } catch {
            // Not JSON (a proxy's error page): judged by its status below.
        }
        const refreshToken = typeof body.refresh_token === "string" ? body.refresh_token : keptRefreshToken;
        if (response.status === 200 && typeof body.access_token === "string" && refreshToken !== undefined) {
            const seconds = Number(body.expires_in ?? 3600);
            return {
                accessToken: body.access_token,
                refreshToken,
                accessTokenExpiresAt: now() + (Number.isFinite(seconds) && seconds > 0 ? seconds : 3600) * 1000,
            };
        }
        const code = typeof body.error === "string" && ERROR_CODE.test(body.error) ? body.error : "no error code";
        if (response.status >= 500 || response.status === 429) {
            throw new LwaError("unavailable", `LWA answered ${response.status} (${code})`);
        }
        if (code === "invalid_client") {
            throw new LwaError("rejected", `LWA refused the request: ${response.status} (invalid_client): the skill's Alexa Client Id or Secret is wrong; ` +
                "copy both from the console's Permissions page into alexaClientId and alexaClientSecret and redeploy");
        }
        throw new LwaError("rejected", response.status === 200
            ? "LWA answered without an access and a refresh token"
            : `LWA refused the request: ${response.status} (${code})`);
    }

    async function request(fields: Record<string, string>, deadline: number | undefined, keptRefreshToken?: string): Promise<LwaTokens> {
        const { clientId, clientSecret } = await settings.credentials();
        const form = new URLSearchParams({ ...fields, client_id: clientId, client_secret: clientSecret });
        for (let tries = 1; ; tries++) {
            // Whole milliseconds: AbortSignal.timeout refuses fractions.
            const left = Math.floor(deadline === undefined ? attemptTimeoutMs : Math.min(attemptTimeoutMs, deadline - now()));
            if (left < 200) {
                throw new LwaError("unavailable", "no time left to ask LWA");
            }
            try {
                return await attempt(form, left, keptRefreshToken);
            } catch (err) {
                if (!(err instanceof LwaError) || err.kind === "rejected" || tries >= maxAttempts) {
                    throw err;
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
