import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import { startSkillHarness, SkillHarness } from "./support/skillHarness";
import { directives, errorType, property } from "../local/directives";
import { alexaDataPresent, assertValidAlexaMessage } from "./support/alexaSchema";
import {
    accessTokenClaims,
    CLIENT_ID,
    newSigningKey,
    signToken,
    signWithPublicKeyAsHmacSecret,
    unsignedToken,
    USER_POOL_ID,
} from "../local/tokens";

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/**
 * The token attack matrix: every case goes through the whole handler, as a TurnOn for the victim's
 * own lamp. Each must get the named error, a response valid for Amazon's schema, no write to the
 * lamp, and no trace of the token in the log.
 */
describe("token attacks", () => {
    let skill: SkillHarness;
    let victim: ReturnType<SkillHarness["newUser"]>;

    before(async () => {
        skill = await startSkillHarness();
    });
    after(() => skill.stop());
    beforeEach(() => {
        victim = skill.newUser();
        skill.logLines.length = 0;
    });

    async function expectRefused(token: unknown, expected: string, event = directives.turnOn(token, victim.endpointId)) {
        const response: any = await skill.handle(event);
        if (alexaDataPresent) {
            assertValidAlexaMessage(response);
        }
        assert.equal(errorType(response), expected);
        assert.deepEqual(await skill.store.read(victim.sub), { powerState: "OFF", brightness: 100 }, "the lamp was changed");
        assert.equal(skill.logLines.length, 1);
        const text = typeof token === "string" ? token : JSON.stringify(token ?? null);
        for (const part of text.split(".").filter((p) => p.length >= 16)) {
            assert.ok(!skill.logLines[0].includes(part), "the log line holds the token");
        }
        return response;
    }

    const INVALID = "INVALID_AUTHORIZATION_CREDENTIAL";
    const EXPIRED = "EXPIRED_AUTHORIZATION_CREDENTIAL";

    it("refuses a directive without a token", async () => {
        const event: any = directives.turnOn("x", victim.endpointId);
        delete event.directive.endpoint.scope.token;
        await expectRefused(undefined, INVALID, event);
    });

    it("refuses an empty token without handing it to the verifier", async () => {
        await expectRefused("", INVALID);
        assert.equal(JSON.parse(skill.logLines[0]).reason, "no bearer token");
    });

    it("refuses a number where the token should be", () => expectRefused(12345, INVALID));

    it("refuses an object where the token should be", () => expectRefused({ token: victim.token }, INVALID));

    it("refuses a 1 MB token without parsing it", async () => {
        await expectRefused("a".repeat(1024 * 1024), INVALID);
        // Parsing it would have failed as a JwtParseError; the length check comes first.
        assert.match(JSON.parse(skill.logLines[0]).reason, /too long to be a Cognito access token/);
    });

    it("parses a token of exactly the length limit (16 KB), and refuses it for what it is", async () => {
        await expectRefused("a".repeat(16 * 1024), INVALID);
        assert.match(JSON.parse(skill.logLines[0]).reason, /JwtParseError/);
    });

    it("refuses random bytes", () => expectRefused(randomBytes(600).toString("latin1"), INVALID));

    it("refuses a token of two segments", () => expectRefused(victim.token.split(".").slice(0, 2).join("."), INVALID));

    it("refuses an unsigned token (alg: none)", () => expectRefused(unsignedToken(skill.key, accessTokenClaims(victim.sub)), INVALID));

    it("refuses HS256 signed with the pool's public key as the HMAC secret", () =>
        expectRefused(signWithPublicKeyAsHmacSecret(skill.key, accessTokenClaims(victim.sub)), INVALID));

    it("refuses RS256 signed by a foreign key that carries the pool's kid", () =>
        expectRefused(signToken(newSigningKey(skill.key.kid), accessTokenClaims(victim.sub)), INVALID));

    it("refuses a token without a kid", () => expectRefused(signToken(skill.key, accessTokenClaims(victim.sub), { kid: undefined }), INVALID));

    it("refuses a kid the pool's JWKS does not have, after downloading it again", () =>
        expectRefused(signToken(newSigningKey(), accessTokenClaims(victim.sub)), INVALID));

    it("refuses a payload changed after signing", () => {
        const [head, , signature] = victim.token.split(".");
        const claims = accessTokenClaims(victim.sub, { scope: "openid aws.cognito.signin.user.admin" });
        return expectRefused([head, b64(claims), signature].join("."), INVALID);
    });

    it("answers EXPIRED for a token expired by a second", () =>
        expectRefused(signToken(skill.key, accessTokenClaims(victim.sub, { iat: now() - 3601, exp: now() - 1 })), EXPIRED));

    it("answers EXPIRED for a token expired by a year", () =>
        expectRefused(signToken(skill.key, accessTokenClaims(victim.sub, { iat: now() - 366 * 86400, exp: now() - 365 * 86400 })), EXPIRED));

    it("refuses a token whose nbf is in the future", () =>
        expectRefused(signToken(skill.key, accessTokenClaims(victim.sub, { nbf: now() + 3600 })), INVALID));

    it("refuses a token of another pool in the same region", () =>
        expectRefused(signToken(skill.key, accessTokenClaims(victim.sub, { iss: `https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other9999` })), INVALID));

    it("refuses a token of a pool in another region", () =>
        expectRefused(signToken(skill.key, accessTokenClaims(victim.sub, { iss: `https://cognito-idp.eu-west-1.amazonaws.com/${USER_POOL_ID.replace("us-east-1", "eu-west-1")}` })), INVALID));

    it("refuses a token issued to another app client", () =>
        expectRefused(signToken(skill.key, accessTokenClaims(victim.sub, { client_id: "0ther0client0id0000000000a" })), INVALID));

    it("refuses an ID token", () =>
        expectRefused(signToken(skill.key, accessTokenClaims(victim.sub, { token_use: "id", aud: CLIENT_ID, client_id: undefined })), INVALID));

    it("refuses a token without token_use", () =>
        expectRefused(signToken(skill.key, accessTokenClaims(victim.sub, { token_use: undefined })), INVALID));

    it("keeps users apart: another user's valid token cannot see or change the victim's lamp", async () => {
        const mallory = skill.newUser();
        await expectRefused(mallory.token, "NO_SUCH_ENDPOINT");
        skill.logLines.length = 0;
        await expectRefused(mallory.token, "NO_SUCH_ENDPOINT", directives.reportState(mallory.token, victim.endpointId));
        // Mallory's own lamp is where her token leads, and it is hers alone.
        const own: any = await skill.handle(directives.turnOn(mallory.token, mallory.endpointId));
        assert.equal(property(own, "Alexa.PowerController", "powerState"), "ON");
        assert.deepEqual(await skill.store.read(victim.sub), { powerState: "OFF", brightness: 100 });
    });
});
