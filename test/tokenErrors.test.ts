import { strict as assert } from "assert";
import * as errors from "aws-jwt-verify/error";
import { classifyVerificationError, createAccessTokenVerifier } from "../handler/token";
import { accessTokenClaims, CLIENT_ID, jwksOf, newSigningKey, signToken, USER_POOL_ID } from "../local/tokens";

// Which of aws-jwt-verify's failures unlink the user. Alexa unlinks on
// INVALID_AUTHORIZATION_CREDENTIAL and asks for a refresh on EXPIRED_AUTHORIZATION_CREDENTIAL;
// INTERNAL_ERROR keeps the link. The token attacks reach most classes through real tokens; some
// cannot be reached with this verifier's settings (no scope or group is required, access tokens
// have no audience), and a wrong answer to those would still unlink users after a library change.
describe("token failures, as aws-jwt-verify reports them", () => {
    const made = (name: keyof typeof errors, message = "made in a test"): Error => {
        const Failure = errors[name] as unknown as new (message: string, actual?: unknown, expected?: unknown) => Error;
        return new Failure(message, "actual", "expected");
    };

    for (const name of [
        "JwtParseError", "JwtInvalidSignatureError", "JwtInvalidSignatureAlgorithmError", "JwtInvalidIssuerError",
        "JwtInvalidAudienceError", "JwtInvalidScopeError", "JwtNotBeforeError", "CognitoJwtInvalidTokenUseError",
        "CognitoJwtInvalidClientIdError", "CognitoJwtInvalidGroupError", "JwtWithoutValidKidError", "KidNotFoundInJwksError",
    ] as const) {
        it(`${name} proves the token bad: INVALID_AUTHORIZATION_CREDENTIAL, naming the class`, () => {
            assert.deepEqual(classifyVerificationError(made(name)),
                { ok: false, error: "INVALID_AUTHORIZATION_CREDENTIAL", reason: `the token is not valid (${name})` });
        });
    }

    it("JwtExpiredError asks for a refresh: EXPIRED_AUTHORIZATION_CREDENTIAL", () => {
        assert.deepEqual(classifyVerificationError(made("JwtExpiredError")),
            { ok: false, error: "EXPIRED_AUTHORIZATION_CREDENTIAL", reason: "the token has expired" });
    });

    it("a foreign issuer (a parameter problem naming the issuer) is the token's fault", () => {
        const failure = made("ParameterValidationError", "issuer not configured: https://cognito-idp.example/other");
        assert.deepEqual(classifyVerificationError(failure),
            { ok: false, error: "INVALID_AUTHORIZATION_CREDENTIAL", reason: "the token is not valid (ParameterValidationError)" });
    });

    for (const [what, failure] of [
        ["any other parameter problem (the verifier's own settings)", made("ParameterValidationError", "userPoolId is not valid")],
        ["a JWKS download that failed", made("FetchError")],
        ["the wait after a failed download", made("WaitPeriodNotYetEndedJwkError")],
        ["an invalid JWKS", made("JwksValidationError")],
        ["an unexpected TypeError", new TypeError("x is undefined")],
    ] as const) {
        it(`${what} keeps the link: INTERNAL_ERROR, naming the class`, () => {
            const answer = classifyVerificationError(failure);
            assert.deepEqual(answer,
                { ok: false, error: "INTERNAL_ERROR", reason: `the token could not be checked (${failure.constructor.name})` });
        });
    }

    it("a thrown value that is not an Error keeps the link, naming its type", () => {
        assert.deepEqual(classifyVerificationError("a string"),
            { ok: false, error: "INTERNAL_ERROR", reason: "the token could not be checked (string)" });
    });
});

// Tokens that passed every check are kept per container with their expiry (handler/token.ts).
describe("verified tokens kept in the container", function () {
    this.timeout(10000);
    const key = newSigningKey();
    const verifier = () => createAccessTokenVerifier({ userPoolId: USER_POOL_ID, clientId: CLIENT_ID, jwks: jwksOf(key) });

    it("answers a kept token that has since expired EXPIRED_AUTHORIZATION_CREDENTIAL, saying so", async () => {
        const verify = verifier();
        const exp = Math.floor(Date.now() / 1000) + 2; // valid for one to two seconds
        const token = signToken(key, accessTokenClaims("kept-user", { exp }));
        assert.deepEqual(await verify(token), { ok: true, userId: "kept-user" });
        await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
        assert.deepEqual(await verify(token), { ok: false, error: "EXPIRED_AUTHORIZATION_CREDENTIAL", reason: "the token has expired" });
    });

    it("refuses a signed token without a string sub or any exp (Cognito sets both), every time, keeping none", async () => {
        const verify = verifier();
        for (const [change, reason] of [
            [(claims: Record<string, unknown>) => delete claims.exp, "the token has no expiry (no numeric exp)"],
            [(claims: Record<string, unknown>) => delete claims.sub, "the token names no user (no sub)"],
            [(claims: Record<string, unknown>) => (claims.sub = ""), "the token names no user (no sub)"],
        ] as const) {
            const claims: Record<string, unknown> = accessTokenClaims("odd-user");
            change(claims);
            const token = signToken(key, claims);
            for (let i = 0; i < 2; i++) {
                assert.deepEqual(await verify(token), { ok: false, error: "INVALID_AUTHORIZATION_CREDENTIAL", reason }, `${reason}, use ${i + 1}`);
            }
        }
    });
});
