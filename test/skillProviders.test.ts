import { strict as assert } from "assert";
import {
    SkillAccountLinkingInputs, SkillAccountLinkingProvider, SkillEndpointInputs, SkillEndpointOutputs, SkillEndpointProvider, SkillMessagingCredentialsProvider,
} from "../infra/skillProviders";
import { shownPart } from "../infra/skillLinking";
import { readMessagingCredentials, smapiSession, SmapiTiming } from "../infra/smapiClient";
import { SmapiStandIn, STACK_LINKING_REQUEST, STAND_IN_CREDENTIALS, startSmapiStandIn } from "./support/smapiStandIn";

const SKILL_ID = "amzn1.ask.skill.0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90";
const ARN = {
    "us-east-1": "arn:aws:lambda:us-east-1:123456789012:function:smartlamp-function-na",
    "eu-west-1": "arn:aws:lambda:eu-west-1:123456789012:function:smartlamp-function-eu",
    "us-west-2": "arn:aws:lambda:us-west-2:123456789012:function:smartlamp-function-fe",
} as const;
type Region = keyof typeof ARN;

/** Short waits: the stand-in answers at once. */
const TIMING: Partial<SmapiTiming> = { retryDelayMs: 5, retryBudgetMs: 300, pollIntervalMs: 5, pollBudgetMs: 5000, conflictTries: 3, requestTimeoutMs: 5000 };

/** A new Smart Home skill as the console creates it: a placeholder default endpoint, nothing per region. */
function consoleManifest(): any {
    return {
        manifest: {
            manifestVersion: "1.0",
            publishingInformation: { locales: { "en-US": { name: "Smart Lamp", summary: "Your own lamp" } }, category: "SMART_HOME", isAvailableWorldwide: true },
            privacyAndCompliance: { allowsPurchases: false, usesPersonalInfo: false },
            apis: { smartHome: { protocolVersion: "3", endpoint: { uri: "arn:aws:lambda:us-east-1:123456789012:function:console-placeholder" } } },
        },
    };
}

const LINKING = STACK_LINKING_REQUEST;

describe("the SMAPI dynamic providers, against a local SMAPI and LWA", () => {
    let smapi: SmapiStandIn;
    const endpoint = new SkillEndpointProvider(TIMING);
    const linking = new SkillAccountLinkingProvider(TIMING);

    function endpointInputs(region: Region, overrides: Partial<SkillEndpointInputs> = {}): SkillEndpointInputs {
        return {
            skillId: SKILL_ID,
            awsRegion: region,
            endpointUri: ARN[region],
            isDefault: region === "us-east-1",
            credentials: { ...STAND_IN_CREDENTIALS },
            ...smapi.endpoints,
            ...overrides,
        };
    }
    function linkingInputs(overrides: Partial<SkillAccountLinkingInputs> = {}): SkillAccountLinkingInputs {
        return {
            skillId: SKILL_ID,
            accountLinking: shownPart(LINKING),
            clientSecret: LINKING.accountLinkingRequest.clientSecret,
            credentials: { ...STAND_IN_CREDENTIALS },
            ...smapi.endpoints,
            ...overrides,
        };
    }
    const smartHome = () => smapi.manifestOf(SKILL_ID).manifest.apis.smartHome;
    const noSecretIn = (text: string) => {
        for (const secret of [STAND_IN_CREDENTIALS.clientSecret, STAND_IN_CREDENTIALS.refreshToken, LINKING.accountLinkingRequest.clientSecret]) {
            assert.ok(!text.includes(secret), `a secret appears in: ${text}`);
        }
        assert.doesNotMatch(text, /Atza\|/, "an access token appears");
    };
    async function failureOf(promise: Promise<unknown>): Promise<Error> {
        try {
            await promise;
        } catch (err) {
            noSecretIn(String((err as Error).message));
            return err as Error;
        }
        throw new Error("expected a failure");
    }

    beforeEach(async () => {
        smapi = await startSmapiStandIn();
        smapi.addSkill(SKILL_ID, consoleManifest(), { messagingCredentials: { clientId: "amzn1.application-oa2-client.events", clientSecret: "events-client-secret-value" } });
    });
    afterEach(() => smapi.stop());

    describe("create", () => {
        it("sets the primary's NA and default endpoints with If-Match, waits for SUCCEEDED, and keeps the rest of the manifest", async () => {
            const { id, outs } = await endpoint.create(endpointInputs("us-east-1"));
            assert.equal(id, `${SKILL_ID}/NA`);
            assert.deepEqual(smartHome(), { protocolVersion: "3", endpoint: { uri: ARN["us-east-1"] }, regions: { NA: { endpoint: { uri: ARN["us-east-1"] } } } });
            assert.deepEqual(smapi.manifestOf(SKILL_ID).manifest.publishingInformation, consoleManifest().manifest.publishingInformation);
            const put = smapi.writes();
            assert.equal(put.length, 1);
            assert.equal(put[0].headers["if-match"], "1", "the write carries the ETag of the read");
            const statusPolls = smapi.requests.filter((r) => r.path.endsWith("/status?resource=manifest"));
            assert.equal(statusPolls.length, 2, "one IN_PROGRESS, then SUCCEEDED");
            assert.equal(outs!.liveRegionUri, ARN["us-east-1"]);
        });

        it("writes nothing when the entries already hold the function's ARN", async () => {
            await endpoint.create(endpointInputs("us-east-1"));
            await endpoint.create(endpointInputs("us-east-1"));
            assert.equal(smapi.writes().length, 1);
        });

        it("reads the manifest again and redoes its change on top of a concurrent edit (412 Precondition failed)", async () => {
            smapi.editBeforeNextWrite((envelope) => {
                envelope.manifest.apis.smartHome.regions = { EU: { endpoint: { uri: ARN["eu-west-1"] } } };
            });
            await endpoint.create(endpointInputs("us-east-1"));
            const puts = smapi.writes();
            assert.equal(puts.length, 2);
            assert.notEqual(puts[0].headers["if-match"], puts[1].headers["if-match"]);
            assert.deepEqual(smartHome().regions, { EU: { endpoint: { uri: ARN["eu-west-1"] } }, NA: { endpoint: { uri: ARN["us-east-1"] } } });
        });

        it("surfaces a FAILED manifest update with Amazon's message and the field", async () => {
            smapi.invocable = new Set([ARN["eu-west-1"]]);
            smapi.manifestOf(SKILL_ID).manifest.apis.smartHome.endpoint.uri = ARN["eu-west-1"];
            const error = await failureOf(endpoint.create(endpointInputs("us-east-1")));
            assert.match(error.message, /update FAILED/);
            assert.match(error.message, new RegExp(`\\$\\.manifest\\.apis\\.smartHome\\.regions\\.NA\\.endpoint\\.uri: The trigger setting for the Lambda ${ARN["us-east-1"]} is invalid`));
            assert.match(error.message, /Lambda permission/);
            assert.deepEqual(smartHome().regions, undefined, "a FAILED update changes nothing");
        });

        it("retries 429 Too Many Requests with growing waits and succeeds", async () => {
            smapi.fault({ method: "GET", path: /\/manifest$/, status: 429, body: { message: "Rate exceeded." }, times: 2 });
            await endpoint.create(endpointInputs("eu-west-1"));
            assert.equal(smartHome().regions.EU.endpoint.uri, ARN["eu-west-1"]);
            assert.equal(smapi.requests.filter((r) => r.method === "GET" && r.path.endsWith("/manifest")).length, 3);
        });

        it("gives up on 429 when the retry time runs out, and says to run up again", async () => {
            smapi.fault({ method: "GET", path: /\/manifest$/, status: 429, body: { message: "Rate exceeded." }, times: 1000 });
            const error = await failureOf(endpoint.create(endpointInputs("eu-west-1")));
            assert.match(error.message, /throttling.*429.*run `npx pulumi up` again/);
            assert.equal(smapi.writes().length, 0);
        });

        it("explains LWA's invalid_client (401) without showing the client secret", async () => {
            const error = await failureOf(endpoint.create(endpointInputs("eu-west-1", { credentials: { ...STAND_IN_CREDENTIALS, clientSecret: "wrong-client-secret-value" } })));
            assert.match(error.message, /refused smapiClientId\/smapiClientSecret \(HTTP 401, invalid_client\)/);
            assert.ok(!error.message.includes("wrong-client-secret-value"));
        });

        it("explains a revoked refresh token (invalid_grant) with how to get a new one", async () => {
            smapi.revokeRefreshToken();
            const error = await failureOf(endpoint.create(endpointInputs("eu-west-1")));
            assert.match(error.message, /refused smapiRefreshToken \(HTTP 400, invalid_grant\)/);
            assert.match(error.message, /ask util generate-lwa-tokens/);
            assert.equal(smapi.requests.filter((r) => r.path.startsWith("/v1/")).length, 0, "no SMAPI call without a token");
        });

        it("explains SMAPI's 401 (token refused) and 403 (no skill scopes)", async () => {
            smapi.fault({ path: /\/manifest$/, status: 401, body: { message: "Token is invalid/expired." } });
            assert.match((await failureOf(endpoint.create(endpointInputs("eu-west-1")))).message, /refused the access token.*401.*generate-lwa-tokens/);
            await smapi.stop();
            smapi = await startSmapiStandIn({ scopes: ["profile"] });
            smapi.addSkill(SKILL_ID, consoleManifest());
            const error = await failureOf(endpoint.create(endpointInputs("eu-west-1")));
            assert.match(error.message, /403.*lacks the skill scopes/);
            assert.match(error.message, /The operation being requested is not allowed\./);
        });

        it("explains 404 as a wrong skill ID or vendor", async () => {
            const other = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000";
            const error = await failureOf(endpoint.create(endpointInputs("eu-west-1", { skillId: other })));
            assert.match(error.message, new RegExp(`no skill ${other.replace(/\./g, "\\.")} \\(HTTP 404\\).*alexaSkillId.*vendor`));
        });

        it("never quotes the Cognito client secret that a refusal of the account linking (400) echoes, at create or update", async () => {
            const secret = LINKING.accountLinkingRequest.clientSecret as string;
            for (const call of [() => linking.create(linkingInputs()), () => linking.update("id", linkingInputs() as never, linkingInputs({ clientSecret: secret }))]) {
                smapi.fault({ method: "PUT", path: /\/accountLinkingClient$/, status: 400, body: { message: `clientSecret ${secret} is not accepted`, violations: [{ code: "X", value: secret }] } });
                const error = await failureOf(call());
                noSecretIn(error.message);
                assert.match(error.message, /clientSecret \[secret\] is not accepted/);
            }
        });

        it("shows SMAPI's message and violations verbatim with the field when it refuses the account linking (400)", async () => {
            const error = await failureOf(linking.create(linkingInputs({ accountLinking: { ...shownPart(LINKING), authorizationUrl: "http://not-https.example.com/authorize" } })));
            assert.match(error.message, /SMAPI refused to update the account linking .*HTTP 400.*Request is not valid\./s);
            assert.match(error.message, /- authorizationUrl must be an https URL/);
        });
    });

    describe("check and diff (what `pulumi preview` runs)", () => {
        it("call nothing at Amazon", async () => {
            const inputs = endpointInputs("us-east-1");
            const { outs } = await endpoint.create(inputs);
            const before = smapi.requests.length;
            await endpoint.check(outs as SkillEndpointInputs, { ...inputs, endpointUri: ARN["us-east-1"] + "-v2" });
            await endpoint.diff("id", outs as SkillEndpointOutputs, { ...inputs, endpointUri: ARN["us-east-1"] + "-v2" });
            await linking.diff("id", { ...linkingInputs(), drift: [] }, linkingInputs());
            assert.equal(smapi.requests.length, before);
        });

        it("report no change for the same inputs, an update for a new function ARN, a replacement for another skill or region", async () => {
            const inputs = endpointInputs("us-east-1");
            const { outs } = await endpoint.create(inputs);
            assert.deepEqual(await endpoint.diff("id", outs!, inputs), { changes: false, replaces: [], deleteBeforeReplace: false });
            assert.deepEqual(await endpoint.diff("id", outs!, { ...inputs, endpointUri: ARN["us-east-1"] + "-v2" }), { changes: true, replaces: [], deleteBeforeReplace: false });
            assert.deepEqual((await endpoint.diff("id", outs!, { ...inputs, awsRegion: "eu-west-1" })).replaces, ["awsRegion"]);
            assert.deepEqual(await endpoint.diff("id", outs!, { ...inputs, skillId: "amzn1.ask.skill.00000000-0000-0000-0000-000000000000" }), { changes: true, replaces: ["skillId"], deleteBeforeReplace: false });
        });

        it("accept a function ARN not known yet (a preview of a new stack)", async () => {
            const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
            const result = await endpoint.check(endpointInputs("eu-west-1"), endpointInputs("eu-west-1", { endpointUri: unknown }));
            assert.deepEqual(result.failures, []);
        });

        it("refuses a function ARN of another region and empty credentials, naming the config key to set", async () => {
            const result = await endpoint.check(endpointInputs("eu-west-1"), endpointInputs("eu-west-1", { endpointUri: ARN["us-east-1"], credentials: { ...STAND_IN_CREDENTIALS, refreshToken: "" } }));
            const reasons = result.failures!.map((f) => `${f.property}: ${f.reason}`);
            assert.equal(reasons.length, 2);
            assert.match(reasons.join("\n"), /credentials: smapiRefreshToken is empty: set it with `npx pulumi config set --secret smapiRefreshToken/);
            assert.match(reasons.join("\n"), /endpointUri: the endpoint must be the ARN of a Lambda function in eu-west-1/);
        });
    });

    describe("check and diff, field by field", () => {
        const messaging = new SkillMessagingCredentialsProvider(TIMING);

        it("takes each of Alexa's three Smart Home regions with a function of that region, and refuses any other region", async () => {
            for (const region of Object.keys(ARN) as Region[]) {
                assert.deepEqual((await endpoint.check(endpointInputs(region), endpointInputs(region))).failures, [], region);
            }
            const result = await endpoint.check(endpointInputs("us-east-1"), endpointInputs("us-east-1", { awsRegion: "ap-south-1", endpointUri: "arn:aws:lambda:ap-south-1:123456789012:function:f" }));
            assert.deepEqual(result.failures, [
                { property: "awsRegion", reason: "ap-south-1 is not a region where Alexa calls Smart Home skill functions (us-east-1, eu-west-1, us-west-2)" },
            ]);
        });

        it("refuses an endpoint that is not text", async () => {
            const result = await endpoint.check(endpointInputs("us-east-1"), endpointInputs("us-east-1", { endpointUri: 42 as unknown as string }));
            assert.deepEqual(result.failures, [{ property: "endpointUri", reason: "the endpoint must be the ARN of a Lambda function in us-east-1 (got 42)" }]);
        });

        it("reads a manifest without this stack's entries as empty live values", async () => {
            const inputs = endpointInputs("us-east-1");
            const { outs } = await endpoint.create(inputs);
            delete smartHome().regions;
            delete smartHome().endpoint;
            const { props } = await endpoint.read(`${SKILL_ID}/NA`, outs);
            assert.deepEqual([props!.liveRegionUri, props!.liveDefaultUri], ["", ""]);
        });

        it("refuses an endpoint that only contains a function ARN of the region", async () => {
            const uri = `prefix:${ARN["us-east-1"]}`;
            const result = await endpoint.check(endpointInputs("us-east-1"), endpointInputs("us-east-1", { endpointUri: uri }));
            assert.deepEqual(result.failures, [{ property: "endpointUri", reason: `the endpoint must be the ARN of a Lambda function in us-east-1 (got ${uri})` }]);
        });

        it("endpoint: an update for each changed field alone, and for an entry changed in the console", async () => {
            const inputs = endpointInputs("us-east-1");
            const { outs } = await endpoint.create(inputs);
            const changes: Partial<SkillEndpointInputs>[] = [
                { isDefault: false }, { credentials: { ...STAND_IN_CREDENTIALS, refreshToken: "Atzr|another" } }, { smapiBase: "http://127.0.0.1:1" }, { lwaTokenUrl: "http://127.0.0.1:1/auth/o2/token" },
            ];
            for (const change of changes) {
                assert.deepEqual(await endpoint.diff("id", outs!, { ...inputs, ...change }), { changes: true, replaces: [], deleteBeforeReplace: false }, Object.keys(change)[0]);
            }
            const defaultChanged = { ...outs!, liveDefaultUri: "arn:aws:lambda:us-east-1:123456789012:function:console-placeholder" };
            assert.equal((await endpoint.diff("id", defaultChanged, inputs)).changes, true, "the default entry changed in the console");
        });

        it("account linking and messaging credentials: an update for each changed field alone, a replacement for another skill", async () => {
            const inputs = linkingInputs();
            const outs = (await linking.create(inputs)).outs!;
            assert.equal(await linking.diff("id", outs, inputs).then((d) => d.changes), false);
            const changes: Partial<SkillAccountLinkingInputs>[] = [
                { accountLinking: { ...inputs.accountLinking, scopes: ["openid", "email"] } }, { clientSecret: "another-secret-value" },
                { credentials: { ...STAND_IN_CREDENTIALS, clientSecret: "another" } }, { smapiBase: "http://127.0.0.1:1" }, { lwaTokenUrl: "http://127.0.0.1:1/t" },
            ];
            for (const change of changes) {
                assert.deepEqual(await linking.diff("id", outs, { ...inputs, ...change }), { changes: true, replaces: [], deleteBeforeReplace: false }, Object.keys(change)[0]);
            }
            const otherSkill = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000";
            assert.deepEqual(await linking.diff("id", outs, { ...inputs, skillId: otherSkill }), { changes: true, replaces: ["skillId"], deleteBeforeReplace: false });

            const connection = { skillId: SKILL_ID, credentials: { ...STAND_IN_CREDENTIALS }, ...smapi.endpoints };
            const held = { ...connection, alexaClientId: "id", alexaClientSecret: "secret" };
            assert.deepEqual(await messaging.diff("id", held, connection), { changes: false, replaces: [], deleteBeforeReplace: false });
            for (const change of [{ credentials: { ...STAND_IN_CREDENTIALS, refreshToken: "Atzr|x" } }, { smapiBase: "http://127.0.0.1:1" }, { lwaTokenUrl: "http://127.0.0.1:1/t" }]) {
                assert.deepEqual(await messaging.diff("id", held, { ...connection, ...change }), { changes: true, replaces: [], deleteBeforeReplace: false }, Object.keys(change)[0]);
            }
            assert.deepEqual(await messaging.diff("id", held, { ...connection, skillId: otherSkill }), { changes: true, replaces: ["skillId"], deleteBeforeReplace: false });
        });

        it("account linking and messaging credentials check the SMAPI credentials, naming the config key", async () => {
            const empty = { ...STAND_IN_CREDENTIALS, clientSecret: "" };
            const linkingCheck = await linking.check(linkingInputs(), linkingInputs({ credentials: empty }));
            const connection = { skillId: SKILL_ID, credentials: empty, ...smapi.endpoints };
            const messagingCheck = await messaging.check(connection, connection);
            for (const result of [linkingCheck, messagingCheck]) {
                assert.deepEqual(result.failures!.map((f) => f.property), ["credentials"]);
                assert.match(result.failures![0].reason, /smapiClientSecret is empty/);
            }
            assert.deepEqual(linkingCheck.inputs, linkingInputs({ credentials: empty }));
            assert.deepEqual(messagingCheck.inputs, connection);
        });

        it("messaging credentials: an update reads them again", async () => {
            const connection = { skillId: SKILL_ID, credentials: { ...STAND_IN_CREDENTIALS }, ...smapi.endpoints };
            const held = { ...connection, alexaClientId: "old-id", alexaClientSecret: "old-secret" };
            assert.deepEqual(await messaging.update("id", held, connection),
                { outs: { ...connection, alexaClientId: "amzn1.application-oa2-client.events", alexaClientSecret: "events-client-secret-value" } });
        });

        it("account linking: create and update are named after the skill and report no drift", async () => {
            const inputs = linkingInputs();
            assert.deepEqual(await linking.create(inputs), { id: `${SKILL_ID}/accountLinking`, outs: { ...inputs, drift: [] } });
            const outs = (await linking.create(inputs)).outs!;
            assert.deepEqual(await linking.update("id", { ...outs, drift: ["scopes"] }, inputs), { outs: { ...inputs, drift: [] } });
        });

        it("refuses to import (read without a state) an empty state too", async () => {
            for (const state of [undefined, {}]) {
                await assert.rejects(endpoint.read(`${SKILL_ID}/NA`, state as SkillEndpointOutputs),
                    { message: `${SKILL_ID}/NA cannot be imported: it is created by \`npx pulumi up\` from the stack's configuration.` });
            }
        });
    });

    describe("update, read and delete", () => {
        it("update points the region at the new function ARN", async () => {
            const first = await endpoint.create(endpointInputs("eu-west-1"));
            const moved = endpointInputs("eu-west-1", { endpointUri: ARN["eu-west-1"] + "-v2" });
            const { outs } = await endpoint.update(first.id, first.outs!, moved);
            assert.equal(smartHome().regions.EU.endpoint.uri, ARN["eu-west-1"] + "-v2");
            assert.equal(outs!.liveRegionUri, ARN["eu-west-1"] + "-v2");
        });

        it("read reports an endpoint changed in the console, and the next diff plans to set it again", async () => {
            const created = await endpoint.create(endpointInputs("us-east-1"));
            smartHome().regions.NA.endpoint.uri = "arn:aws:lambda:us-east-1:123456789012:function:pasted-by-hand";
            const { props } = await endpoint.read(created.id, created.outs!);
            assert.equal(props!.liveRegionUri, "arn:aws:lambda:us-east-1:123456789012:function:pasted-by-hand");
            assert.equal(props!.liveDefaultUri, ARN["us-east-1"]);
            assert.equal(props!.endpointUri, ARN["us-east-1"], "the stack's own value stays");
            assert.equal((await endpoint.diff(created.id, props!, endpointInputs("us-east-1"))).changes, true);
            const unchanged = await endpoint.read(created.id, created.outs!);
            smartHome().regions.NA.endpoint.uri = ARN["us-east-1"];
            assert.equal((await endpoint.diff(created.id, (await endpoint.read(created.id, unchanged.props!)).props!, endpointInputs("us-east-1"))).changes, false);
        });

        it("delete removes only this stack's region entry and leaves the other regions, the default and the rest", async () => {
            await endpoint.create(endpointInputs("us-east-1"));
            const eu = await endpoint.create(endpointInputs("eu-west-1"));
            await endpoint.delete(eu.id, eu.outs!);
            assert.deepEqual(smartHome(), { protocolVersion: "3", endpoint: { uri: ARN["us-east-1"] }, regions: { NA: { endpoint: { uri: ARN["us-east-1"] } } } });
            assert.deepEqual(smapi.manifestOf(SKILL_ID).manifest.publishingInformation, consoleManifest().manifest.publishingInformation);
        });

        it("delete leaves an entry that was pointed at another function since, and writes nothing", async () => {
            const eu = await endpoint.create(endpointInputs("eu-west-1"));
            smartHome().regions.EU.endpoint.uri = "arn:aws:lambda:eu-west-1:123456789012:function:someone-elses";
            const writes = smapi.writes().length;
            await endpoint.delete(eu.id, eu.outs!);
            assert.equal(smartHome().regions.EU.endpoint.uri, "arn:aws:lambda:eu-west-1:123456789012:function:someone-elses");
            assert.equal(smapi.writes().length, writes);
        });

        it("account linking: create applies the request body, read reports a field changed in the console, delete leaves it", async () => {
            const created = await linking.create(linkingInputs());
            assert.deepEqual(smapi.skills.get(SKILL_ID)!.accountLinking, LINKING.accountLinkingRequest);
            const clean = await linking.read(created.id, created.outs!);
            assert.deepEqual(clean.props!.drift, []);
            assert.deepEqual(clean.props!.accountLinking, shownPart(LINKING), "an unchanged configuration reads back equal");
            assert.equal(clean.props!.clientSecret, LINKING.accountLinkingRequest.clientSecret);
            assert.equal((await linking.diff(created.id, clean.props!, linkingInputs())).changes, false);

            smapi.skills.get(SKILL_ID)!.accountLinking!.scopes = ["openid", "email"];
            const drifted = await linking.read(created.id, created.outs!);
            assert.deepEqual(drifted.props!.drift, ["scopes"]);
            assert.deepEqual(drifted.props!.accountLinking.scopes, ["openid", "email"], "a refresh shows the console's value");
            assert.equal((await linking.diff(created.id, drifted.props!, linkingInputs())).changes, true);
            await linking.update(created.id, drifted.props!, linkingInputs());
            assert.deepEqual(smapi.skills.get(SKILL_ID)!.accountLinking!.scopes, ["openid"]);

            const writes = smapi.writes().length;
            await linking.delete();
            assert.equal(smapi.writes().length, writes);
            assert.ok(smapi.skills.get(SKILL_ID)!.accountLinking);
        });
    });

    for (const order of [["eu-west-1", "us-west-2"], ["us-west-2", "eu-west-1"]] as Region[][]) {
        it(`three region stacks, the primary then ${order.join(" then ")}, leave all three endpoints and one account linking`, async () => {
            smapi.invocable = new Set(Object.values(ARN));
            smapi.manifestOf(SKILL_ID).manifest.apis.smartHome.endpoint.uri = ARN["us-east-1"];
            // The primary: its endpoint, then account linking (a manifest update may reset it).
            await endpoint.create(endpointInputs("us-east-1"));
            await linking.create(linkingInputs());
            for (const region of order) {
                await endpoint.create(endpointInputs(region));
            }
            assert.deepEqual(smartHome(), {
                protocolVersion: "3",
                endpoint: { uri: ARN["us-east-1"] },
                regions: { NA: { endpoint: { uri: ARN["us-east-1"] } }, [order[0] === "eu-west-1" ? "EU" : "FE"]: { endpoint: { uri: ARN[order[0]] } }, [order[1] === "eu-west-1" ? "EU" : "FE"]: { endpoint: { uri: ARN[order[1]] } } },
            });
            assert.deepEqual(Object.keys(smartHome().regions).sort(), ["EU", "FE", "NA"]);
            assert.deepEqual(smapi.skills.get(SKILL_ID)!.accountLinking, LINKING.accountLinkingRequest);
            assert.equal(smapi.requests.filter((r) => r.method === "PUT" && r.path.endsWith("/accountLinkingClient")).length, 1);
        });
    }

    it("two secondary stacks deploying at the same time both end with their endpoint (409 while one update is applied, 412 after)", async () => {
        await endpoint.create(endpointInputs("us-east-1"));
        await Promise.all([endpoint.create(endpointInputs("eu-west-1")), endpoint.create(endpointInputs("us-west-2"))]);
        assert.deepEqual(Object.keys(smartHome().regions).sort(), ["EU", "FE", "NA"]);
        assert.equal(smartHome().regions.FE.endpoint.uri, ARN["us-west-2"]);
        assert.equal(smartHome().regions.EU.endpoint.uri, ARN["eu-west-1"]);
        assert.ok(smapi.writes().length > 3, "no write had to be redone: the test did not overlap the two stacks");
    });

    it("reads the skill's messaging credentials (GET /v1/skills/{skillId}/credentials)", async () => {
        const session = smapiSession(SKILL_ID, STAND_IN_CREDENTIALS, smapi.endpoints, { ...(TIMING as SmapiTiming) });
        assert.deepEqual(await readMessagingCredentials(session), { clientId: "amzn1.application-oa2-client.events", clientSecret: "events-client-secret-value" });
        smapi.skills.get(SKILL_ID)!.messagingCredentials = undefined;
        const error = await failureOf(readMessagingCredentials(session));
        assert.match(error.message, /no messaging credentials .*HTTP 404.*"Send Alexa Events"/);
    });

    it("the messaging-credentials resource reads them on create and again on refresh, and writes nothing", async () => {
        const provider = new SkillMessagingCredentialsProvider(TIMING);
        const inputs = { skillId: SKILL_ID, credentials: { ...STAND_IN_CREDENTIALS }, ...smapi.endpoints };
        const { id, outs } = await provider.create(inputs);
        assert.equal(id, `${SKILL_ID}/credentials`);
        assert.equal(outs!.alexaClientId, "amzn1.application-oa2-client.events");
        assert.equal(outs!.alexaClientSecret, "events-client-secret-value");
        smapi.skills.get(SKILL_ID)!.messagingCredentials = { clientId: "amzn1.application-oa2-client.events", clientSecret: "rotated-in-the-console" };
        assert.equal((await provider.read(id, outs!)).props!.alexaClientSecret, "rotated-in-the-console");
        assert.equal((await provider.diff(id, outs!, inputs)).changes, false);
        await provider.delete();
        assert.equal(smapi.writes().length, 0);
    });
});
