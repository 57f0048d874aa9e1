import { strict as assert } from "assert";
import { startSkillHarness, SkillHarness } from "./support/skillHarness";
import { directives, errorType, property } from "../local/directives";
import { JwksEndpoint, JwksMode, startJwksEndpoint } from "./support/jwksEndpoint";
import { accessTokenClaims, CLIENT_ID, jwksOf, newSigningKey, signToken, USER_POOL_ID } from "../local/tokens";
import { alexaDataPresent, assertValidAlexaMessage } from "./support/alexaSchema";
import { answerCognitoJwks, CognitoJwksDownloads } from "./support/cognitoJwksDownloads";
import { setEnvironment } from "./support/lambdaEnvironment";
import { capturingStdout } from "./support/stdout";
import { createHandlerFromEnvironment } from "../handler";
import { createCompanionFromEnvironment } from "../handler/companionApi";

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

// The same flood against the functions as their entries build them from the stack's environment,
// with every default as deployed: the verifier's wait after an unknown kid (10 s) and its own
// fetcher, whose downloads from Cognito are answered here (test/support/cognitoJwksDownloads.ts).
describe("a flood of made-up kids against the deployed defaults", function () {
    this.timeout(30000);
    const key = newSigningKey("pool-key-deployed");
    const poolId = USER_POOL_ID;
    const clientId = CLIENT_ID;
    let downloads: CognitoJwksDownloads;
    let restoreEnvironment: () => void;
    before(() => {
        restoreEnvironment = setEnvironment({ AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" });
    });
    after(() => restoreEnvironment());
    beforeEach(() => {
        downloads = answerCognitoJwks(jwksOf(key));
    });
    afterEach(() => downloads.restore());

    /** Tokens of the pool's issuer and client, signed by a foreign key, each under a kid nobody published. */
    const foreign = newSigningKey();
    const madeUpKids = (count: number, client: string) => Array.from({ length: count }, (_, i) =>
        signToken(foreign, accessTokenClaims(`intruder-${i}`, { client_id: client }), { kid: `made-up-${i}-${Math.random()}` }));

    it("costs the skill's entry at most two downloads for 200 tokens in quick waves, and none for 200 more within the wait", async () => {
        const handle = createHandlerFromEnvironment({
            SKILL_USER_POOL_ID: poolId, SKILL_CLIENT_ID: clientId, SKILL_LAMP_TABLE: "lamps", SKILL_POOL_JWKS: JSON.stringify(jwksOf(key)), AWS_REGION: "us-east-1",
        });
        // Twenty waves of ten, 5 ms apart (concurrent requests would share one download anyway,
        // and a wait too short to last between waves would show); the entry logs to stdout, kept
        // out of the test's output.
        const flood = async () => {
            const types: (string | undefined)[] = [];
            await capturingStdout(async () => {
                const tokens = madeUpKids(200, clientId);
                for (let wave = 0; wave < 20; wave++) {
                    types.push(...(await Promise.all(tokens.slice(wave * 10, wave * 10 + 10).map((token) => handle(directives.discover(token))))).map(errorType));
                    await new Promise((resolve) => setTimeout(resolve, 5));
                }
            });
            return types;
        };
        const first = await flood();
        assert.ok(first.every((type) => type === "INVALID_AUTHORIZATION_CREDENTIAL" || type === "INTERNAL_ERROR"), first.join(","));
        assert.ok(downloads.count() >= 1 && downloads.count() <= 2, `${downloads.count()} downloads for 200 made-up kids`);
        const after = downloads.count();
        assert.ok((await flood()).every((type) => type !== undefined));
        assert.equal(downloads.count(), after, "a made-up kid within the wait cost a download");
        // and the pool's own tokens go on working meanwhile
        let real: unknown;
        await capturingStdout(async () => void (real = await handle(directives.discover(signToken(key, accessTokenClaims("real-user"))))));
        assert.equal(errorType(real), undefined);
    });

    it("costs the companion API's entry at most two downloads for 200 tokens in quick waves", async () => {
        const companionClient = "5companion6client7id8abcdef";
        const handle = createCompanionFromEnvironment({
            COMPANION_USER_POOL_ID: poolId, COMPANION_CLIENT_ID: companionClient, COMPANION_LAMP_TABLE: "lamps", COMPANION_POOL_JWKS: JSON.stringify(jwksOf(key)),
            COMPANION_AUTH_BASE_URL: "https://lamp.auth.us-east-1.amazoncognito.com", COMPANION_PAGE_URL: "https://api.example.com/",
        });
        const statuses: { statusCode: number }[] = [];
        await capturingStdout(async () => {
            const tokens = madeUpKids(200, companionClient);
            for (let wave = 0; wave < 20; wave++) {
                statuses.push(...await Promise.all(tokens.slice(wave * 10, wave * 10 + 10).map((token) =>
                    handle({ rawPath: "/api/lamp", headers: { authorization: `Bearer ${token}` }, requestContext: { http: { method: "GET" } } }))));
                await new Promise((resolve) => setTimeout(resolve, 5));
            }
        });
        assert.ok(statuses.every((r) => r.statusCode === 401 || r.statusCode === 503), statuses.map((r) => r.statusCode).join(","));
        assert.ok(downloads.count() >= 1 && downloads.count() <= 2, `${downloads.count()} downloads for 200 made-up kids`);
    });
});
