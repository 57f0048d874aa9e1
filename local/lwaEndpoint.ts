// A stand-in for Login with Amazon's token endpoint (POST https://api.amazon.com/auth/o2/token) on
// 127.0.0.1. It issues grant codes as Alexa would hand them over in AcceptGrant, and tokens that
// the event-gateway stand-in (alexaGateway.ts) accepts.
//
// Modeled answers, each with the Amazon page it comes from:
// - 200 {access_token "Atza|…", refresh_token "Atzr|…", token_type "bearer", expires_in 3600} for
//   grant_type=authorization_code with a code it issued and the skill's client id and secret:
//   developer.amazon.com/docs/smarthome/authenticate-a-customer-permissions.html ("Access token
//   response"); the token prefixes and the 60-minute life: .../docs/login-with-amazon/access-token.html
// - the same for grant_type=refresh_token with a refresh token it issued (a new access token, the
//   refresh token again): authenticate-a-customer-permissions.html ("Refresh the access token")
// - 400 {error "invalid_grant"} for an unknown, used or revoked code or refresh token, and
//   400 {error "unsupported_grant_type"} / {error "invalid_request"} for a malformed request:
//   .../docs/login-with-amazon/authorization-code-grant.html ("Access Token Errors")
// - 401 {error "invalid_client"} when the client id or secret is wrong: same page
// - 500 {error "ServerError"} and 503 {error "TemporarilyUnavailable"}: same page
// - no answer at all (mode "hang") and connection refused (takeDown): a network outage.
// - with `rotateRefreshTokens`, a refresh answers a new refresh token and the old one stops working:
//   what RFC 6749 section 6 allows a server to do, and LWA's pages do not rule out.
// - any other answer on demand (answerNext): 429, a 200 without tokens or without a refresh token,
//   an error code that is not one, a body that is not JSON (a proxy's page), to play what the
//   pages above do not promise.
import { randomBytes } from "crypto";
import { createServer } from "http";
import { requestBody } from "./requestBody";
import { interruptible, Interruptible } from "./interruptible";

export const LWA_CLIENT_ID = "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef";
export const LWA_CLIENT_SECRET = "amzn1.oa2-cs.v1.lwa-secret-" + randomBytes(8).toString("hex");

export type LwaMode = "up" | "hang" | "error500" | "unavailable503";

export interface LwaEndpoint {
    tokenUrl: string;
    outage: Interruptible;
    setMode(mode: LwaMode): void;
    /** A code as Alexa hands it to the skill in AcceptGrant, good for one exchange. */
    issueCode(): string;
    /** Whether the event gateway should accept this access token (issued, not expired, not revoked). */
    accessTokenValid(token: string): boolean;
    /** Makes every access token issued so far expire now (the gateway then answers 401). */
    expireAccessTokens(): void;
    /** The refresh token an access token was issued under: the grant (user) it belongs to. */
    grantOf(accessToken: string): string | undefined;
    /** Whether a refresh issues a new refresh token and ends the old one (default false: LWA's documented behaviour). */
    rotateRefreshTokens: boolean;
    /** Revokes a refresh token: refreshing with it gets invalid_grant. */
    revokeRefreshToken(token: string): void;
    /**
     * The grant's user disabled the skill: the refresh token and every access token issued under it
     * stop working (the gateway answers 401, the refresh invalid_grant: ../shared/alexa/event-gateway.md).
     */
    disableSkill(refreshToken: string): void;
    /** The grant (refresh token) a code was exchanged for: Alexa knows which grant code it gave. */
    grantOfCode(code: string): string | undefined;
    /** The next `count` requests (after those already scripted) get this status and body (a string as it is, else JSON). */
    answerNext(count: number, status: number, body?: unknown): void;
    /** Scripted answers not given yet. */
    scriptedLeft(): number;
    /** Requests received, by grant_type. */
    requests: Record<string, number>;
    /** Every form body received, to check what the client sent (the tests' own view only). */
    forms: URLSearchParams[];
    expiresInSeconds: number;
    stop(): Promise<void>;
}

export async function startLwaEndpoint(): Promise<LwaEndpoint> {
    let mode: LwaMode = "up";
    const codes = new Set<string>();
    const grantsByCode = new Map<string, string>();
    const accessTokens = new Map<string, number>();
    const grantOfToken = new Map<string, string>();
    const refreshTokens = new Set<string>();
    const requests: Record<string, number> = {};
    const forms: URLSearchParams[] = [];
    let scripted: { status: number; body?: unknown }[] = [];
    const endpoint = { expiresInSeconds: 3600, rotateRefreshTokens: false };

    const issueTokens = (refreshToken?: string) => {
        const access = "Atza|" + randomBytes(24).toString("base64url");
        const refresh = refreshToken ?? "Atzr|" + randomBytes(24).toString("base64url");
        accessTokens.set(access, Date.now() + endpoint.expiresInSeconds * 1000);
        grantOfToken.set(access, refresh);
        refreshTokens.add(refresh);
        return { access_token: access, refresh_token: refresh, token_type: "bearer", expires_in: endpoint.expiresInSeconds };
    };

    const server = createServer(async (req, res) => {
        const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json;charset=UTF-8" }).end(JSON.stringify(body));
        const body = await requestBody(req);
        if (mode === "hang") {
            return;
        }
        if (req.method !== "POST" || new URL(req.url ?? "/", "http://x").pathname !== "/auth/o2/token") {
            return void res.writeHead(404).end();
        }
        const form = new URLSearchParams(body);
        forms.push(form);
        const grantType = form.get("grant_type") ?? "";
        requests[grantType] = (requests[grantType] ?? 0) + 1;
        const next = scripted.shift();
        if (next !== undefined) {
            return void (typeof next.body === "string" ? res.writeHead(next.status, { "content-type": "text/html" }).end(next.body) : json(next.status, next.body ?? {}));
        }
        if (mode === "error500") {
            return void json(500, { error: "ServerError", error_description: "The server encountered a runtime error." });
        }
        if (mode === "unavailable503") {
            return void json(503, { error: "TemporarilyUnavailable", error_description: "The server is temporarily unavailable." });
        }
        if (!String(req.headers["content-type"]).startsWith("application/x-www-form-urlencoded")) {
            return void json(400, { error: "invalid_request", error_description: "The request is missing a required parameter." });
        }
        if (form.get("client_id") !== LWA_CLIENT_ID || form.get("client_secret") !== LWA_CLIENT_SECRET) {
            return void json(401, { error: "invalid_client", error_description: "The client authentication failed." });
        }
        if (grantType === "authorization_code") {
            const code = form.get("code") ?? "";
            if (!codes.delete(code)) {
                return void json(400, { error: "invalid_grant", error_description: "The request has an invalid grant parameter : code" });
            }
            const tokens = issueTokens();
            grantsByCode.set(code, tokens.refresh_token);
            return void json(200, tokens);
        }
        if (grantType === "refresh_token") {
            const refresh = form.get("refresh_token") ?? "";
            if (!refreshTokens.has(refresh)) {
                return void json(400, { error: "invalid_grant", error_description: "The request has an invalid grant parameter : refresh_token" });
            }
            if (endpoint.rotateRefreshTokens) {
                refreshTokens.delete(refresh);
                return void json(200, issueTokens());
            }
            return void json(200, issueTokens(refresh));
        }
        return void json(400, { error: "unsupported_grant_type", error_description: "The authorization grant type is not supported." });
    });
    const outage = await interruptible(server);
    return Object.assign(endpoint, {
        tokenUrl: `http://127.0.0.1:${outage.port}/auth/o2/token`,
        outage,
        requests,
        forms,
        setMode: (next: LwaMode) => void (mode = next),
        scriptedLeft: () => scripted.length,
        answerNext(count: number, status: number, body?: unknown) {
            scripted = scripted.concat(Array.from({ length: count }, () => ({ status, body })));
        },
        issueCode() {
            const code = "ANSxX" + randomBytes(12).toString("base64url");
            codes.add(code);
            return code;
        },
        accessTokenValid: (token: string) => (accessTokens.get(token) ?? 0) > Date.now(),
        expireAccessTokens() {
            for (const token of accessTokens.keys()) {
                accessTokens.set(token, 0);
            }
        },
        revokeRefreshToken: (token: string) => void refreshTokens.delete(token),
        grantOfCode: (code: string) => grantsByCode.get(code),
        disableSkill(refreshToken: string) {
            refreshTokens.delete(refreshToken);
            for (const [access, grant] of grantOfToken) {
                if (grant === refreshToken) {
                    accessTokens.set(access, 0);
                }
            }
        },
        grantOf: (token: string) => grantOfToken.get(token),
        async stop() {
            await outage.takeDown();
        },
    });
}
