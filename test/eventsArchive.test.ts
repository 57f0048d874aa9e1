import { strict as assert } from "assert";
import * as fs from "fs";
import { lampEndpointId } from "../handler/lamp";
import { createGrantStore } from "../handler/grantStore";
import { directives } from "./support/directives";
import { LocalDynamo, LOCAL_CREDENTIALS, startDynalite } from "./support/dynalite";
import { invokeArchive, lambdaRuntimeModules, MaterialisedArchive, materialiseArchive } from "./support/lambdaArchive";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, LwaEndpoint, startLwaEndpoint } from "./support/lwaEndpoint";
import { POOL_KEY, PRIMARY_CONFIG, ProgramRun, runProgram } from "./support/pulumiProgram";
import { SsmEndpoint, startSsmEndpoint } from "./support/ssmEndpoint";
import { accessTokenClaims, signToken } from "./support/tokens";

const FUNCTION = "aws:lambda/function:Function";

describe("the deployed Lambda archives with Alexa events on", function () {
    this.timeout(60000);
    let run: ProgramRun;
    let runtime: string;
    let dynamo: LocalDynamo;
    let lwa: LwaEndpoint;
    let ssm: SsmEndpoint;
    const archives: MaterialisedArchive[] = [];

    /** The function `name` as the stack would upload it, and its deployed environment. */
    async function deployed(name: string) {
        const fn = run.all(FUNCTION).find((f) => f.name === name)!;
        const archive = await materialiseArchive(fn.inputs.code);
        archives.push(archive);
        return { archive, environment: fn.inputs.environment.variables as Record<string, string> };
    }

    /** What Lambda and the tests add to the deployed environment: credentials and local endpoints. */
    function localEnvironment(deployedEnvironment: Record<string, string>): Record<string, string> {
        return {
            ...deployedEnvironment,
            AWS_REGION: "us-east-1",
            AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
            AWS_ENDPOINT_URL_SSM: ssm.endpoint,
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
            SKILL_LWA_TOKEN_URL: lwa.tokenUrl,
        };
    }

    before(async () => {
        run = await runProgram({ ...PRIMARY_CONFIG, alexaClientId: LWA_CLIENT_ID, alexaClientSecret: LWA_CLIENT_SECRET }, "dev", { secretKeys: ["alexaClientSecret"] });
        runtime = lambdaRuntimeModules();
        dynamo = await startDynalite();
        const env = run.one(FUNCTION).inputs.environment.variables;
        await dynamo.createLampTable(env.SKILL_LAMP_TABLE);
        await dynamo.createLampTable(env.SKILL_GRANTS_TABLE);
        lwa = await startLwaEndpoint();
        ssm = await startSsmEndpoint({ [env.SKILL_ALEXA_SECRET_PARAMETER]: LWA_CLIENT_SECRET });
    });
    after(async () => {
        await Promise.all([dynamo.stop(), lwa.stop(), ssm.stop()]);
        for (const archive of archives) {
            fs.rmSync(archive.dir, { recursive: true, force: true });
        }
        fs.rmSync(runtime, { recursive: true, force: true });
    });

    it("skill: stores the grant of an AcceptGrant from a fresh process, reading the secret from Parameter Store", async () => {
        const { archive, environment } = await deployed("smartlamp-function");
        const sub = "archive-grant-user";
        const token = signToken(POOL_KEY, accessTokenClaims(sub));
        const code = lwa.issueCode();
        const { responses, stdout } = await invokeArchive(archive, runtime, localEnvironment(environment), [
            directives.acceptGrant(token, code),
            directives.discover(token),
        ]);
        assert.equal(responses[0].event.header.name, "AcceptGrant.Response", stdout);
        assert.equal(responses[1].event.payload.endpoints[0].endpointId, lampEndpointId(sub));
        assert.equal(responses[1].event.payload.endpoints[0].capabilities[1].properties.proactivelyReported, true);
        const grant = await createGrantStore({ tableName: environment.SKILL_GRANTS_TABLE, dynamoDb: dynamo.dynamoDb }).get(sub);
        assert.ok(grant && lwa.accessTokenValid(grant.accessToken));
        assert.equal(grant.region, "us-east-1");
        assert.equal(ssm.reads, 1);
        for (const secret of [LWA_CLIENT_SECRET, code, grant.accessToken, grant.refreshToken]) {
            assert.ok(!stdout.includes(secret), "the function's output holds a secret or token");
        }
    });
});
