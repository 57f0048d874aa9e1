import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, parseSmapiConfig } from "../infra/config";
import { ALEXA_CLIENT_ID, ALEXA_CLIENT_SECRET, POOL_JWKS, PRIMARY_CONFIG, PRIMARY_OUTPUTS, ProgramFailed, ProgramRun, RecordedResource, SKILL_EVENTS_CLIENT_ID, SKILL_EVENTS_CLIENT_SECRET, SKILL_ID, runProgram } from "../local/pulumiProgram";
import { SmapiStandIn, STAND_IN_CREDENTIALS, startSmapiStandIn } from "./support/smapiStandIn";

const ENDPOINT = "pulumi-nodejs:dynamic:SkillManifestEndpoint";
const LINKING = "pulumi-nodejs:dynamic:SkillAccountLinking";
const PERMISSION = "aws:lambda/permission:Permission";
const SMAPI_KEYS = ["smapiClientId", "smapiClientSecret", "smapiRefreshToken"];
const SMAPI_CONFIG = {
    smapiClientId: STAND_IN_CREDENTIALS.clientId,
    smapiClientSecret: STAND_IN_CREDENTIALS.clientSecret,
    smapiRefreshToken: STAND_IN_CREDENTIALS.refreshToken,
};
const SECONDARY_CONFIG = { "aws:region": "eu-west-1", alexaSkillId: SKILL_ID, primaryUserPoolId: PRIMARY_OUTPUTS.userPoolId, primaryClientId: PRIMARY_OUTPUTS.clientId };

/** The value a secret input holds in the mock's record. */
function unwrap(value: any): any {
    return value?.["4dabf18193072939515e22adb298388d"] ? value.value : value;
}

describe("the skill configured through SMAPI, as the program wires it", () => {
    describe("without the three smapi values", () => {
        it("creates no SMAPI resource, as before, whether the keys are absent or hold their empty default", async () => {
            for (const config of [{ ...PRIMARY_CONFIG }, { ...PRIMARY_CONFIG, smapiClientId: "", smapiClientSecret: "", smapiRefreshToken: "" }]) {
                const run = await runProgram(config);
                assert.deepEqual(run.resources.filter((r) => r.type.startsWith("pulumi-nodejs:") && r.type !== POOL_JWKS), []);
                assert.ok(run.one(PERMISSION));
            }
        });
    });

    describe("on the primary stack", () => {
        let run: ProgramRun;
        let endpoint: RecordedResource;
        let linking: RecordedResource;
        const fetched: string[] = [];
        before(async () => {
            run = await runProgram({ ...PRIMARY_CONFIG, ...SMAPI_CONFIG }, "dev", { secretKeys: SMAPI_KEYS, fetched });
            endpoint = run.one(ENDPOINT);
            linking = run.one(LINKING);
        });

        it("sets the NA and default endpoints to the skill function's ARN", () => {
            assert.equal(endpoint.inputs.skillId, SKILL_ID);
            assert.equal(endpoint.inputs.awsRegion, "us-east-1");
            assert.equal(endpoint.inputs.endpointUri, run.outputs.skillEndpointArn);
            assert.equal(endpoint.inputs.isDefault, true);
            assert.equal(endpoint.inputs.smapiBase, "https://api.amazonalexa.com");
            assert.equal(endpoint.inputs.lwaTokenUrl, "https://api.amazon.com/auth/o2/token");
        });

        it("calls neither SMAPI nor LWA while the program runs (only the providers do, in up, refresh and destroy)", () => {
            assert.deepEqual(fetched, ["https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123/.well-known/jwks.json"]);
        });

        it("writes the manifest after the Lambda permission exists, and account linking after the manifest", () => {
            const permission = run.one(PERMISSION);
            assert.ok(endpoint.dependencies.includes(permission.urn), "the endpoint does not wait for the permission");
            assert.ok(linking.dependencies.includes(endpoint.urn), "account linking does not wait for the manifest");
            assert.match(endpoint.parent, /smartlamp:alexa:SkillConfiguration::alexa-skill$/);
            assert.equal(linking.parent, endpoint.parent);
        });

        it("applies the same body as the accountLinkingRequest output, its fields in plain (for a preview's diff) but the client secret", () => {
            const body = (run.outputs.accountLinkingRequest as any).accountLinkingRequest;
            assert.deepEqual({ ...linking.inputs.accountLinking, clientSecret: unwrap(linking.inputs.clientSecret) }, body);
            assert.equal(linking.inputs.accountLinking.clientSecret, undefined);
            assert.equal(linking.inputs.skillId, SKILL_ID);
        });

        it("hands the SMAPI credentials and the linking body over as secrets, and keeps them secret in the state", () => {
            assert.deepEqual(endpoint.secretInputs, ["credentials"]);
            assert.deepEqual([...linking.secretInputs].sort(), ["clientSecret", "credentials"]);
            assert.deepEqual(unwrap(endpoint.inputs.credentials), STAND_IN_CREDENTIALS);
            assert.deepEqual(endpoint.additionalSecretOutputs, ["credentials"]);
            assert.deepEqual([...linking.additionalSecretOutputs].sort(), ["clientSecret", "credentials"]);
            for (const [name, value] of Object.entries(run.outputs)) {
                const text = JSON.stringify(value);
                assert.ok(!text.includes(STAND_IN_CREDENTIALS.refreshToken) && !text.includes(STAND_IN_CREDENTIALS.clientSecret), `stack output ${name} holds an SMAPI secret`);
            }
        });

        it("serializes providers that carry no deploy-time credential and require nothing", () => {
            for (const resource of [endpoint, linking]) {
                const text = String(resource.inputs.__provider);
                for (const secret of [STAND_IN_CREDENTIALS.clientId, STAND_IN_CREDENTIALS.clientSecret, STAND_IN_CREDENTIALS.refreshToken, "mock-client-secret-0123456789abcdef"]) {
                    assert.ok(!text.includes(secret), `${resource.type}'s serialized provider holds a credential`);
                }
                assert.doesNotMatch(text, /Atzr\||Atza\|/);
                assert.deepEqual([...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]), [], "the provider requires a module");
                assert.deepEqual([...text.matchAll(/\bexports\.(\w+)/g)].map((m) => m[1]), ["handler"]);
            }
        });
    });

    it("builds its providers from modules that keep no module-level mutable state", () => {
        // Pulumi serializes what the providers reach with its value at deploy time, as for the skill function.
        for (const file of ["skillProviders.ts", "smapiClient.ts", "skillManifest.ts", "skillLinking.ts", "smapiErrors.ts"]) {
            const text = fs.readFileSync(path.resolve(__dirname, "../infra", file), "utf8");
            assert.doesNotMatch(text, /^(export )?(let|var) /m, `${file} has a module-level let/var`);
            assert.doesNotMatch(text, /^(export )?const \w+ = new (Map|Set|WeakMap)\b/m, `${file} has a module-level collection`);
            assert.doesNotMatch(text, /^import (?!type )[^;]*"@pulumi\/pulumi"/m, `${file} loads the Pulumi SDK`);
        }
    });

    describe("on a secondary stack", () => {
        it("sets only its own region's endpoint and leaves account linking and the default endpoint to the primary", async () => {
            const run = await runProgram({ ...SECONDARY_CONFIG, ...SMAPI_CONFIG }, "dev-eu", { secretKeys: SMAPI_KEYS });
            const endpoint = run.one(ENDPOINT);
            assert.equal(endpoint.inputs.awsRegion, "eu-west-1");
            assert.equal(endpoint.inputs.isDefault, false);
            assert.match(endpoint.inputs.endpointUri, /^arn:aws:lambda:eu-west-1:/);
            assert.deepEqual(run.all(LINKING), []);
            assert.ok(endpoint.dependencies.includes(run.one(PERMISSION).urn));
        });
    });

    describe("the serialized provider, run as Pulumi's dynamic provider host runs it", () => {
        let smapi: SmapiStandIn;
        let dir: string;
        before(async function () {
            // Under `npm run mutation` the serialized provider holds Stryker's instrumented code,
            // which needs the namespace Stryker sets up in its own test processes: a fresh process
            // has none (the archive tests are left out of mutation runs for the same reason).
            if ("__stryker__" in globalThis) this.skip();
            // No IN_PROGRESS poll: the serialized provider waits Amazon's real poll interval.
            smapi = await startSmapiStandIn({ pollsBeforeDone: 0 });
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "smapi-provider-"));
        });
        after(async () => {
            await smapi?.stop();
            if (dir) fs.rmSync(dir, { recursive: true, force: true });
        });

        /** Loads the text in a fresh Node process (no ts-node, no project modules) and calls one method. */
        function callInFreshProcess(providerText: string, method: string, args: unknown[]): Promise<string> {
            const file = path.join(dir, `${method}-${Date.now()}.js`);
            fs.writeFileSync(file, providerText);
            const script = "const p = require(process.argv[1]).handler();" +
                "p[process.argv[2]](...JSON.parse(process.argv[3])).then((r) => process.stdout.write(JSON.stringify(r ?? null)), (e) => { process.stderr.write(e.message); process.exit(1); });";
            return new Promise((resolve, reject) => {
                execFile(process.execPath, ["-e", script, file, method, JSON.stringify(args)], { cwd: dir, env: { PATH: process.env.PATH } }, (err, stdout, stderr) =>
                    err ? reject(new Error(stderr || err.message)) : resolve(stdout));
            });
        }

        it("leaves a skill with nothing set linked and pointing at the three stacks' functions after their up (primary, then Europe, then Far East)", async () => {
            const primary = await runProgram({ ...PRIMARY_CONFIG, ...SMAPI_CONFIG }, "dev", { secretKeys: SMAPI_KEYS });
            const europe = await runProgram({ ...SECONDARY_CONFIG, ...SMAPI_CONFIG }, "dev-eu", { secretKeys: SMAPI_KEYS });
            const farEast = await runProgram({ ...SECONDARY_CONFIG, "aws:region": "us-west-2", ...SMAPI_CONFIG }, "dev-fe", { secretKeys: SMAPI_KEYS });
            smapi.addSkill(SKILL_ID, { manifest: { apis: { smartHome: { protocolVersion: "3" } } } });
            // Alexa accepts an endpoint only when its function lets this skill invoke it: the stacks' permissions.
            smapi.invocable = new Set([primary, europe, farEast]
                .filter((run) => run.one(PERMISSION).inputs.eventSourceToken === SKILL_ID && run.one(PERMISSION).inputs.principal === "alexa-connectedhome.amazon.com")
                .map((run) => run.outputs.skillEndpointArn as string));
            const inputsOf = (resource: RecordedResource) => {
                const inputs: Record<string, unknown> = {};
                for (const [key, value] of Object.entries(resource.inputs)) {
                    if (key !== "__provider") {
                        inputs[key] = unwrap(value);
                    }
                }
                return { ...inputs, ...smapi.endpoints };
            };
            for (const resource of [primary.one(ENDPOINT), primary.one(LINKING), europe.one(ENDPOINT), farEast.one(ENDPOINT)]) {
                const outcome = JSON.parse(await callInFreshProcess(resource.inputs.__provider, "create", [inputsOf(resource)]));
                assert.ok(typeof outcome.id === "string" && outcome.id.startsWith(SKILL_ID), outcome.id);
            }
            const smartHome = smapi.manifestOf(SKILL_ID).manifest.apis.smartHome;
            assert.equal(smartHome.endpoint.uri, primary.outputs.skillEndpointArn);
            assert.equal(smartHome.regions.NA.endpoint.uri, primary.outputs.skillEndpointArn);
            assert.equal(smartHome.regions.EU.endpoint.uri, europe.outputs.skillEndpointArn);
            assert.equal(smartHome.regions.FE.endpoint.uri, farEast.outputs.skillEndpointArn);
            assert.deepEqual(Object.keys(smartHome.regions).sort(), ["EU", "FE", "NA"]);
            assert.deepEqual(smapi.skills.get(SKILL_ID)!.accountLinking, (primary.outputs.accountLinkingRequest as any).accountLinkingRequest);
        });
    });

    describe("the three config values", () => {
        const secret = () => true;

        it("are declared in Pulumi.yaml as the engine accepts optional keys: a default of \"\", and not `secret: true`", () => {
            // The engine requires every declared key without a default, and refuses a plain-text
            // default for a key declared secret (pulumi/pulumi sdk/go/common/workspace/config.go).
            const text = fs.readFileSync(path.resolve(__dirname, "../Pulumi.yaml"), "utf8");
            for (const key of SMAPI_KEYS) {
                const block = new RegExp(`^  ${key}:\\n((?:    .*\\n?)+)`, "m").exec(text)?.[1];
                assert.ok(block, `${key} is not declared`);
                assert.match(block, /^    type: string$/m, key);
                assert.match(block, /^    default: ""$/m, key);
                assert.doesNotMatch(block, /secret:/, key);
            }
        });

        it("are all unset, or all set", () => {
            assert.equal(parseSmapiConfig({ smapiClientId: "", smapiClientSecret: "", smapiRefreshToken: "" }, secret), undefined);
            assert.equal(parseSmapiConfig({}, secret), undefined);
            assert.deepEqual(parseSmapiConfig({ ...SMAPI_CONFIG }, secret), STAND_IN_CREDENTIALS);
            assert.throws(() => parseSmapiConfig({ smapiClientId: STAND_IN_CREDENTIALS.clientId, smapiClientSecret: "", smapiRefreshToken: "" }, secret), (err: ConfigError) => {
                assert.equal(err.problems.length, 2);
                assert.match(err.problems[0], /^smapiClientSecret is not set, but smapiClientId is: set all three.*Fix: npx pulumi config set --secret smapiClientSecret/);
                assert.match(err.problems[1], /^smapiRefreshToken is not set/);
                return true;
            });
        });

        it("must be stored encrypted (pulumi config set --secret)", () => {
            assert.throws(() => parseSmapiConfig({ ...SMAPI_CONFIG }, (key) => key !== "smapiRefreshToken"), (err: ConfigError) => {
                assert.deepEqual(err.problems.length, 1);
                assert.match(err.problems[0], /^smapiRefreshToken is stored in plain text.*Fix: npx pulumi config set --secret smapiRefreshToken/);
                return true;
            });
        });

        it("refuse a value of the wrong kind without repeating it", () => {
            const pasted = "Atza|an-access-token-not-the-refresh-token";
            assert.throws(() => parseSmapiConfig({ ...SMAPI_CONFIG, smapiRefreshToken: pasted }, secret), (err: ConfigError) => {
                assert.match(err.message, /smapiRefreshToken does not look like the refresh_token that `ask util generate-lwa-tokens` prints \(it begins with Atzr\|\)/);
                assert.ok(!err.message.includes(pasted));
                return true;
            });
        });

        it("stop the program before anything is registered when set in plain text", async () => {
            await assert.rejects(runProgram({ ...PRIMARY_CONFIG, ...SMAPI_CONFIG }, "dev", { secretKeys: ["smapiClientId", "smapiClientSecret"] }), (err: ProgramFailed) => {
                assert.match(String(err.cause), /smapiRefreshToken is stored in plain text/);
                assert.ok(!String(err.cause).includes(STAND_IN_CREDENTIALS.refreshToken));
                assert.deepEqual(err.resources, []);
                return true;
            });
        });
    });
});

describe("Alexa events with the skill's credentials read through SMAPI (nothing pasted)", () => {
    const CREDENTIALS = "pulumi-nodejs:dynamic:SkillMessagingCredentials";

    it("reads the skill's Alexa Client Id and Secret and hands them to the functions and the parameter as secrets", async () => {
        const run = await runProgram({ ...PRIMARY_CONFIG, ...SMAPI_CONFIG, alexaEvents: "true", alarmEmail: "ops@example.com" }, "dev", { secretKeys: SMAPI_KEYS });
        const credentials = run.one(CREDENTIALS);
        assert.equal(credentials.inputs.skillId, SKILL_ID);
        assert.match(credentials.parent, /smartlamp:alexa:SkillEventCredentials/);
        // Kept encrypted in state: the LWA credentials the provider signs in with, and what it read.
        assert.deepEqual([...credentials.additionalSecretOutputs].sort(), ["alexaClientId", "alexaClientSecret", "credentials"]);
        const parameter = run.one("aws:ssm/parameter:Parameter");
        assert.equal(unwrap(parameter.inputs.value), SKILL_EVENTS_CLIENT_SECRET);
        assert.ok(parameter.secretInputs.includes("value"), "the secret reaches its parameter as a secret");
        const skill = run.all("aws:lambda/function:Function").find((f) => f.name === "smartlamp-function")!;
        assert.equal(unwrap(skill.inputs.environment).variables.SKILL_ALEXA_CLIENT_ID, SKILL_EVENTS_CLIENT_ID);
        assert.ok(!JSON.stringify(run.outputs).includes(SKILL_EVENTS_CLIENT_SECRET));
    });

    it("reads nothing through SMAPI when the Alexa Client Id and Secret are in the config", async () => {
        const run = await runProgram({ ...PRIMARY_CONFIG, ...SMAPI_CONFIG, alexaClientId: ALEXA_CLIENT_ID, alexaClientSecret: ALEXA_CLIENT_SECRET, alarmEmail: "ops@example.com" }, "dev", { secretKeys: [...SMAPI_KEYS, "alexaClientSecret"] });
        assert.deepEqual(run.all(CREDENTIALS), []);
        assert.equal(unwrap(run.one("aws:ssm/parameter:Parameter").inputs.value), ALEXA_CLIENT_SECRET);
    });

    it("refuses alexaEvents without the smapi values or the two Alexa values, saying what to set", async () => {
        const failed = await runProgram({ ...PRIMARY_CONFIG, alexaEvents: "true" }).then(() => undefined, (err: unknown) => err);
        assert.ok(failed instanceof ProgramFailed);
        assert.match(String(failed.cause), /alexaEvents is "true": the skill's Alexa Client Id and Secret are needed.*smapi\* values.*alexaClientId and alexaClientSecret/);
    });
});
