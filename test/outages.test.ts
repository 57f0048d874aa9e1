import { strict as assert } from "assert";
import { startSkillHarness, SkillHarness } from "./support/skillHarness";
import { directives, errorType, property } from "./support/directives";
import { JwksEndpoint, JwksMode, startJwksEndpoint } from "./support/jwksEndpoint";
import { accessTokenClaims, jwksOf, newSigningKey, signToken } from "./support/tokens";
import { alexaDataPresent, assertValidAlexaMessage } from "./support/alexaSchema";

const JWKS_FAULTS: Exclude<JwksMode, "ok">[] = ["down", "slow", "error", "garbage"];

describe("outages", function () {
    this.timeout(30000);
    // Each test gets its own skill (and JWKS endpoint), held in its own constants: a test that
    // timed out keeps running, and must not reach into the next test's servers.
    const running: { stop(): Promise<void> }[] = [];
    afterEach(async () => {
        for (const server of running.splice(0).reverse()) {
            await server.stop();
        }
    });

    /** `skill`'s answer to `event`, checked against Amazon's schema when it is at hand. */
    const answerer = (skill: SkillHarness) => async (event: unknown): Promise<any> => {
        const response = await skill.handle(event);
        if (alexaDataPresent) {
            assertValidAlexaMessage(response);
        }
        return response;
    };

    /** A skill with the pool's JWKS at hand and its own DynamoDB. */
    async function warmSkill() {
        const skill = await startSkillHarness();
        running.push(skill);
        return { skill, answer: answerer(skill) };
    }

    /**
     * A skill whose verifier has no JWKS yet and downloads it from a local endpoint. `retryWaitSeconds`
     * is the verifier's wait after a failed download or an unknown kid (deployed: 10 s).
     */
    async function coldSkill(mode: JwksMode, retryWaitSeconds?: number) {
        const key = newSigningKey();
        const jwks: JwksEndpoint = await startJwksEndpoint(jwksOf(key));
        running.push(jwks);
        await jwks.setMode(mode);
        const skill = await startSkillHarness({ jwks: undefined, fetcher: jwks.fetcher, key, jwksRetryWaitSeconds: retryWaitSeconds });
        running.push(skill);
        return { skill, jwks, answer: answerer(skill) };
    }

    describe("the JWKS endpoint", () => {
        for (const fault of JWKS_FAULTS) {
            it(`${fault} at cold start: answers INTERNAL_ERROR, never an unlinking error, and recovers by itself`, async () => {
                const { skill, jwks, answer } = await coldSkill(fault);
                const user = skill.newUser();
                for (const event of [directives.discover(user.token), directives.turnOn(user.token, user.endpointId)]) {
                    const response = await answer(event);
                    assert.equal(errorType(response), "INTERNAL_ERROR");
                    assert.match(response.event.payload.message, /could not be checked just now.*try again/);
                }
                await jwks.setMode("ok");
                assert.equal(errorType(await answer(directives.discover(user.token))), undefined);
                assert.equal(property(await answer(directives.turnOn(user.token, user.endpointId)), "Alexa.PowerController", "powerState"), "ON");
            });

            it(`${fault} later, when a rotated key needs a download: INTERNAL_ERROR for the new key, known keys go on working`, async () => {
                const { skill, jwks, answer } = await coldSkill("ok");
                const user = skill.newUser();
                assert.equal(errorType(await answer(directives.discover(user.token))), undefined);
                const rotated = newSigningKey();
                const rotatedToken = signToken(rotated, accessTokenClaims(user.sub));
                await jwks.setMode(fault);
                assert.equal(errorType(await answer(directives.discover(rotatedToken))), "INTERNAL_ERROR");
                assert.equal(errorType(await answer(directives.discover(user.token))), undefined);
                jwks.serve(jwksOf(skill.key, rotated));
                await jwks.setMode("ok");
                assert.equal(errorType(await answer(directives.discover(rotatedToken))), undefined);
            });
        }

        it("is downloaded at cold start only, not per directive", async () => {
            const { skill, jwks, answer } = await coldSkill("ok");
            // aws-jwt-verify 5 accepts both of Cognito's issuer formats (cognito-idp.<region> and
            // issuer-cognito-idp.<region>), and hydrate() starts one download for each.
            assert.equal(jwks.downloads(), 2, "downloads started at cold start");
            const user = skill.newUser();
            for (let i = 0; i < 50; i++) {
                assert.equal(errorType(await answer(directives.discover(user.token))), undefined);
            }
            assert.equal(jwks.downloads(), 2);
        });

        it("is not flooded by made-up kids: 200 at once cost at most two downloads, 200 more within the retry wait none", async () => {
            // A wait far longer than the test, so that the second flood surely falls within it.
            const { skill, jwks, answer } = await coldSkill("ok", 600);
            const user = skill.newUser();
            await answer(directives.discover(user.token));
            const before = jwks.downloads();
            const forger = newSigningKey();
            const flood = (from: number) => Promise.all(Array.from({ length: 200 }, (_, i) =>
                answer(directives.discover(signToken(forger, accessTokenClaims(user.sub), { kid: `made-up-${from + i}` })))));
            const first = await flood(0);
            // All 200 arrive at once: those in flight share one download, and a straggler that passed
            // the retry wait before the first failure was counted may start one more; never more.
            assert.ok(jwks.downloads() - before >= 1 && jwks.downloads() - before <= 2, `${jwks.downloads() - before} downloads for 200 made-up kids`);
            // The first is refused after the download proved its kid unknown; the rest arrive in the
            // retry period, when no download can confirm a key: INTERNAL_ERROR, which unlinks nobody.
            const types = first.map(errorType);
            assert.ok(types.every((t) => t === "INVALID_AUTHORIZATION_CREDENTIAL" || t === "INTERNAL_ERROR"), types.join());
            assert.ok(types.includes("INVALID_AUTHORIZATION_CREDENTIAL"));
            const afterFirst = jwks.downloads();
            const second = await flood(200);
            assert.equal(jwks.downloads(), afterFirst, "a download within the retry wait");
            assert.deepEqual([...new Set(second.map(errorType))], ["INTERNAL_ERROR"]);
            assert.equal(errorType(await answer(directives.discover(user.token))), undefined, "known keys keep working");
        });

        it("answers INTERNAL_ERROR, never an unlinking error, to a rotated key within the retry wait after an unknown kid, and downloads nothing", async () => {
            const { skill, jwks, answer } = await coldSkill("ok", 600);
            const user = skill.newUser();
            assert.equal(errorType(await answer(directives.discover(user.token))), undefined);
            const made = signToken(newSigningKey(), accessTokenClaims(user.sub));
            assert.equal(errorType(await answer(directives.discover(made))), "INVALID_AUTHORIZATION_CREDENTIAL");
            const downloads = jwks.downloads();
            // The pool really rotated its key: the endpoint now serves it, but the wait is on.
            const rotated = newSigningKey();
            jwks.serve(jwksOf(skill.key, rotated));
            const rotatedUser = signToken(rotated, accessTokenClaims(user.sub));
            for (const event of [directives.discover(rotatedUser), directives.turnOn(rotatedUser, user.endpointId)]) {
                assert.equal(errorType(await answer(event)), "INTERNAL_ERROR", event.directive.header.name);
            }
            assert.equal(jwks.downloads(), downloads);
            assert.equal(errorType(await answer(directives.reportState(user.token, user.endpointId))), undefined, "known keys keep working");
        });

        it("downloads again once the retry wait has passed, and then accepts the rotated key", async () => {
            const { skill, jwks, answer } = await coldSkill("ok", 0.2);
            const user = skill.newUser();
            await answer(directives.discover(user.token));
            assert.equal(errorType(await answer(directives.discover(signToken(newSigningKey(), accessTokenClaims(user.sub))))), "INVALID_AUTHORIZATION_CREDENTIAL");
            const downloads = jwks.downloads();
            const rotated = newSigningKey();
            jwks.serve(jwksOf(skill.key, rotated));
            // Timers run in order: this one, set after the 200 ms wait began and longer, ends after it.
            await new Promise((resolve) => setTimeout(resolve, 400));
            assert.equal(errorType(await answer(directives.discover(signToken(rotated, accessTokenClaims(user.sub))))), undefined);
            assert.equal(jwks.downloads(), downloads + 1);
        });
    });

    describe("DynamoDB", () => {
        for (const fault of ["down", "throttle"] as const) {
            it(`${fault}: answers INTERNAL_ERROR, keeps the lamp's state intact, and answers right once it is back`, async () => {
                const { skill, answer } = await warmSkill();
                const user = skill.newUser();
                await answer(directives.setBrightness(user.token, user.endpointId, 44));
                await skill.dynamo.setMode(fault);
                for (const event of [
                    directives.turnOff(user.token, user.endpointId),
                    directives.adjustBrightness(user.token, user.endpointId, 10),
                    directives.reportState(user.token, user.endpointId),
                ]) {
                    const response = await answer(event);
                    assert.equal(errorType(response), "INTERNAL_ERROR");
                    assert.match(response.event.payload.message, /lamp's state is unavailable.*try again/);
                }
                assert.equal(errorType(await answer(directives.discover(user.token))), undefined, "Discover needs no table");
                await skill.dynamo.setMode("up");
                const state = await answer(directives.reportState(user.token, user.endpointId));
                assert.equal(property(state, "Alexa.PowerController", "powerState"), "ON");
                assert.equal(property(state, "Alexa.BrightnessController", "brightness"), 44);
            });
        }

        it("throttling mid-flood: every answered change is applied, no refused one is", async () => {
            const { skill, answer } = await warmSkill();
            const user = skill.newUser();
            await answer(directives.setBrightness(user.token, user.endpointId, 1));
            const wave = () => Promise.all(Array.from({ length: 20 }, () => answer(directives.adjustBrightness(user.token, user.endpointId, 1))));
            const before = await wave();
            await skill.dynamo.setMode("throttle");
            const during = await wave();
            await skill.dynamo.setMode("up");
            const after = await wave();
            const answers = [...before, ...during, ...after];
            const applied = answers.filter((a) => errorType(a) === undefined).length;
            assert.ok(during.every((a) => errorType(a) === "INTERNAL_ERROR"));
            assert.equal(applied, 40);
            const state = await answer(directives.reportState(user.token, user.endpointId));
            assert.equal(property(state, "Alexa.BrightnessController", "brightness"), 1 + applied);
        });

        it("down mid-flood: no error escapes, the state stays well-formed and holds every answered change", async () => {
            const { skill, answer } = await warmSkill();
            const user = skill.newUser();
            await answer(directives.setBrightness(user.token, user.endpointId, 1));
            const flood = Array.from({ length: 40 }, (_, i) => (async () => {
                await new Promise((resolve) => setTimeout(resolve, i * 2));
                return answer(directives.adjustBrightness(user.token, user.endpointId, 1));
            })());
            setTimeout(() => void skill.dynamo.setMode("down"), 30);
            const answers = await Promise.all(flood);
            await skill.dynamo.setMode("up");
            const applied = answers.filter((a) => errorType(a) === undefined).length;
            assert.ok(answers.every((a) => errorType(a) === undefined || errorType(a) === "INTERNAL_ERROR"));
            const state = await answer(directives.reportState(user.token, user.endpointId));
            const level = property(state, "Alexa.BrightnessController", "brightness") as number;
            // A request cut off after DynamoDB applied it may have been retried by the SDK: the level
            // holds at least every answered change, and at most two applications of each.
            assert.ok(level >= 1 + applied && level <= 1 + 2 * 40, `level ${level}, applied ${applied}`);
            assert.equal(property(state, "Alexa.PowerController", "powerState"), "ON");
        });
    });
});
