import { strict as assert } from "assert";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { createDynamoDb, DynamoDbError, environmentCredentials, signedHeaders } from "../handler/dynamodb";
import { startDynalite, LocalDynamo } from "./support/dynalite";

const CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "session-token-example" };

describe("the skill's DynamoDB client", () => {
    it("signs requests exactly as the AWS SDK's own Signature V4 signer does", async () => {
        const url = new URL("https://dynamodb.eu-west-1.amazonaws.com/");
        const body = JSON.stringify({ TableName: "lamps", Key: { userId: { S: "u-1" } }, ConsistentRead: true });
        const when = new Date("2026-11-25T09:30:15.123Z");
        for (const credentials of [CREDENTIALS, { ...CREDENTIALS, sessionToken: undefined }]) {
            const ours = signedHeaders(url, "DynamoDB_20120810.GetItem", body, "eu-west-1", credentials, when);
            const signer = new SignatureV4({ service: "dynamodb", region: "eu-west-1", credentials, sha256: Sha256, applyChecksum: false });
            const theirs = await signer.sign({
                method: "POST",
                protocol: "https:",
                hostname: url.hostname,
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

    it("takes Lambda's credentials from the environment, and says which variables are missing", () => {
        assert.deepEqual(environmentCredentials({ AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t" }), { accessKeyId: "a", secretAccessKey: "s", sessionToken: "t" });
        assert.throws(() => environmentCredentials({}), /AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY/);
    });

    describe("against dynalite", () => {
        let dynamo: LocalDynamo;
        before(async () => {
            dynamo = await startDynalite();
            await dynamo.createLampTable("client-lamps");
        });
        after(() => dynamo.stop());

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
            assert.ok(failure instanceof DynamoDbError);
            assert.equal(failure.name, "ConditionalCheckFailedException");
            assert.equal(failure.status, 400);
            assert.equal((dynamo.requests.get("UpdateItem") ?? 0) - before, 1);
        });

        it("retries throttling and gives up after its tries", async () => {
            await dynamo.setMode("throttle");
            const call = createDynamoDb({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: () => CREDENTIALS, maxAttempts: 3 });
            const failure = await call("GetItem", { TableName: "client-lamps", Key: { userId: { S: "u-1" } } }).then(() => undefined, (err: unknown) => err);
            await dynamo.setMode("up");
            assert.ok(failure instanceof DynamoDbError);
            assert.equal(failure.name, "ThrottlingException");
        });

        it("gives up on a silent server within its attempt timeout", async () => {
            const silent = require("net").createServer(() => undefined);
            await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
            const call = createDynamoDb({ endpoint: `http://127.0.0.1:${silent.address().port}`, region: "us-east-1", credentials: () => CREDENTIALS, maxAttempts: 2, attemptTimeoutMs: 100 });
            const started = Date.now();
            await assert.rejects(call("GetItem", { TableName: "client-lamps", Key: {} }), /within 100 ms/);
            assert.ok(Date.now() - started < 1000);
            silent.close();
        });
    });
});
