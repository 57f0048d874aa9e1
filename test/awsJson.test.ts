import { strict as assert } from "assert";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { createDynamoDb, AwsJsonError, environmentCredentials, signedHeaders } from "../handler/awsJson";
import { createServer, request } from "http";
import { AddressInfo } from "net";
import { startDynalite, LocalDynamo } from "../local/dynalite";
import { EXAMPLE_CREDENTIALS, signatureRefusal } from "../local/sigv4";

const CREDENTIALS = EXAMPLE_CREDENTIALS;

describe("the skill's DynamoDB client", () => {
    it("signs requests exactly as the AWS SDK's own Signature V4 signer does", async () => {
        const body = JSON.stringify({ TableName: "lamps", Key: { userId: { S: "u-1" } }, ConsistentRead: true });
        const when = new Date("2026-11-25T09:30:15.123Z");
        for (const [url, credentials] of [
            [new URL("https://dynamodb.eu-west-1.amazonaws.com/"), CREDENTIALS],
            [new URL("https://dynamodb.eu-west-1.amazonaws.com/"), { ...CREDENTIALS, sessionToken: undefined }],
            [new URL("http://127.0.0.1:8000/"), CREDENTIALS],
        ] as const) {
            const ours = signedHeaders(url, "DynamoDB_20120810.GetItem", body, "eu-west-1", credentials, when);
            const signer = new SignatureV4({ service: "dynamodb", region: "eu-west-1", credentials, sha256: Sha256, applyChecksum: false });
            const theirs = await signer.sign({
                method: "POST",
                protocol: url.protocol,
                hostname: url.hostname,
                port: Number(url.port) || undefined,
                path: "/",
                query: {},
                headers: { "content-type": "application/x-amz-json-1.0", host: url.host, "x-amz-target": "DynamoDB_20120810.GetItem" },
                body,
            }, { signingDate: when });
            assert.equal(ours.authorization, theirs.headers.authorization);
            assert.equal(ours["x-amz-date"], theirs.headers["x-amz-date"]);
            assert.equal(ours["x-amz-security-token"], theirs.headers["x-amz-security-token"]);
        }
    });

    it("signs and sends the Host header with an endpoint's port, as HTTP asks for a port that is not the scheme's default", async () => {
        let received: { host?: string; refusal?: { type: string } } = {};
        const server = createServer((req, res) => {
            let body = "";
            req.on("data", (chunk) => (body += chunk));
            req.on("end", async () => {
                received = { host: req.headers.host, refusal: await signatureRefusal(req, body, "dynamodb", `127.0.0.1:${(server.address() as AddressInfo).port}`) };
                res.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end("{}");
            });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const port = (server.address() as AddressInfo).port;
            await createDynamoDb({ endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", credentials: () => EXAMPLE_CREDENTIALS, maxAttempts: 1 })("GetItem", { TableName: "t", Key: {} });
            assert.deepEqual(received, { host: `127.0.0.1:${port}`, refusal: undefined });
            // The same request with the port left out of its Host is refused where AWS's checks apply.
            const url = new URL(`http://127.0.0.1:${port}/`);
            const wrong = signedHeaders(new URL("http://127.0.0.1/"), "DynamoDB_20120810.GetItem", "{}", "us-east-1", EXAMPLE_CREDENTIALS, new Date());
            await new Promise<void>((resolve, reject) => request(url, { method: "POST", headers: wrong }, (res) => res.resume().on("end", resolve)).on("error", reject).end("{}"));
            const refused = received as { host?: string; refusal?: { type: string } };
            assert.deepEqual([refused.host, refused.refusal?.type], ["127.0.0.1", "WrongHost"]);
        } finally {
            server.close();
        }
    });

    it("takes Lambda's credentials from the environment, and says which variables are missing", () => {
        assert.deepEqual(environmentCredentials({ AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t" }), { accessKeyId: "a", secretAccessKey: "s", sessionToken: "t" });
        assert.throws(() => environmentCredentials({}), /AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY/);
    });

    describe("against dynalite", () => {
        let dynamo: LocalDynamo;
        // A DynamoDB of its own per test: a test that timed out keeps running, and its tries (or a
        // throttling mode it left behind) must not land in the next test's counts.
        beforeEach(async () => {
            dynamo = await startDynalite();
            await dynamo.createLampTable("client-lamps");
        });
        afterEach(() => dynamo.stop());

        it("writes and reads items", async () => {
            const update = await dynamo.dynamoDb<{ Attributes: Record<string, unknown> }>("UpdateItem", {
                TableName: "client-lamps",
                Key: { userId: { S: "u-1" } },
                UpdateExpression: "SET brightness = :b",
                ExpressionAttributeValues: { ":b": { N: "7" } },
                ReturnValues: "ALL_NEW",
            });
            assert.deepEqual(update.Attributes, { userId: { S: "u-1" }, brightness: { N: "7" } });
            const read = await dynamo.dynamoDb<{ Item: unknown }>("GetItem", { TableName: "client-lamps", Key: { userId: { S: "u-1" } } });
            assert.deepEqual(read.Item, { userId: { S: "u-1" }, brightness: { N: "7" } });
        });

        it("reports DynamoDB's refusals by their error type, without retrying them", async () => {
            const before = dynamo.requests.get("UpdateItem") ?? 0;
            const failure = await dynamo.dynamoDb("UpdateItem", {
                TableName: "client-lamps",
                Key: { userId: { S: "u-2" } },
                UpdateExpression: "SET brightness = :b",
                ConditionExpression: "attribute_exists(userId)",
                ExpressionAttributeValues: { ":b": { N: "1" } },
            }).then(() => undefined, (err: unknown) => err);
            assert.ok(failure instanceof AwsJsonError);
            assert.equal(failure.name, "ConditionalCheckFailedException");
            assert.equal(failure.status, 400);
            assert.equal((dynamo.requests.get("UpdateItem") ?? 0) - before, 1);
        });

        /** Tries of `operation` that reach the endpoint while `run` runs (counted there, answered or not). */
        async function triesDuring(operation: string, run: () => Promise<unknown>): Promise<{ tries: number; failure: unknown }> {
            const before = dynamo.tries.get(operation) ?? 0;
            const failure = await run().then(() => undefined, (err: unknown) => err);
            return { tries: (dynamo.tries.get(operation) ?? 0) - before, failure };
        }
        const KEY = { TableName: "client-lamps", Key: { userId: { S: "u-1" } } };

        it("tries a throttled request three times by default, then reports the ThrottlingException", async () => {
            const call = createDynamoDb({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: () => CREDENTIALS });
            await dynamo.setMode("throttle");
            try {
                const { tries, failure } = await triesDuring("GetItem", () => call("GetItem", KEY));
                assert.equal(tries, 3);
                assert.ok(failure instanceof AwsJsonError);
                assert.equal(failure.name, "ThrottlingException");
            } finally {
                await dynamo.setMode("up");
            }
        });

        it("tries a request that DynamoDB failed with HTTP 500 up to its limit, then reports it", async () => {
            const call = createDynamoDb({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: () => CREDENTIALS, maxAttempts: 4 });
            await dynamo.setMode("error");
            try {
                const { tries, failure } = await triesDuring("UpdateItem", () => call("UpdateItem", { ...KEY, UpdateExpression: "SET brightness = :b", ExpressionAttributeValues: { ":b": { N: "9" } } }));
                assert.equal(tries, 4);
                assert.ok(failure instanceof AwsJsonError);
                assert.equal(failure.name, "InternalServerError");
                assert.equal(failure.status, 500);
            } finally {
                await dynamo.setMode("up");
            }
        });

        it("answers once a retry gets through: throttled, then served, in two tries", async () => {
            const call = createDynamoDb({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: () => CREDENTIALS, maxAttempts: 3 });
            const key = { TableName: "client-lamps", Key: { userId: { S: "u-3" } } };
            await dynamo.dynamoDb("UpdateItem", { ...key, UpdateExpression: "SET brightness = :b", ExpressionAttributeValues: { ":b": { N: "3" } } });
            dynamo.refuseNext(1, "throttle");
            let item: unknown;
            const { tries, failure } = await triesDuring("GetItem", async () => (item = await call<{ Item: unknown }>("GetItem", key)));
            assert.equal(failure, undefined);
            assert.equal(tries, 2);
            assert.deepEqual(item, { Item: { userId: { S: "u-3" }, brightness: { N: "3" } } });
        });

        it("retries each of DynamoDB's throttling refusals (HTTP 400) and answers from the next try", async () => {
            // The retryable 400s of https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
            const call = createDynamoDb({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: () => CREDENTIALS, maxAttempts: 2 });
            for (const type of ["ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded", "LimitExceededException"]) {
                dynamo.refuseNext(1, { type, status: 400 });
                const { tries, failure } = await triesDuring("GetItem", () => call("GetItem", KEY));
                assert.equal(failure, undefined, type);
                assert.equal(tries, 2, type);
            }
            dynamo.refuseNext(1, { type: "AccessDeniedException", status: 400 });
            const denied = await triesDuring("GetItem", () => call("GetItem", KEY));
            assert.equal(denied.tries, 1, "a refusal that is not throttling is not retried");
            assert.equal((denied.failure as AwsJsonError).name, "AccessDeniedException");
        });

        it("names a refusal without an error type by its HTTP status", async () => {
            const call = createDynamoDb({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: () => CREDENTIALS, maxAttempts: 2 });
            dynamo.refuseNext(1, { status: 403 });
            const { tries, failure } = await triesDuring("GetItem", () => call("GetItem", KEY));
            assert.equal(tries, 1);
            assert.ok(failure instanceof AwsJsonError);
            assert.equal(failure.name, "HTTP403");
            assert.equal(failure.message, "DynamoDB answered 403");
        });

        it("tries a validation error once and reports it by its type", async () => {
            const call = createDynamoDb({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: () => CREDENTIALS, maxAttempts: 3 });
            const { tries, failure } = await triesDuring("GetItem", () => call("GetItem", { TableName: "client-lamps", Key: { userId: { N: "1" } } }));
            assert.equal(tries, 1);
            assert.ok(failure instanceof AwsJsonError);
            assert.equal(failure.name, "ValidationException");
            assert.equal(failure.status, 400);
        });

        it("sends to the region's public endpoint unless AWS_ENDPOINT_URL_DYNAMODB or else AWS_ENDPOINT_URL names another", async () => {
            const saved = { specific: process.env.AWS_ENDPOINT_URL_DYNAMODB, general: process.env.AWS_ENDPOINT_URL };
            const call = () => createDynamoDb({ region: "eu-west-1", credentials: () => CREDENTIALS, maxAttempts: 1 })("GetItem", KEY);
            try {
                delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
                delete process.env.AWS_ENDPOINT_URL;
                // No internet here: the failure names the host it tried.
                await assert.rejects(call(), /dynamodb\.eu-west-1\.amazonaws\.com/);
                process.env.AWS_ENDPOINT_URL = dynamo.endpoint;
                assert.deepEqual(await call(), {});
                process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
                process.env.AWS_ENDPOINT_URL = "http://127.0.0.1:1";
                assert.deepEqual(await call(), {});
            } finally {
                for (const [name, value] of [["AWS_ENDPOINT_URL_DYNAMODB", saved.specific], ["AWS_ENDPOINT_URL", saved.general]] as const) {
                    if (value === undefined) {
                        delete process.env[name];
                    } else {
                        process.env[name] = value;
                    }
                }
            }
        });

        it("waits 1.5 s for a try by default", async () => {
            const silent = require("net").createServer(() => undefined);
            await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
            try {
                const call = createDynamoDb({ endpoint: `http://127.0.0.1:${silent.address().port}`, region: "us-east-1", credentials: () => CREDENTIALS, maxAttempts: 1 });
                await assert.rejects(call("GetItem", KEY), /no answer from DynamoDB within 1500 ms/);
            } finally {
                silent.close();
            }
        });

        it("gives up on a silent server after one attempt timeout per try", async () => {
            let connections = 0;
            const silent = require("net").createServer(() => connections++);
            await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
            try {
                const call = createDynamoDb({ endpoint: `http://127.0.0.1:${silent.address().port}`, region: "us-east-1", credentials: () => CREDENTIALS, maxAttempts: 2, attemptTimeoutMs: 100 });
                await assert.rejects(call("GetItem", { TableName: "client-lamps", Key: {} }), /no answer from DynamoDB within 100 ms/);
                assert.equal(connections, 2);
            } finally {
                silent.close();
            }
        });
    });
});
