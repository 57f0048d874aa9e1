import { strict as assert } from "assert";
import { KmsEndpoint, startKmsEndpoint } from "../local/kmsEndpoint";
import { startSkillHarness, SkillHarness } from "./support/skillHarness";
import { directives, errorType, property } from "../local/directives";
import { alexaDataPresent, assertValidAlexaMessage } from "./support/alexaSchema";
import { accessTokenClaims, CLIENT_ID, jwksOf, newSigningKey, signToken, USER_POOL_ID } from "../local/tokens";
import { startDynalite, LocalDynamo, LOCAL_CREDENTIALS } from "../local/dynalite";
import { createHandlerFromEnvironment } from "../handler";
import { DirectiveLog, directiveLogLevel, logToStdout, operatorField, userReference } from "../handler/log";
import { createSkillHandler } from "../handler/skill";
import { messageGroupOf } from "../handler/eventQueue";
import { createHash } from "crypto";
import { lampEndpointId } from "../handler/lamp";
import { capturingStdout } from "./support/stdout";
import { setEnvironment } from "./support/lambdaEnvironment";
import { handedOverJwks } from "../handler/environment";
import { createGrantStore } from "../handler/grantStore";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, startLwaEndpoint } from "../local/lwaEndpoint";
import { startSsmEndpoint } from "../local/ssmEndpoint";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("the skill endpoint", () => {
    let skill: SkillHarness;
    /** Sends a directive and checks what every response must satisfy. */
    const send = (event: any) => sendTo(skill, event);
    async function sendTo(harness: SkillHarness, event: any): Promise<any> {
        const response: any = await harness.handle(event);
        assert.match(response.event.header.messageId, UUID_V4);
        assert.notEqual(response.event.header.messageId, event?.directive?.header?.messageId);
        assert.equal(response.event.header.payloadVersion, "3");
        if (event?.directive?.header?.correlationToken) {
            assert.equal(response.event.header.correlationToken, event.directive.header.correlationToken);
        }
        if (alexaDataPresent) {
            assertValidAlexaMessage(response);
        }
        return response;
    }

    before(async () => {
        skill = await startSkillHarness();
    });
    after(() => skill.stop());

    it("tells Alexa why it refuses a directive, in a message naming what to fix", async () => {
        const user = skill.newUser();
        const other = skill.newUser();
        const cases: [any, string, string][] = [
            [directives.setBrightness(user.token, user.endpointId, "40"), "INVALID_DIRECTIVE", "SetBrightness's payload.brightness must be an integer from 0 to 100."],
            [directives.setBrightness(user.token, user.endpointId, 101), "VALUE_OUT_OF_RANGE", "SetBrightness's payload.brightness must be from 0 to 100."],
            [directives.adjustBrightness(user.token, user.endpointId, 2.5), "INVALID_DIRECTIVE", "AdjustBrightness's payload.brightnessDelta must be an integer from -100 to 100."],
            [directives.adjustBrightness(user.token, user.endpointId, -101), "VALUE_OUT_OF_RANGE", "AdjustBrightness's payload.brightnessDelta must be from -100 to 100."],
            [directives.turnOn(user.token, other.endpointId), "NO_SUCH_ENDPOINT", "This account has no such endpoint."],
            [{ directive: { ...directives.acceptGrant(user.token).directive, payload: { grant: { type: "OAuth2.Implicit", code: "c" }, grantee: { type: "BearerToken", token: user.token } } } }, "ACCEPT_GRANT_FAILED", "The grant is not an OAuth2 authorization code."],
            [directives.acceptGrant("not-a-token"), "ACCEPT_GRANT_FAILED", "The grantee token could not be verified."],
        ];
        for (const [event, type, message] of cases) {
            const response = await send(event);
            assert.deepEqual([response.event.payload.type, response.event.payload.message], [type, message], message);
        }
    });

    /**
     * Runs `test` with a skill of its own (its own DynamoDB and log): request counts and log lines
     * then hold only what this test did, even while an earlier test that timed out still runs.
     */
    async function withOwnSkill(test: (own: SkillHarness, send: (event: any) => Promise<any>) => Promise<void>) {
        const own = await startSkillHarness();
        try {
            await test(own, (event) => sendTo(own, event));
        } finally {
            await own.stop();
        }
    }

    describe("Discover", () => {
        it("lists the user's one lamp, a dimmable light whose properties are retrievable", async () => {
            const user = skill.newUser();
            const response = await send(directives.discover(user.token));
            assert.equal(response.event.header.namespace, "Alexa.Discovery");
            assert.equal(response.event.header.name, "Discover.Response");
            const [lamp, ...others] = response.event.payload.endpoints;
            assert.equal(others.length, 0);
            assert.equal(lamp.endpointId, user.endpointId);
            assert.equal(lamp.friendlyName, "Smart Lamp");
            assert.deepEqual(lamp.displayCategories, ["LIGHT"]);
            const interfaces = lamp.capabilities.map((c: any) => c.interface);
            assert.deepEqual(interfaces, ["Alexa", "Alexa.PowerController", "Alexa.BrightnessController", "Alexa.EndpointHealth"]);
            assert.deepEqual(lamp.capabilities.slice(1).map((c: any) => c.properties.supported), [[{ name: "powerState" }], [{ name: "brightness" }], [{ name: "connectivity" }]]);
            for (const capability of lamp.capabilities.slice(1)) {
                assert.equal(capability.version, "3");
                assert.equal(capability.properties.retrievable, true);
                assert.equal(capability.properties.proactivelyReported, false);
            }
        });

        it("gives each user a lamp of their own, the same one on every discovery", async () => {
            const alice = skill.newUser();
            const bob = skill.newUser();
            const first = await send(directives.discover(alice.token));
            const again = await send(directives.discover(alice.token));
            const bobs = await send(directives.discover(bob.token));
            assert.equal(first.event.payload.endpoints[0].endpointId, again.event.payload.endpoints[0].endpointId);
            assert.notEqual(first.event.payload.endpoints[0].endpointId, bobs.event.payload.endpoints[0].endpointId);
        });

        it("touches no table", () => withOwnSkill(async (own, send) => {
            const before = own.dynamo.requests.get("GetItem") ?? 0;
            const beforeUpdates = own.dynamo.requests.get("UpdateItem") ?? 0;
            await send(directives.discover(own.newUser().token));
            assert.equal(own.dynamo.requests.get("GetItem") ?? 0, before);
            assert.equal(own.dynamo.requests.get("UpdateItem") ?? 0, beforeUpdates);
        }));
    });

    describe("PowerController and BrightnessController", () => {
        it("turns the lamp on and reports the new state with the endpoint and its scope echoed", async () => {
            const user = skill.newUser();
            const event = directives.turnOn(user.token, user.endpointId);
            const response = await send(event);
            assert.equal(response.event.header.namespace, "Alexa");
            assert.equal(response.event.header.name, "Response");
            assert.deepEqual(response.event.endpoint, { endpointId: user.endpointId, scope: { type: "BearerToken", token: user.token } });
            assert.equal(property(response, "Alexa.PowerController", "powerState"), "ON");
            assert.equal(property(response, "Alexa.BrightnessController", "brightness"), 100);
            assert.deepEqual(property(response, "Alexa.EndpointHealth", "connectivity"), { value: "OK" });
            for (const p of response.context.properties) {
                assert.match(p.timeOfSample, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
                assert.ok(p.uncertaintyInMilliseconds >= 0);
            }
        });

        it("turns the lamp off and keeps its level for the next TurnOn", async () => {
            const user = skill.newUser();
            await send(directives.setBrightness(user.token, user.endpointId, 40));
            const off = await send(directives.turnOff(user.token, user.endpointId));
            assert.equal(property(off, "Alexa.PowerController", "powerState"), "OFF");
            const on = await send(directives.turnOn(user.token, user.endpointId));
            assert.equal(property(on, "Alexa.BrightnessController", "brightness"), 40);
        });

        it("lights the lamp at the level SetBrightness asks for, 1 and 100 included", async () => {
            const user = skill.newUser();
            for (const level of [30, 1, 100]) {
                const set = await send(directives.setBrightness(user.token, user.endpointId, level));
                assert.equal(property(set, "Alexa.PowerController", "powerState"), "ON");
                assert.equal(property(set, "Alexa.BrightnessController", "brightness"), level);
            }
        });

        /** The lamp as a ReportState sees it. */
        async function lampOf(user: { token: string; endpointId: string }) {
            const state = await send(directives.reportState(user.token, user.endpointId));
            return [property(state, "Alexa.PowerController", "powerState"), property(state, "Alexa.BrightnessController", "brightness")];
        }

        it("answers SetBrightness -5 or 101 with VALUE_OUT_OF_RANGE naming 0..100, and leaves the lamp as it was", async () => {
            const user = skill.newUser();
            await send(directives.setBrightness(user.token, user.endpointId, 40));
            for (const level of [-5, 101, 250]) {
                const response = await send(directives.setBrightness(user.token, user.endpointId, level));
                assert.equal(errorType(response), "VALUE_OUT_OF_RANGE", String(level));
                assert.deepEqual(response.event.payload.validRange, { minimumValue: 0, maximumValue: 100 });
                assert.deepEqual(response.event.endpoint, { endpointId: user.endpointId });
            }
            assert.deepEqual(await lampOf(user), ["ON", 40]);
        });

        it("answers SetBrightness 30.5, or without a brightness, with INVALID_DIRECTIVE, and leaves the lamp as it was", async () => {
            const user = skill.newUser();
            await send(directives.setBrightness(user.token, user.endpointId, 40));
            const missing: any = directives.setBrightness(user.token, user.endpointId, 0);
            delete missing.directive.payload.brightness;
            for (const event of [directives.setBrightness(user.token, user.endpointId, 30.5), missing]) {
                const response = await send(event);
                assert.equal(errorType(response), "INVALID_DIRECTIVE", JSON.stringify(event.directive.payload));
                assert.equal(response.event.payload.validRange, undefined);
            }
            assert.deepEqual(await lampOf(user), ["ON", 40]);
        });

        it("answers AdjustBrightness beyond ±100 with VALUE_OUT_OF_RANGE naming -100..100, and a fraction with INVALID_DIRECTIVE", async () => {
            const user = skill.newUser();
            await send(directives.setBrightness(user.token, user.endpointId, 40));
            for (const delta of [-101, 150]) {
                const response = await send(directives.adjustBrightness(user.token, user.endpointId, delta));
                assert.equal(errorType(response), "VALUE_OUT_OF_RANGE", String(delta));
                assert.deepEqual(response.event.payload.validRange, { minimumValue: -100, maximumValue: 100 });
            }
            assert.equal(errorType(await send(directives.adjustBrightness(user.token, user.endpointId, 2.5))), "INVALID_DIRECTIVE");
            assert.deepEqual(await lampOf(user), ["ON", 40]);
            const full = await send(directives.adjustBrightness(user.token, user.endpointId, -100));
            assert.equal(property(full, "Alexa.PowerController", "powerState"), "OFF", "-100 is in range");
        });

        it("switches the lamp off for SetBrightness 0, and TurnOn restores the level it had", async () => {
            const user = skill.newUser();
            await send(directives.setBrightness(user.token, user.endpointId, 65));
            const zero = await send(directives.setBrightness(user.token, user.endpointId, 0));
            assert.equal(property(zero, "Alexa.PowerController", "powerState"), "OFF");
            const on = await send(directives.turnOn(user.token, user.endpointId));
            assert.equal(property(on, "Alexa.BrightnessController", "brightness"), 65);
        });

        it("adjusts brightness relative to the current level and clamps at 100", async () => {
            const user = skill.newUser();
            await send(directives.setBrightness(user.token, user.endpointId, 50));
            const down = await send(directives.adjustBrightness(user.token, user.endpointId, -25));
            assert.equal(property(down, "Alexa.BrightnessController", "brightness"), 25);
            const up = await send(directives.adjustBrightness(user.token, user.endpointId, 90));
            assert.equal(property(up, "Alexa.BrightnessController", "brightness"), 100);
            assert.equal(property(up, "Alexa.PowerController", "powerState"), "ON");
        });

        it("keeps the lamp on when dimmed to exactly 1, and at 100 when brightened to exactly 100", async () => {
            const user = skill.newUser();
            await send(directives.setBrightness(user.token, user.endpointId, 21));
            const bottom = await send(directives.adjustBrightness(user.token, user.endpointId, -20));
            assert.equal(property(bottom, "Alexa.PowerController", "powerState"), "ON");
            assert.equal(property(bottom, "Alexa.BrightnessController", "brightness"), 1);
            const top = await send(directives.adjustBrightness(user.token, user.endpointId, 99));
            assert.equal(property(top, "Alexa.PowerController", "powerState"), "ON");
            assert.equal(property(top, "Alexa.BrightnessController", "brightness"), 100);
        });

        it("switches the lamp off when dimmed past the bottom, and then reports brightness 0", async () => {
            const user = skill.newUser();
            await send(directives.setBrightness(user.token, user.endpointId, 20));
            const response = await send(directives.adjustBrightness(user.token, user.endpointId, -60));
            assert.equal(property(response, "Alexa.PowerController", "powerState"), "OFF");
            assert.equal(property(response, "Alexa.BrightnessController", "brightness"), 0);
        });

        it("refuses a SetBrightness without a numeric brightness as INVALID_DIRECTIVE", async () => {
            const user = skill.newUser();
            const response = await send(directives.setBrightness(user.token, user.endpointId, "bright"));
            assert.equal(errorType(response), "INVALID_DIRECTIVE");
        });
    });

    describe("ReportState", () => {
        it("reports a new user's default lamp: off, so at brightness 0", async () => {
            const user = skill.newUser();
            const response = await send(directives.reportState(user.token, user.endpointId));
            assert.equal(response.event.header.name, "StateReport");
            assert.equal(property(response, "Alexa.PowerController", "powerState"), "OFF");
            assert.equal(property(response, "Alexa.BrightnessController", "brightness"), 0);
        });

        it("reports the state that the last change stored, in one read", () => withOwnSkill(async (own, send) => {
            const user = own.newUser();
            await send(directives.setBrightness(user.token, user.endpointId, 12));
            const reads = own.dynamo.requests.get("GetItem") ?? 0;
            const response = await send(directives.reportState(user.token, user.endpointId));
            assert.equal(property(response, "Alexa.BrightnessController", "brightness"), 12);
            assert.equal(property(response, "Alexa.PowerController", "powerState"), "ON");
            assert.equal((own.dynamo.requests.get("GetItem") ?? 0) - reads, 1);
        }));
    });

    describe("AcceptGrant", () => {
        it("accepts the grant of a verified user", async () => {
            const response = await send(directives.acceptGrant(skill.newUser().token));
            assert.equal(response.event.header.namespace, "Alexa.Authorization");
            assert.equal(response.event.header.name, "AcceptGrant.Response");
        });

        it("answers ACCEPT_GRANT_FAILED to a grant that is not an OAuth2 authorization code, even from a verified user", async () => {
            const user = skill.newUser();
            const wrongType = directives.acceptGrant(user.token);
            wrongType.directive.payload.grant.type = "OAuth2.Implicit";
            const noCode: any = directives.acceptGrant(user.token);
            delete noCode.directive.payload.grant.code;
            const emptyCode = directives.acceptGrant(user.token);
            emptyCode.directive.payload.grant.code = "";
            for (const event of [wrongType, noCode, emptyCode]) {
                const response = await send(event);
                assert.equal(response.event.header.namespace, "Alexa.Authorization");
                assert.equal(response.event.payload.type, "ACCEPT_GRANT_FAILED", JSON.stringify(event.directive.payload.grant));
            }
        });

        it("answers ACCEPT_GRANT_FAILED when the grantee token does not verify", async () => {
            const response = await send(directives.acceptGrant("not-a-token"));
            assert.equal(response.event.header.namespace, "Alexa.Authorization");
            assert.equal(response.event.payload.type, "ACCEPT_GRANT_FAILED");
        });
    });

    describe("tokens", () => {
        it("reads a controller directive's token from endpoint.scope only, whatever a payload.scope holds", async () => {
            const [user, other] = [skill.newUser(), skill.newUser()];
            // Another user's valid token in payload.scope changes nothing: the endpoint's own token decides.
            const turnOn = directives.turnOn(user.token, user.endpointId) as any;
            turnOn.directive.payload.scope = { type: "BearerToken", token: other.token };
            assert.equal(property(await send(turnOn), "Alexa.PowerController", "powerState"), "ON");
            // and a bad token in endpoint.scope is refused, a good one in payload.scope notwithstanding.
            const forged = directives.turnOff("not-a-token", user.endpointId) as any;
            forged.directive.payload.scope = { type: "BearerToken", token: user.token };
            assert.equal(errorType(await send(forged)), "INVALID_AUTHORIZATION_CREDENTIAL");
            assert.equal(property(await send(directives.reportState(user.token, user.endpointId)), "Alexa.PowerController", "powerState"), "ON");
        });

        it("answers EXPIRED_AUTHORIZATION_CREDENTIAL for an expired token", async () => {
            const past = Math.floor(Date.now() / 1000) - 7200;
            const token = signToken(skill.key, accessTokenClaims("expired-user", { iat: past, exp: past + 3600 }));
            assert.equal(errorType(await send(directives.discover(token))), "EXPIRED_AUTHORIZATION_CREDENTIAL");
        });

        it("answers INVALID_AUTHORIZATION_CREDENTIAL for a token of another client, an ID token, or a foreign key", async () => {
            const user = skill.newUser();
            const otherClient = signToken(skill.key, accessTokenClaims(user.sub, { client_id: "someotherclient" }));
            const idToken = signToken(skill.key, accessTokenClaims(user.sub, { token_use: "id", aud: CLIENT_ID, client_id: undefined }));
            const foreign = signToken(newSigningKey(skill.key.kid), accessTokenClaims(user.sub)); // same kid, other key
            for (const token of [otherClient, idToken, foreign, "", "a.b"]) {
                const response = await send(directives.turnOn(token, user.endpointId));
                assert.equal(errorType(response), "INVALID_AUTHORIZATION_CREDENTIAL", token.slice(0, 20));
                assert.match(response.event.payload.message, /not valid; please link the account again/);
            }
        });

        it("answers INVALID_AUTHORIZATION_CREDENTIAL for a payload changed after signing and for an unknown kid", async () => {
            const user = skill.newUser();
            const [head, body, signature] = user.token.split(".");
            const claims = JSON.parse(Buffer.from(body, "base64url").toString());
            const tampered = [head, Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString("base64url"), signature].join(".");
            const unknownKid = signToken(newSigningKey(), accessTokenClaims(user.sub));
            for (const token of [tampered, unknownKid]) {
                assert.equal(errorType(await send(directives.reportState(token, user.endpointId))), "INVALID_AUTHORIZATION_CREDENTIAL");
            }
        });

        it("answers EXPIRED for a token it verified before, once that token expires", async () => {
            const user = skill.newUser();
            const now = Math.floor(Date.now() / 1000);
            const token = signToken(skill.key, accessTokenClaims(user.sub, { iat: now - 3598, exp: now + 2 }));
            assert.equal(errorType(await send(directives.discover(token))), undefined);
            assert.equal(errorType(await send(directives.discover(token))), undefined);
            await new Promise((resolve) => setTimeout(resolve, (now + 2) * 1000 - Date.now() + 50));
            assert.equal(errorType(await send(directives.discover(token))), "EXPIRED_AUTHORIZATION_CREDENTIAL");
        });

        it("never writes the token into a log line", () => withOwnSkill(async (own, send) => {
            const user = own.newUser();
            await send(directives.turnOn(user.token, user.endpointId));
            await send(directives.discover(user.token + "x"));
            assert.equal(own.logLines.length, 2);
            for (const line of own.logLines) {
                assert.ok(!line.includes(user.token.split(".")[1]), "a log line holds the token");
            }
        }));
    });

    describe("endpoints and malformed input", () => {
        it("answers NO_SUCH_ENDPOINT for another user's lamp and leaves that lamp alone", async () => {
            const alice = skill.newUser();
            const mallory = skill.newUser();
            await send(directives.setBrightness(alice.token, alice.endpointId, 33));
            const response = await send(directives.turnOff(mallory.token, alice.endpointId));
            assert.equal(errorType(response), "NO_SUCH_ENDPOINT");
            const state = await send(directives.reportState(alice.token, alice.endpointId));
            assert.equal(property(state, "Alexa.PowerController", "powerState"), "ON");
        });

        it("answers INVALID_DIRECTIVE for an unknown directive, a wrong payloadVersion and a malformed event", async () => {
            const user = skill.newUser();
            const unknown = directives.turnOn(user.token, user.endpointId);
            unknown.directive.header.namespace = "Alexa.ThermostatController";
            const oldVersion = directives.turnOn(user.token, user.endpointId);
            oldVersion.directive.header.payloadVersion = "2";
            for (const event of [unknown, oldVersion, {}, null, "directive", { directive: { header: {} } }]) {
                const response = await send(event);
                assert.equal(errorType(response), "INVALID_DIRECTIVE", JSON.stringify(event)?.slice(0, 60));
                assert.ok(response.event.payload.message.length > 20, response.event.payload.message);
            }
        });

        it("answers INVALID_DIRECTIVE to an empty namespace, name or messageId", async () => {
            const user = skill.newUser();
            for (const field of ["namespace", "name", "messageId"] as const) {
                const event = directives.turnOn(user.token, user.endpointId);
                (event.directive.header as Record<string, string>)[field] = "";
                assert.equal(errorType(await send(event)), "INVALID_DIRECTIVE", field);
            }
            assert.deepEqual(property(await send(directives.reportState(user.token, user.endpointId)), "Alexa.PowerController", "powerState"), "OFF");
        });

        it("answers INVALID_DIRECTIVE, saying why, to a control directive whose endpoint has no endpointId", async () => {
            const user = skill.newUser();
            const event: any = directives.turnOn(user.token, user.endpointId);
            delete event.directive.endpoint.endpointId;
            const response = await send(event);
            assert.equal(errorType(response), "INVALID_DIRECTIVE");
            assert.match(response.event.payload.message, /names no endpoint/);
        });

        it("logs a namespace, name or messageId that is not a plain identifier as (malformed), never as sent", () => withOwnSkill(async (own, send) => {
            const user = own.newUser();
            const event: any = directives.turnOn(user.token, user.endpointId);
            event.directive.header.namespace = "Alexa.PowerController\n{\"level\":\"error\"}";
            event.directive.header.messageId = "m".repeat(129);
            await send(event);
            const ok: any = directives.turnOn(user.token, user.endpointId);
            ok.directive.header.messageId = "m".repeat(128);
            await send(ok);
            const [bad, good] = own.logLines.map((line) => JSON.parse(line));
            assert.equal(bad.namespace, "(malformed)");
            assert.equal(bad.messageId, "(malformed)");
            assert.equal(bad.name, "TurnOn");
            assert.equal(good.messageId, "m".repeat(128));
            assert.equal(good.namespace, "Alexa.PowerController");
        }));

        it("logs one JSON line per directive with its name, outcome and duration", () => withOwnSkill(async (own, send) => {
            const user = own.newUser();
            const event = directives.turnOn(user.token, user.endpointId);
            const started = performance.now();
            await send(event);
            const elapsedMs = performance.now() - started;
            assert.equal(own.logLines.length, 1);
            const line = JSON.parse(own.logLines[0]);
            assert.equal(line.namespace, "Alexa.PowerController");
            assert.equal(line.name, "TurnOn");
            assert.equal(line.messageId, event.directive.header.messageId);
            assert.equal(line.outcome, "Response");
            // The handler's own time in milliseconds, to the microsecond: more than nothing (a
            // TurnOn verifies a token and writes to DynamoDB), at most the time the call took.
            assert.ok(line.durationMs > 0 && line.durationMs <= elapsedMs, `${line.durationMs} of ${elapsedMs} ms`);
            const micros = line.durationMs * 1000;
            assert.ok(Math.abs(micros - Math.round(micros)) < 1e-6, `${line.durationMs} ms is not to the microsecond`);
            assert.equal(typeof line.user, "string");
            assert.ok(!line.user.includes(user.sub));
        }));
    });
});

describe("the function's entry, built from the environment the stack sets", function () {
    this.timeout(30000);
    let dynamo: LocalDynamo;
    const key = newSigningKey();
    let restoreEnvironment: () => void;
    const ENV = () => ({ SKILL_USER_POOL_ID: USER_POOL_ID, SKILL_CLIENT_ID: CLIENT_ID, SKILL_LAMP_TABLE: "entry-lamps", SKILL_POOL_JWKS: JSON.stringify(jwksOf(key)) });
    const EVENTS_ENV = () => ({ ...ENV(), SKILL_ALEXA_CLIENT_ID: LWA_CLIENT_ID, SKILL_GRANTS_TABLE: "entry-grants", SKILL_GRANTS_KEY: grantsKey, SKILL_ALEXA_SECRET_PARAMETER: "/grants-secret", AWS_REGION: "us-east-1" });
    let kms: KmsEndpoint;
    let grantsKey: string;

    before(async () => {
        kms = await startKmsEndpoint();
        grantsKey = kms.createKey();
        dynamo = await startDynalite();
        await dynamo.createLampTable("entry-lamps");
        await dynamo.createLampTable("entry-grants"); // the same key schema: userId
        // What Lambda puts in the environment, pointed at the local DynamoDB.
        restoreEnvironment = setEnvironment({
            AWS_REGION: "us-east-1",
            AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        });
    });
    after(async () => {
        restoreEnvironment();
        await Promise.all([dynamo.stop(), kms.stop()]);
    });

    it("verifies tokens with the handed-over JWKS, keeps lamps in the named table and logs one line per directive", async () => {
        const handle = createHandlerFromEnvironment(ENV());
        const sub = "entry-user";
        const token = signToken(key, accessTokenClaims(sub));
        const endpointId = lampEndpointId(sub);
        const responses: any[] = [];
        const { fd1 } = await capturingStdout(async () => {
            for (const event of [directives.discover(token), directives.setBrightness(token, endpointId, 37), directives.turnOn("x" + token, endpointId)]) {
                responses.push(await handle(event));
            }
        });
        assert.equal(responses[0].event.payload.endpoints[0].endpointId, endpointId);
        assert.equal(property(responses[1], "Alexa.BrightnessController", "brightness"), 37);
        assert.equal(errorType(responses[2]), "INVALID_AUTHORIZATION_CREDENTIAL");
        const item = await dynamo.dynamoDb<{ Item: Record<string, { N?: string }> }>("GetItem", { TableName: "entry-lamps", Key: { userId: { S: sub } } });
        assert.equal(item.Item.brightness.N, "37");
        assert.deepEqual(fd1.map((line) => JSON.parse(line).outcome), ["Discover.Response", "Response", "INVALID_AUTHORIZATION_CREDENTIAL"]);
        assert.ok(fd1.every((line) => line.endsWith("\n") && !line.includes(token.split(".")[2])));
    });

    it("refuses to start without a variable it needs, naming it and what to do", () => {
        for (const name of ["SKILL_USER_POOL_ID", "SKILL_CLIENT_ID", "SKILL_LAMP_TABLE"]) {
            assert.throws(() => createHandlerFromEnvironment({ ...ENV(), [name]: "" }), new RegExp(`${name}; redeploy the stack`), name);
        }
        // With events on, the grants table and its key, the secret's parameter and Lambda's region too.
        for (const name of ["SKILL_GRANTS_TABLE", "SKILL_GRANTS_KEY", "SKILL_ALEXA_SECRET_PARAMETER", "AWS_REGION"]) {
            assert.throws(() => createHandlerFromEnvironment({ ...EVENTS_ENV(), [name]: "" }), new RegExp(`^Error: The skill function needs the environment variable ${name}; redeploy the stack to set it\\.$`), name);
        }
    });

    it("takes the handed-over JWKS only when it holds keys, and downloads the pool's otherwise", () => {
        const jwks = jwksOf(key);
        assert.deepEqual(handedOverJwks(JSON.stringify(jwks)), jwks);
        for (const text of [undefined, "", "not json", "null", "{}", '{"keys":[]}', '{"keys":{"0":{}}}', '"keys"']) {
            assert.equal(handedOverJwks(text), undefined, String(text));
        }
    });

    it("with events on, accepts a grant: the code exchanged with the secret from Parameter Store, the grant stored with the function's region", async () => {
        const lwa = await startLwaEndpoint();
        const ssm = await startSsmEndpoint({ "/grants-secret": LWA_CLIENT_SECRET });
        const restoreSsm = setEnvironment({ AWS_ENDPOINT_URL_SSM: ssm.endpoint, AWS_ENDPOINT_URL_KMS: kms.endpoint });
        try {
            const handle = createHandlerFromEnvironment({ ...EVENTS_ENV(), AWS_REGION: "eu-west-1", SKILL_LWA_TOKEN_URL: lwa.tokenUrl });
            const sub = "entry-grant-user";
            const token = signToken(key, accessTokenClaims(sub));
            let response: any;
            const { fd1 } = await capturingStdout(async () => void (response = await handle(directives.acceptGrant(token, lwa.issueCode()))));
            assert.equal(response.event.header.name, "AcceptGrant.Response", JSON.stringify(response));
            assert.equal(lwa.requests.authorization_code, 1);
            assert.equal(ssm.reads, 1);
            const grant = await createGrantStore({ tableName: "entry-grants", seal: kms.seal(grantsKey), dynamoDb: dynamo.dynamoDb }).get(sub);
            assert.ok(grant && lwa.accessTokenValid(grant.accessToken), "no grant stored");
            assert.equal(grant.region, "eu-west-1");
            assert.equal(JSON.parse(fd1[0]).outcome, "AcceptGrant.Response");
        } finally {
            restoreSsm();
            await Promise.all([lwa.stop(), ssm.stop()]);
        }
    });

    it("without an Alexa Client Id, accepts AcceptGrant without storing a grant, and reports no property proactively", async () => {
        const handle = createHandlerFromEnvironment({ ...ENV(), SKILL_GRANTS_TABLE: "entry-grants", SKILL_ALEXA_SECRET_PARAMETER: "/grants-secret" });
        const sub = "entry-no-events-user";
        const token = signToken(key, accessTokenClaims(sub));
        const responses: any[] = [];
        await capturingStdout(async () => {
            responses.push(await handle(directives.acceptGrant(token)));
            responses.push(await handle(directives.discover(token)));
        });
        assert.equal(responses[0].event.header.name, "AcceptGrant.Response");
        assert.equal(await createGrantStore({ tableName: "entry-grants", seal: kms.seal(grantsKey), dynamoDb: dynamo.dynamoDb }).get(sub), undefined);
        const properties = responses[1].event.payload.endpoints[0].capabilities.filter((c: any) => c.properties).map((c: any) => c.properties.proactivelyReported);
        assert.deepEqual(properties, [false, false, false]);
    });
});

describe("what the skill answers when something throws what it did not expect", () => {
    const user = "user-odd";
    const handler = (overrides: Partial<Parameters<typeof createSkillHandler>[0]>, logged: DirectiveLog[]) => createSkillHandler({
        verifyAccessToken: async () => ({ ok: true, userId: user }),
        lampStore: { read: async () => { throw "down"; }, change: async () => { throw "down"; }, changeReplacing: async () => { throw "down"; } },
        log: (entry) => logged.push(entry),
        ...overrides,
    });

    it("answers INTERNAL_ERROR, naming what failed, for a store or a grant that throws something other than an Error", async () => {
        const logged: DirectiveLog[] = [];
        const state = await handler({}, logged)(directives.reportState("token", lampEndpointId(user)));
        assert.equal(errorType(state), "INTERNAL_ERROR");
        const grant = await handler({ acceptGrant: async () => { throw "down"; } }, logged)(directives.acceptGrant("token", "code"));
        assert.equal((grant as any).event.payload.type, "ACCEPT_GRANT_FAILED");
        assert.deepEqual(logged.map((l) => l.reason), ["the lamp's state is unavailable", "the grant could not be stored"]);
    });

    it("answers INTERNAL_ERROR, saying so, when the token check itself throws", async () => {
        const logged: DirectiveLog[] = [];
        const response: any = await handler({ verifyAccessToken: async () => { throw new TypeError("broken"); } }, logged)(directives.discover("token"));
        assert.deepEqual([response.event.payload.type, response.event.payload.message], ["INTERNAL_ERROR", "The skill failed unexpectedly; please try again."]);
        assert.deepEqual([logged[0].outcome, logged[0].reason], ["INTERNAL_ERROR", "unexpected failure"]);
    });
});

describe("log lines", () => {
    const entry = { namespace: "Alexa", name: "ReportState", messageId: "m-1", durationMs: 1.5 };

    it("refer to a user by 12 characters of a hash of their own, not one another record shares", () => {
        const reference = userReference("user-1");
        assert.match(reference, /^[A-Za-z0-9_-]{12}$/);
        assert.notEqual(reference, userReference("user-2"));
        const plain = createHash("sha256").update("user-1").digest("base64url");
        assert.ok(!plain.startsWith(reference), "the reference is the user id's plain hash");
        assert.ok(!messageGroupOf("user-1").includes(createHash("sha256").update("user-1").digest("hex").slice(0, 12)), "the queue's group id is the user id's plain hash");
    });

    it("go to stdout as one JSON line each, at info for answers, warn for refusals and error for INTERNAL_ERROR", async () => {
        const { fd1, stream } = await capturingStdout(() => {
            logToStdout({ ...entry, outcome: "StateReport" });
            logToStdout({ ...entry, outcome: "INVALID_DIRECTIVE", reason: "no payload" });
            logToStdout({ ...entry, outcome: "INTERNAL_ERROR", reason: "DynamoDB down" });
        });
        assert.deepEqual(stream, []);
        assert.deepEqual(fd1.map((line) => JSON.parse(line).level), ["info", "warn", "error"]);
        assert.deepEqual(JSON.parse(fd1[2]), { level: "error", ...entry, outcome: "INTERNAL_ERROR", reason: "DynamoDB down" });
        assert.ok(fd1.every((line) => line.endsWith("}\n") && line.indexOf("\n") === line.length - 1));
    });

    it("go at error when an outside service's refusal is our configuration's or our bug, or left a user without a grant", () => {
        // An AcceptGrant that LWA or the store failed, whatever the cause, leaves the user without a grant.
        assert.deepEqual(["configuration", "ourBug", "transient", "linkGone", undefined].map((cause) =>
            directiveLogLevel({ ...entry, outcome: "ACCEPT_GRANT_FAILED", reason: "LWA refused", cause })), ["error", "error", "error", "error", "warn"]);
        assert.deepEqual(["configuration", "ourBug", "transient", undefined].map((cause) =>
            directiveLogLevel({ ...entry, outcome: "INVALID_DIRECTIVE", reason: "r", cause })), ["error", "error", "warn", "warn"]);
        assert.equal(directiveLogLevel({ ...entry, outcome: "AcceptGrant.Response", cause: "configuration" }), "info", "an answered directive");
    });

    it("carry \"needs\": \"operator\", what the operator alarm counts, only on lines the operator must act on", async () => {
        const { fd1 } = await capturingStdout(() => {
            logToStdout({ ...entry, outcome: "ACCEPT_GRANT_FAILED", reason: "LWA down", cause: "transient" });
            logToStdout({ ...entry, outcome: "ACCEPT_GRANT_FAILED", reason: "The grantee token could not be verified." });
            logToStdout({ ...entry, outcome: "INTERNAL_ERROR", reason: "DynamoDB down" });
            logToStdout({ ...entry, outcome: "INTERNAL_ERROR", reason: "refused", cause: "configuration" });
            logToStdout({ ...entry, outcome: "StateReport" });
            logToStdout({ ...entry, outcome: "INTERNAL_ERROR", reason: "throttled", cause: "transient" });
        });
        assert.deepEqual(fd1.map((line) => JSON.parse(line).needs), ["operator", undefined, undefined, "operator", undefined, undefined]);
        assert.deepEqual([operatorField(undefined), operatorField("transient"), operatorField("ourBug"), operatorField(undefined, true)], [{}, {}, { needs: "operator" }, { needs: "operator" }]);
    });

    it("go through the stdout stream when the pipe is full, losing none", async () => {
        const { fd1, stream } = await capturingStdout(() => logToStdout({ ...entry, outcome: "StateReport" }), true);
        assert.deepEqual(fd1, []);
        assert.equal(stream.length, 1);
        assert.equal(JSON.parse(stream[0]).outcome, "StateReport");
    });
});
