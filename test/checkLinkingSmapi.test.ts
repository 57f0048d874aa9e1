import { strict as assert } from "assert";
import { checkSkillThroughSmapi, formatResults, smapiOptionsFromConfig, SmapiCheckOptions } from "../scripts/checkLinking";
import { SmapiStandIn, STACK_LINKING_REQUEST, STAND_IN_CREDENTIALS, startSmapiStandIn } from "./support/smapiStandIn";

const SKILL_ID = "amzn1.ask.skill.0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90";
const NA = "arn:aws:lambda:us-east-1:123456789012:function:smartlamp-function-na";
const EU = "arn:aws:lambda:eu-west-1:123456789012:function:smartlamp-function-eu";
const REQUEST = STACK_LINKING_REQUEST;
const COGNITO_SECRET = REQUEST.accountLinkingRequest.clientSecret;
const OUTPUTS = { accountLinkingRequest: REQUEST, skillEndpointArn: NA, region: "us-east-1", userPoolId: "us-east-1_AbCdEf123" };

describe("npm run check-linking, reading the skill through SMAPI", () => {
    let smapi: SmapiStandIn;
    let options: SmapiCheckOptions;

    beforeEach(async () => {
        smapi = await startSmapiStandIn({ pollsBeforeDone: 0 });
        smapi.addSkill(SKILL_ID, { manifest: { apis: { smartHome: { endpoint: { uri: NA }, regions: { NA: { endpoint: { uri: NA } }, EU: { endpoint: { uri: EU } } } } } } }, {
            accountLinking: { ...REQUEST.accountLinkingRequest },
        });
        options = {
            skillId: SKILL_ID,
            credentials: { ...STAND_IN_CREDENTIALS },
            endpoints: smapi.endpoints,
            timing: { retryDelayMs: 5, retryBudgetMs: 100 },
            stackEndpoints: [{ stack: "dev", region: "us-east-1", arn: NA }, { stack: "dev-eu", region: "eu-west-1", arn: EU }],
        };
    });
    afterEach(() => smapi.stop());

    function printedWithoutSecrets(text: string) {
        for (const secret of [COGNITO_SECRET, STAND_IN_CREDENTIALS.clientSecret, STAND_IN_CREDENTIALS.refreshToken]) {
            assert.ok(!text.includes(secret), "a secret was printed");
        }
    }

    it("passes when the skill's account linking and every region's endpoint match the stacks (a skill never published)", async () => {
        const results = await checkSkillThroughSmapi(OUTPUTS, options);
        assert.deepEqual(results.map((r) => [r.ok, r.name]), [
            [true, "the skill's account linking (read through SMAPI) is the stack's"],
            [true, "the skill's NA endpoint (read through SMAPI) is stack dev's function"],
            [true, "the skill's default endpoint (read through SMAPI) is stack dev's function"],
            [true, "the skill's EU endpoint (read through SMAPI) is stack dev-eu's function"],
            [true, "the live skill (read through SMAPI)"],
        ]);
        assert.equal(smapi.writes().length, 0, "the check writes nothing");
        printedWithoutSecrets(formatResults(results));
    });

    it("names each account-linking field changed in the console, with both values", async () => {
        const linking = smapi.skills.get(SKILL_ID)!.accountLinking!;
        linking.scopes = ["openid", "email"];
        linking.accessTokenScheme = "REQUEST_BODY_CREDENTIALS";
        const [result] = await checkSkillThroughSmapi(OUTPUTS, options);
        assert.equal(result.ok, false);
        assert.equal(result.detail, 'accessTokenScheme: the skill has "REQUEST_BODY_CREDENTIALS", the stack "HTTP_BASIC"; scopes: the skill has ["openid","email"], the stack ["openid"]. ' +
            "Someone changed it in the console: run `npx pulumi up --refresh` on the primary stack to set it again (a plain `up` compares with its last state only).");
        printedWithoutSecrets(result.detail);
    });

    it("fails a region whose endpoint is missing or another function, and says which stack to deploy", async () => {
        delete smapi.manifestOf(SKILL_ID).manifest.apis.smartHome.regions.EU;
        smapi.manifestOf(SKILL_ID).manifest.apis.smartHome.endpoint.uri = "arn:aws:lambda:us-east-1:123456789012:function:old";
        const failed = (await checkSkillThroughSmapi(OUTPUTS, options)).filter((r) => !r.ok);
        assert.deepEqual(failed.map((r) => r.detail), [
            "the manifest has arn:aws:lambda:us-east-1:123456789012:function:old: run `npx pulumi up --refresh --stack dev`.",
            `the manifest has no endpoint for EU: run \`npx pulumi up --refresh --stack dev-eu\` (or paste ${EU} into the console).`,
        ]);
    });

    it("says when the manifest has no default endpoint", async () => {
        delete smapi.manifestOf(SKILL_ID).manifest.apis.smartHome.endpoint;
        const failed = (await checkSkillThroughSmapi(OUTPUTS, options)).filter((r) => !r.ok);
        assert.deepEqual(failed.map((r) => r.detail), ["the manifest has no default endpoint: run `npx pulumi up --refresh --stack dev`."]);
    });

    it("reports an account linking SMAPI cannot give as a failed check, and goes on to the endpoints", async () => {
        smapi.fault({ method: "GET", path: /\/accountLinkingClient$/, status: 403, body: { message: "not allowed" } });
        const results = await checkSkillThroughSmapi(OUTPUTS, options);
        assert.deepEqual(results.map((r) => r.ok), [false, true, true, true, true]);
        assert.match(results[0].detail, /^SMAPI does not allow this profile to read the account linking of /);
    });

    it("says when the skill has no account linking at all", async () => {
        smapi.skills.get(SKILL_ID)!.accountLinking = undefined;
        const [result] = await checkSkillThroughSmapi(OUTPUTS, options);
        assert.equal(result.ok, false);
        assert.match(result.detail, /the skill has no account linking: run `npx pulumi up` on the primary stack/);
    });

    it("turns a revoked refresh token into a failed check that says how to get a new one", async () => {
        smapi.revokeRefreshToken();
        const results = await checkSkillThroughSmapi(OUTPUTS, options);
        assert.ok(results.every((r) => !r.ok));
        assert.match(results[0].detail, /refused smapiRefreshToken.*ask util generate-lwa-tokens/);
        printedWithoutSecrets(formatResults(results));
    });

    it("reads the skill only when the stack's config holds the three smapi values and the skill ID", () => {
        const config: Record<string, string> = { alexaSkillId: SKILL_ID, smapiClientId: STAND_IN_CREDENTIALS.clientId, smapiClientSecret: STAND_IN_CREDENTIALS.clientSecret, smapiRefreshToken: STAND_IN_CREDENTIALS.refreshToken };
        const endpoints = [{ stack: "dev", region: "us-east-1", arn: NA }];
        assert.deepEqual(smapiOptionsFromConfig(config, endpoints), { skillId: SKILL_ID, credentials: STAND_IN_CREDENTIALS, stackEndpoints: endpoints });
        for (const key of Object.keys(config)) {
            assert.equal(smapiOptionsFromConfig({ ...config, [key]: "" }, []), undefined, `${key} empty`);
            const without = { ...config };
            delete without[key];
            assert.equal(smapiOptionsFromConfig(without, []), undefined, `${key} missing`);
        }
    });

    it("says what it saw when everything matches", async () => {
        const results = await checkSkillThroughSmapi(OUTPUTS, options);
        assert.deepEqual(results.map((r) => r.detail), [
            "every field SMAPI shows matches (the client secret is not readable through SMAPI; the token check tests it)", NA, NA, EU,
            "the skill has no live stage (it was never certified and published): its users are its developers and beta testers, on the development stage that `pulumi up` sets",
        ]);
    });

    it("shows a field the skill lacks as not set", async () => {
        delete smapi.skills.get(SKILL_ID)!.accountLinking!.accessTokenScheme;
        const [result] = await checkSkillThroughSmapi(OUTPUTS, options);
        assert.match(result.detail, /^accessTokenScheme: the skill has \(not set\), the stack "HTTP_BASIC"\. Someone changed it in the console/);
    });

    it("says to deploy this version when the stack has no accountLinkingRequest output", async () => {
        const [result] = await checkSkillThroughSmapi({ ...OUTPUTS, accountLinkingRequest: undefined }, options);
        assert.deepEqual(result, { name: "the skill's account linking (read through SMAPI) is the stack's", ok: false,
            detail: "the stack has no accountLinkingRequest output: run `npx pulumi up` with this version of the program." });
    });

    it("keeps the caller's short retry time, and reports a manifest SMAPI cannot give as its own failed check", async () => {
        smapi.fault({ method: "GET", path: /\/manifest$/, status: 500, body: { message: "Internal error" }, times: 1000 });
        const results = await checkSkillThroughSmapi(OUTPUTS, options);
        assert.deepEqual(results.map((r) => [r.ok, r.name]), [
            [true, "the skill's account linking (read through SMAPI) is the stack's"],
            [false, "the skill manifest can be read through SMAPI"],
            [false, "the live skill can be read through SMAPI"],
        ]);
        assert.match(results[1].detail, /^SMAPI failed to read the skill manifest \(HTTP 500\) until the retry time ran out/);
        assert.match(results[2].detail, /^SMAPI failed to read the live skill's manifest \(HTTP 500\) until the retry time ran out/);
    });

    describe("a certified skill's live stage", () => {
        const ADVICE = "until a version with the stack's values is certified and published. Keep what they use running meanwhile (do not destroy or replace it), " +
            `and submit the development version for certification (developer console, Certification; or \`ask smapi submit-skill-for-certification --skill-id ${SKILL_ID}\`).`;
        const liveResults = async () => (await checkSkillThroughSmapi(OUTPUTS, options)).filter((r) => r.name.startsWith("the live skill"));

        it("passes when the published version has the stacks' endpoints and account linking, and writes nothing", async () => {
            smapi.publish(SKILL_ID);
            assert.deepEqual((await liveResults()).map((r) => [r.ok, r.name, r.detail]), [
                [true, "the live skill's account linking is the stack's", "every field SMAPI shows matches"],
                [true, "the live skill's NA endpoint is stack dev's function", NA],
                [true, "the live skill's default endpoint is stack dev's function", NA],
                [true, "the live skill's EU endpoint is stack dev-eu's function", EU],
            ]);
            assert.equal(smapi.writes().length, 0);
        });

        it("fails when a function was replaced after certification: the development stage has the new one, live users still the old", async () => {
            const old = "arn:aws:lambda:eu-west-1:123456789012:function:smartlamp-function-eu-old";
            smapi.manifestOf(SKILL_ID).manifest.apis.smartHome.regions.EU.endpoint.uri = old;
            smapi.publish(SKILL_ID);
            smapi.manifestOf(SKILL_ID).manifest.apis.smartHome.regions.EU.endpoint.uri = EU; // what `pulumi up` then wrote
            const results = await checkSkillThroughSmapi(OUTPUTS, options);
            assert.ok(results.filter((r) => !r.name.startsWith("the live skill")).every((r) => r.ok), "the development stage is the stack's");
            assert.deepEqual(results.filter((r) => !r.ok).map((r) => [r.name, r.detail]), [
                ["the live skill's EU endpoint is stack dev-eu's function", `the live skill sends EU users' directives to ${old}, not to ${EU}. Live users get that function ${ADVICE}`],
            ]);
        });

        it("fails the default endpoint and a region the live skill lacks, saying so", async () => {
            smapi.publish(SKILL_ID);
            const live = smapi.skills.get(SKILL_ID)!.live!;
            delete live.manifest.manifest.apis.smartHome.regions.EU;
            live.manifest.manifest.apis.smartHome.endpoint.uri = "arn:aws:lambda:us-east-1:123456789012:function:first";
            assert.deepEqual((await liveResults()).filter((r) => !r.ok).map((r) => r.detail), [
                `the live skill's default endpoint is arn:aws:lambda:us-east-1:123456789012:function:first, not ${NA}. Live users get that function ${ADVICE}`,
                `the live skill sends EU users' directives to no endpoint, not to ${EU}. Live users get that function ${ADVICE}`,
            ]);
        });

        it("says so when the live skill has no default endpoint at all", async () => {
            smapi.publish(SKILL_ID);
            delete smapi.skills.get(SKILL_ID)!.live!.manifest.manifest.apis.smartHome.endpoint;
            assert.deepEqual((await liveResults()).filter((r) => !r.ok).map((r) => r.detail), [
                `the live skill's default endpoint is not set, not ${NA}. Live users get that function ${ADVICE}`,
            ]);
        });

        it("names each account-linking field the live skill has otherwise (an earlier login domain), with both values", async () => {
            const oldDomain = "https://smartlamp-old.auth.us-east-1.amazoncognito.com/oauth2/authorize";
            smapi.publish(SKILL_ID);
            smapi.skills.get(SKILL_ID)!.live!.accountLinking!.authorizationUrl = oldDomain;
            const [linking] = await liveResults();
            assert.deepEqual([linking.ok, linking.name], [false, "the live skill's account linking is the stack's"]);
            assert.equal(linking.detail, `authorizationUrl: the skill has ${JSON.stringify(oldDomain)}, the stack ${JSON.stringify(REQUEST.accountLinkingRequest.authorizationUrl)}. ` +
                `Live users get the live skill's settings when they link ${ADVICE}`);
            printedWithoutSecrets(linking.detail);
        });

        it("fails when the live skill has no account linking", async () => {
            smapi.publish(SKILL_ID);
            smapi.skills.get(SKILL_ID)!.live!.accountLinking = undefined;
            const [linking] = await liveResults();
            assert.deepEqual([linking.ok, linking.detail], [false, `the live skill has no account linking. Live users get no way to link ${ADVICE}`]);
        });
    });
});
