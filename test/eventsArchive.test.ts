import { strict as assert } from "assert";
import * as fs from "fs";
import { lampEndpointId } from "../handler/lamp";
import { createGrantStore } from "../handler/grantStore";
import { createLampStore } from "../handler/lampStore";
import { directives } from "../local/directives";
import { LocalDynamo, startDynalite } from "../local/dynalite";
import { localEnvironment as withLocalServices } from "../local/functionEnvironment";
import { invokeArchive, lambdaRuntimeModules, MaterialisedArchive, materialiseArchive } from "../local/lambdaArchive";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, LwaEndpoint, startLwaEndpoint } from "../local/lwaEndpoint";
import { POOL_KEY, PRIMARY_CONFIG, ProgramRun, runProgram } from "../local/pulumiProgram";
import { SsmEndpoint, startSsmEndpoint } from "../local/ssmEndpoint";
import { AlexaGateway, startAlexaGateway } from "../local/alexaGateway";
import { LocalSqs, startLocalSqs } from "../local/sqsQueue";
import { KmsEndpoint, startKmsEndpoint } from "../local/kmsEndpoint";
import { changeReport } from "../handler/changeReport";
import { messageGroupOf } from "../handler/eventQueue";
import { createLwaClient } from "../handler/lwa";
import { accessTokenClaims, signToken } from "../local/tokens";

const FUNCTION = "aws:lambda/function:Function";

describe("the deployed Lambda archives with Alexa events and the companion app on", function () {
    this.timeout(60000);
    let run: ProgramRun;
    let runtime: string;
    let dynamo: LocalDynamo;
    let lwa: LwaEndpoint;
    let ssm: SsmEndpoint;
    let gateway: AlexaGateway;
    let sqs: LocalSqs;
    let kms: KmsEndpoint;
    const archives: MaterialisedArchive[] = [];

    /** The function `name` as the stack would upload it, and its deployed environment. */
    async function deployed(name: string) {
        const fn = run.all(FUNCTION).find((f) => f.name === name)!;
        const archive = await materialiseArchive(fn.inputs.code);
        archives.push(archive);
        return { archive, environment: fn.inputs.environment.variables as Record<string, string> };
    }

    /** What Lambda and the tests add to the deployed environment: credentials and local endpoints. */
    const localEnvironment = (deployedEnvironment: Record<string, string>) => withLocalServices(deployedEnvironment, {
        dynamoDb: dynamo.endpoint, ssm: ssm.endpoint, sqs: sqs.endpoint, kms: kms.endpoint, lwaTokenUrl: lwa.tokenUrl, gatewayUrl: gateway.url,
    });

    before(async () => {
        run = await runProgram({ ...PRIMARY_CONFIG, alexaClientId: LWA_CLIENT_ID, alexaClientSecret: LWA_CLIENT_SECRET, companionApp: "true", alarmEmail: "ops@example.com" }, "dev", { secretKeys: ["alexaClientSecret"] });
        runtime = lambdaRuntimeModules();
        dynamo = await startDynalite();
        const env = run.all(FUNCTION).find((f) => f.name === "smartlamp-function")!.inputs.environment.variables;
        await dynamo.createLampTable(env.SKILL_LAMP_TABLE);
        await dynamo.createLampTable(env.SKILL_GRANTS_TABLE);
        lwa = await startLwaEndpoint();
        ssm = await startSsmEndpoint({ [env.SKILL_ALEXA_SECRET_PARAMETER]: LWA_CLIENT_SECRET });
        gateway = await startAlexaGateway(lwa);
        sqs = await startLocalSqs();
        kms = await startKmsEndpoint();
        kms.createKey(env.SKILL_GRANTS_KEY); // the key the stack made for the grants
    });
    after(async () => {
        await Promise.all([dynamo.stop(), lwa.stop(), ssm.stop(), gateway.stop(), sqs.stop(), kms.stop()]);
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
        const grant = await createGrantStore({ tableName: environment.SKILL_GRANTS_TABLE, seal: kms.seal(environment.SKILL_GRANTS_KEY), dynamoDb: dynamo.dynamoDb }).get(sub);
        assert.ok(grant && lwa.accessTokenValid(grant.accessToken));
        assert.equal(grant.region, "us-east-1");
        assert.equal(ssm.reads, 1);
        for (const secret of [LWA_CLIENT_SECRET, code, grant.accessToken, grant.refreshToken]) {
            assert.ok(!stdout.includes(secret), "the function's output holds a secret or token");
        }
    });

    it("retry consumer: holds only its own code, and delivers an SQS batch from a fresh process, keeping what must wait", async () => {
        const { archive, environment } = await deployed("change-reports-consumer");
        assert.deepEqual(archive.entries, ["__index.js"]);
        const text = fs.readFileSync(`${archive.dir}/__index.js`, "utf8");
        assert.deepEqual([...text.matchAll(/\bexports\.(\w+)/g)].map((m) => m[1]), ["handler"]);
        // Two users who linked, each lamp on: alice's token is good; bob's has expired and LWA is
        // down, so his event must wait, and his next one with it; alice's goes out now.
        const store = createGrantStore({ tableName: environment.EVENTS_GRANTS_TABLE, seal: kms.seal(environment.EVENTS_GRANTS_KEY), dynamoDb: dynamo.dynamoDb });
        const lamps = createLampStore({ tableName: environment.EVENTS_LAMP_TABLE, dynamoDb: dynamo.dynamoDb });
        const lwaClient = createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }) });
        const [alice, bob] = ["archive-alice", "archive-bob"];
        for (const user of [alice, bob]) {
            const tokens = await lwaClient.exchangeCode(lwa.issueCode());
            await store.put(user, { ...tokens, accessTokenExpiresAt: user === bob ? 0 : tokens.accessTokenExpiresAt, region: "us-east-1", grantedAt: Date.now() });
            await lamps.change(user, { kind: "power", powerState: "ON" });
        }
        const record = (sub: string, report: any, id: string) => ({
            messageId: id,
            receiptHandle: "r-" + id,
            body: JSON.stringify({ userId: sub, report }),
            attributes: { ApproximateReceiveCount: "1", MessageGroupId: messageGroupOf(sub), MessageDeduplicationId: report.event.header.messageId, SequenceNumber: id, SentTimestamp: String(Date.now()) },
            messageAttributes: {},
            eventSource: "aws:sqs",
            eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:changes.fifo",
            awsRegion: "us-east-1",
        });
        const on = { powerState: "ON", brightness: 100 } as const;
        const off = { powerState: "OFF", brightness: 100 } as const;
        const alices = changeReport(alice, off, on, "APP_INTERACTION", new Date())!;
        const bobs = changeReport(bob, off, on, "PHYSICAL_INTERACTION", new Date())!;
        const bobsNext = changeReport(bob, off, on, "APP_INTERACTION", new Date())!;
        await lwa.outage.takeDown();
        let result;
        try {
            result = await invokeArchive(archive, runtime, localEnvironment(environment), [
                { Records: [record(bob, bobs, "1"), record(alice, alices, "2"), record(bob, bobsNext, "3")] },
            ]);
        } finally {
            await lwa.outage.bringUp();
        }
        const { responses, stdout } = result;
        assert.deepEqual(responses[0], { batchItemFailures: [{ itemIdentifier: "1" }, { itemIdentifier: "3" }] }, stdout);
        assert.deepEqual(gateway.accepted.map((e) => e.body.event.header.messageId), [alices.event.header.messageId]);
        assert.equal(gateway.accepted[0].token, (await store.get(alice))!.accessToken);
        const lines = stdout.trim().split("\n").map((line) => JSON.parse(line));
        assert.deepEqual(lines.map((l) => `${l.level} ${l.outcome}`).sort(), ["info accepted", "info held", "warn wait"]);
        assert.ok(!stdout.includes("Atza|") && !stdout.includes(LWA_CLIENT_SECRET));
    });

    it("retry consumer: seals, from a fresh process and with the input pulumi up sends it, the grants an earlier version stored in the clear", async () => {
        const { archive, environment } = await deployed("change-reports-consumer");
        const input = JSON.parse(run.one("aws:lambda/invocation:Invocation").inputs.input);
        const lwaClient = createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }) });
        const { accessToken, refreshToken } = await lwaClient.exchangeCode(lwa.issueCode());
        const user = "archive-clear-user";
        await dynamo.dynamoDb("PutItem", { TableName: environment.EVENTS_GRANTS_TABLE, Item: {
            userId: { S: user }, accessToken: { S: accessToken }, refreshToken: { S: refreshToken }, region: { S: "us-east-1" }, accessTokenExpiresAt: { N: "0" }, grantedAt: { N: "1" } } });
        const { responses, stdout } = await invokeArchive(archive, runtime, localEnvironment(environment), [input]);
        assert.ok(responses[0].sealed >= 1, stdout);
        const item = (await dynamo.dynamoDb<{ Item: Record<string, { S?: string }> }>("GetItem", { TableName: environment.EVENTS_GRANTS_TABLE, Key: { userId: { S: user } } })).Item;
        assert.deepEqual([item.accessToken, item.refreshToken, typeof item.tokens?.S], [undefined, undefined, "string"]);
        const store = createGrantStore({ tableName: environment.EVENTS_GRANTS_TABLE, seal: kms.seal(environment.EVENTS_GRANTS_KEY), dynamoDb: dynamo.dynamoDb });
        assert.equal((await store.get(user))!.refreshToken, refreshToken);
        assert.ok(!stdout.includes(refreshToken) && !stdout.includes(accessToken));
    });

    it("companion API: serves the page and changes the lamp from a fresh process, queueing the ChangeReport", async () => {
        const { archive, environment } = await deployed("companion-function");
        assert.deepEqual(archive.entries, ["__index.js", "node_modules/aws-jwt-verify/dist/cjs", "node_modules/aws-jwt-verify/package.json"]);
        const queue = sqs.createFifoQueue("changes.fifo", environment.COMPANION_CHANGE_REPORT_QUEUE_URL);
        const sub = "archive-companion-user";
        const token = signToken(POOL_KEY, accessTokenClaims(sub, { client_id: environment.COMPANION_CLIENT_ID }));
        const request = (method: string, path: string, body?: unknown) => ({
            version: "2.0",
            rawPath: path,
            headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
            requestContext: { http: { method, path }, requestId: `req-${method}-${path}` },
            ...(body ? { body: JSON.stringify(body), isBase64Encoded: false } : {}),
        });
        const { responses, stdout } = await invokeArchive(archive, runtime, localEnvironment(environment), [
            request("GET", "/"),
            request("POST", "/api/lamp", { powerState: "ON" }),
            request("GET", "/api/lamp"),
        ]);
        const [page, changed, read] = responses;
        assert.equal(page.statusCode, 200, stdout);
        assert.match(page.body, /<title>Smart Lamp<\/title>/);
        assert.ok(page.body.includes(environment.COMPANION_CLIENT_ID));
        assert.equal(JSON.parse(changed.body).powerState, "ON", changed.body + stdout);
        assert.equal(JSON.parse(read.body).powerState, "ON");
        assert.equal(queue.messages.length, 1);
        assert.equal(JSON.parse(queue.messages[0].body).report.event.payload.change.cause.type, "APP_INTERACTION");
        assert.ok(!stdout.includes(token.split(".")[2]), "the log holds the token");
    });
});
