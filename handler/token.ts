// Who is speaking: the Cognito access token that Alexa passes with every directive.
// Why the error classes matter: Alexa deletes a user's account link when the skill answers
// INVALID_AUTHORIZATION_CREDENTIAL or EXPIRED_AUTHORIZATION_CREDENTIAL
// (https://developer.amazon.com/docs/device-apis/alexa-errorresponse.html), so a fault of ours or
// of AWS (JWKS unreachable) must come out as INTERNAL_ERROR and never unlink anybody.
// The Cognito verifier's own entry point: the package root also loads the ALB verifier (cold start).
import { CognitoJwtVerifier } from "aws-jwt-verify/cognito-verifier";
import { SimpleJwksCache, SimplePenaltyBox } from "aws-jwt-verify/jwk";
import { SimpleFetcher } from "aws-jwt-verify/https";
import type { Jwks } from "aws-jwt-verify/jwk";
import type { Fetcher } from "aws-jwt-verify/https";

export type TokenCheck =
    | { ok: true; userId: string }
    | { ok: false; error: "INVALID_AUTHORIZATION_CREDENTIAL" | "EXPIRED_AUTHORIZATION_CREDENTIAL" | "INTERNAL_ERROR"; reason: string };

export type VerifyAccessToken = (token: unknown) => Promise<TokenCheck>;

export interface VerifierSettings {
    userPoolId: string;
    clientId: string;
    /** The pool's JWKS as the deploying machine read it: spares the download at cold start. */
    jwks?: Jwks;
    /** How the JWKS is downloaded when it is not at hand (tests point this at 127.0.0.1). */
    fetcher?: Fetcher;
    /** Milliseconds one JWKS download may take; two tries fit well inside Alexa's 8 s. */
    jwksTimeoutMs?: number;
    /**
     * Seconds after a failed JWKS download (or an unknown kid) before the next download: a flood of
     * made-up kids then costs one download per period, not one each.
     */
    jwksRetryWaitSeconds?: number;
}

/** Cognito access tokens are about 1 KB; anything far larger is not one and is not parsed. */
const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * Tokens already verified in this container, with their expiry. Alexa sends the same access token
 * with every directive until it refreshes it (hourly by default), so a repeat costs a map lookup
 * and an expiry check instead of a signature check. Only tokens that passed every check enter;
 * the key is the whole token, so a changed byte is a miss.
 */
const VERIFIED_TOKENS_KEPT = 1000;

/**
 * Builds the verifier once per container: the JWKS is cached in it across invocations, and a
 * download is started at once unless the JWKS was handed over by the stack.
 */
export function createAccessTokenVerifier(settings: VerifierSettings): VerifyAccessToken {
    const fetcher = settings.fetcher ??
        new SimpleFetcher({ defaultRequestOptions: { responseTimeout: settings.jwksTimeoutMs ?? 1500 } });
    const verifier = CognitoJwtVerifier.create(
        { userPoolId: settings.userPoolId, tokenUse: "access", clientId: settings.clientId },
        { jwksCache: new SimpleJwksCache({ fetcher, penaltyBox: new SimplePenaltyBox({ waitSeconds: settings.jwksRetryWaitSeconds ?? 10 }) }) },
    );
    if (settings.jwks) {
        verifier.cacheJwks(settings.jwks);
    } else {
        // Start the download now, so the first directive finds it on its way; a failure here is
        // not fatal: verify() downloads again and answers INTERNAL_ERROR if that fails too.
        verifier.hydrate().catch(() => undefined);
    }

    const verified = new Map<string, { userId: string; exp: number }>();

    return async (token) => {
        if (typeof token !== "string" || token.length === 0) {
            return { ok: false, error: "INVALID_AUTHORIZATION_CREDENTIAL", reason: "no bearer token" };
        }
        if (token.length > MAX_TOKEN_LENGTH) {
            return { ok: false, error: "INVALID_AUTHORIZATION_CREDENTIAL", reason: "the token is too long to be a Cognito access token" };
        }
        const known = verified.get(token);
        if (known) {
            if (known.exp * 1000 > Date.now()) {
                return { ok: true, userId: known.userId };
            }
            verified.delete(token);
            return { ok: false, error: "EXPIRED_AUTHORIZATION_CREDENTIAL", reason: "the token has expired" };
        }
        let payload: { sub?: unknown; exp?: unknown };
        try {
            payload = await verifier.verify(token);
        } catch (err) {
            return classifyVerificationError(err);
        }
        // Cognito puts both in every access token; a signed token without them names no one, or
        // never ends, and is refused (aws-jwt-verify checks `exp` only when present).
        if (typeof payload.sub !== "string" || payload.sub.length === 0) {
            return { ok: false, error: "INVALID_AUTHORIZATION_CREDENTIAL", reason: "the token names no user (no sub)" };
        }
        if (typeof payload.exp !== "number" || !Number.isFinite(payload.exp)) {
            return { ok: false, error: "INVALID_AUTHORIZATION_CREDENTIAL", reason: "the token has no expiry (no numeric exp)" };
        }
        if (verified.size >= VERIFIED_TOKENS_KEPT) {
            verified.delete(verified.keys().next().value!);
        }
        verified.set(token, { userId: payload.sub, exp: payload.exp });
        return { ok: true, userId: payload.sub };
    };
}

/**
 * Error class names of aws-jwt-verify that prove the token itself is bad. (An array, not a Set:
 * Pulumi's closure serialization does not carry a Set's contents into the Lambda archive.)
 */
const BAD_TOKEN_ERRORS: readonly string[] = [
    "JwtParseError",
    "JwtInvalidSignatureError",
    "JwtInvalidSignatureAlgorithmError",
    "JwtInvalidIssuerError",
    "JwtInvalidAudienceError",
    "JwtInvalidScopeError",
    "JwtNotBeforeError",
    "CognitoJwtInvalidTokenUseError",
    "CognitoJwtInvalidClientIdError",
    "CognitoJwtInvalidGroupError",
    "JwtWithoutValidKidError",
    // Raised only after a fresh JWKS download that lacks the token's kid.
    "KidNotFoundInJwksError",
];

/**
 * Maps a verification failure to the answer Alexa gets. Everything not known to be the token's
 * fault (a failed or invalid JWKS download, the penalty wait after one, an unexpected error) is
 * INTERNAL_ERROR: Alexa keeps the link and the user can try again.
 */
export function classifyVerificationError(err: unknown): TokenCheck {
    const className = err instanceof Error ? err.constructor.name : typeof err;
    if (className === "JwtExpiredError") {
        return { ok: false, error: "EXPIRED_AUTHORIZATION_CREDENTIAL", reason: "the token has expired" };
    }
    // aws-jwt-verify looks the token's `iss` up among its configured pools, and reports a foreign
    // issuer as a parameter problem; any other parameter problem is ours, not the token's.
    const foreignIssuer = className === "ParameterValidationError" && (err as Error).message.startsWith("issuer not configured");
    if (BAD_TOKEN_ERRORS.includes(className) || foreignIssuer) {
        return { ok: false, error: "INVALID_AUTHORIZATION_CREDENTIAL", reason: `the token is not valid (${className})` };
    }
    return { ok: false, error: "INTERNAL_ERROR", reason: `the token could not be checked (${className})` };
}
