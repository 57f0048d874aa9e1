import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { invokeArchive, lambdaRuntimeModules, MaterialisedArchive, materialiseArchive } from "../local/lambdaArchive";
import { POOL_KEY, PRIMARY_CONFIG, runProgram } from "../local/pulumiProgram";
import { directives, errorType, property } from "../local/directives";
import { startDynalite, LocalDynamo, LOCAL_CREDENTIALS } from "../local/dynalite";
import { accessTokenClaims, signToken } from "../local/tokens";
import { lampEndpointId } from "../handler/lamp";
import { alexaDataPresent, assertValidAlexaMessage } from "./support/alexaSchema";

const BUILTINS = new Set(require("module").builtinModules as string[]);

describe("the deployed Lambda archive", function () {
    this.timeout(60000);
    let archive: MaterialisedArchive;
    let runtime: string;
    let dynamo: LocalDynamo;
    let deployedEnvironment: Record<string, string>;

    before(async () => {
        const run = await runProgram({ ...PRIMARY_CONFIG });
        const fn = run.one("aws:lambda/function:Function");
        archive = await materialiseArchive(fn.inputs.code);
        deployedEnvironment = fn.inputs.environment.variables;
        runtime = lambdaRuntimeModules();
        dynamo = await startDynalite();
        await dynamo.createLampTable("archive-lamps");
    });
    after(async () => {
        await dynamo.stop();
        fs.rmSync(archive.dir, { recursive: true, force: true });
        fs.rmSync(runtime, { recursive: true, force: true });
    });

    it("holds __index.js and aws-jwt-verify's CommonJS build only: no Pulumi, no AWS SDK, no dev dependencies", () => {
        assert.deepEqual(archive.entries, ["__index.js", "node_modules/aws-jwt-verify/dist/cjs", "node_modules/aws-jwt-verify/package.json"]);
    });

    it("requires only Node built-ins and the packages it holds (not even the runtime's AWS SDK)", () => {
        const text = fs.readFileSync(path.join(archive.dir, "__index.js"), "utf8");
        const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
        // Of aws-jwt-verify, the Cognito verifier's entry point and not the root, which loads the ALB verifier too.
        assert.ok(required.includes("aws-jwt-verify/cognito-verifier"), required.join(", "));
        assert.ok(!required.includes("aws-jwt-verify"), "__index.js loads the whole of aws-jwt-verify");
        // A captured `exports.NAME` is resolved by whoever builds the archive (in some hosts to the
        // wrong object): the handler's modules refer to their own constants locally instead.
        assert.deepEqual([...text.matchAll(/\bexports\.(\w+)/g)].map((m) => m[1]), ["handler"]);
        for (const name of required) {
            const ok = BUILTINS.has(name) || name.startsWith("aws-jwt-verify");
            assert.ok(ok, `__index.js requires ${name}, which Lambda would not find`);
        }
    });

    it("is built from handler modules without a module-level let, var, Map, Set or WeakMap", () => {
        // Pulumi serializes a captured module variable with its value at deploy time: state kept at
        // module level would travel into the archive from whatever ran in the deploying process.
        const dir = path.resolve(__dirname, "../handler");
        for (const file of fs.readdirSync(dir)) {
            const text = fs.readFileSync(path.join(dir, file), "utf8");
            assert.doesNotMatch(text, /^(let|var) /m, `${file} has a module-level let/var`);
            assert.doesNotMatch(text, /^(export )?const \w+ = new (Map|Set|WeakMap)\b/m, `${file} has a module-level collection`);
        }
    });

    it("answers Alexa's directives from a fresh process, as Lambda would run it", async () => {
        const sub = "archive-user";
        // Signed by the pool's key, whose JWKS the stack handed to the function: no download.
        const token = signToken(POOL_KEY, accessTokenClaims(sub));
        const endpointId = lampEndpointId(sub);
        const { responses, stdout } = await invokeArchive(archive, runtime, {
            ...deployedEnvironment,
            SKILL_LAMP_TABLE: "archive-lamps",
            AWS_REGION: "us-east-1",
            AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        }, [
            directives.discover(token),
            directives.setBrightness(token, endpointId, 42),
            directives.reportState(token, endpointId),
            directives.turnOn("forged." + token.split(".")[1] + ".sig", endpointId),
        ]);
        const [discover, set, report, forged] = responses;
        assert.equal(discover.event.payload.endpoints[0].endpointId, endpointId);
        assert.equal(property(set, "Alexa.BrightnessController", "brightness"), 42, JSON.stringify(set.event.payload) + stdout);
        assert.equal(property(report, "Alexa.BrightnessController", "brightness"), 42);
        assert.equal(errorType(forged), "INVALID_AUTHORIZATION_CREDENTIAL");
        if (alexaDataPresent) {
            responses.forEach(assertValidAlexaMessage);
        }
        const lines = stdout.trim().split("\n").map((line) => JSON.parse(line));
        assert.deepEqual(lines.map((l) => l.outcome), ["Discover.Response", "Response", "StateReport", "INVALID_AUTHORIZATION_CREDENTIAL"]);
        assert.ok(!stdout.includes(token.split(".")[2]), "the log holds the token");
    });
});
