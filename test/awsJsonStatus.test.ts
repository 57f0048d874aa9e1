import { strict as assert } from "assert";
import { createServer, Server } from "http";
import { AddressInfo } from "net";
import { createDynamoDb, AwsJsonError, signingKeys } from "../handler/awsJson";

const CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/**
 * A server in front of DynamoDB that answers every request the same way, counting the requests and
 * the connections they came on; `calls` requests are made one after the other.
 */
async function answering(status: number, body: string, type = "text/html", calls = 1) {
    let tries = 0;
    let connections = 0;
    const server: Server = createServer((req, res) => {
        tries++;
        req.resume();
        res.writeHead(status, { "content-type": type }).end(body);
    });
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = createDynamoDb({ endpoint, region: "us-east-1", credentials: () => CREDENTIALS, maxAttempts: 3, attemptTimeoutMs: 5000 });
    let failure: unknown;
    let answer: unknown;
    for (let i = 0; i < calls; i++) {
        [answer, failure] = await call("GetItem", { TableName: "lamps", Key: { userId: { S: "u" } } }).then((out) => [out, undefined], (err: unknown) => [undefined, err]);
    }
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return { failure, answer, tries, connections };
}

describe("the skill's DynamoDB client, classifying answers by their status", () => {
    it("lets a 4xx stand after one try even when its body is a proxy's HTML page", async () => {
        const { failure, tries } = await answering(403, "<html><body>Forbidden</body></html>");
        assert.ok(failure instanceof AwsJsonError, String(failure));
        assert.equal(failure.status, 403);
        assert.equal(failure.name, "HTTP403");
        assert.match(failure.message, /answered 403 with a body that is not JSON/);
        assert.equal(tries, 1);
    });

    it("tries a 5xx with an HTML body up to its limit", async () => {
        const { failure, tries } = await answering(502, "<html>Bad Gateway</html>");
        assert.ok(failure instanceof AwsJsonError);
        assert.equal(failure.status, 502);
        assert.equal(tries, 3);
    });

    it("does not retry a 200 whose body is not JSON, as the write it answers may have been applied", async () => {
        const { failure, tries } = await answering(200, "<html>captive portal</html>");
        assert.ok(failure instanceof AwsJsonError);
        assert.equal(failure.name, "InvalidResponse");
        assert.equal(tries, 1);
    });

    it("still retries DynamoDB's own throttling answer, a 400", async () => {
        const { failure, tries } = await answering(400, JSON.stringify({ __type: "com.amazonaws.dynamodb.v20120810#ThrottlingException", message: "slow down" }), "application/x-amz-json-1.0");
        assert.ok(failure instanceof AwsJsonError);
        assert.equal(failure.name, "ThrottlingException");
        assert.equal(tries, 3);
    });

    it("retries every throttling type of DynamoDB, SQS and SSM, whatever the status", async () => {
        for (const type of ["RequestThrottled", "ProvisionedThroughputExceededException", "RequestLimitExceeded", "LimitExceededException"]) {
            const { failure, tries } = await answering(400, JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: "slow down" }), "application/x-amz-json-1.0");
            assert.equal((failure as Error).name, type);
            assert.equal(tries, 3, type);
        }
    });

    it("reads a 200 with an empty body as an empty answer", async () => {
        const { failure, answer, tries } = await answering(200, "", "application/x-amz-json-1.0");
        assert.equal(failure, undefined);
        assert.deepEqual([answer, tries], [{}, 1]);
    });

    it("refuses, without trying again, a 200 whose JSON is not an object", async () => {
        for (const body of ["[]", "null", "5", '"ok"']) {
            const { failure, tries } = await answering(200, body, "application/x-amz-json-1.0");
            assert.ok(failure instanceof AwsJsonError, body);
            assert.deepEqual([failure.name, failure.status, tries], ["InvalidResponse", 200, 1], body);
        }
    });

    it("tries a 500 up to its limit whatever its error type", async () => {
        const { failure, tries } = await answering(500, JSON.stringify({ __type: "com.amazonaws.dynamodb.v20120810#SomethingNew", message: "new" }), "application/x-amz-json-1.0");
        assert.ok(failure instanceof AwsJsonError);
        assert.deepEqual([failure.name, tries], ["SomethingNew", 3]);
    });

    it("tries again when an answer is cut off halfway, and fails cleanly after the last try", async () => {
        let tries = 0;
        const server: Server = createServer((req, res) => {
            tries++;
            req.resume();
            res.writeHead(200, { "content-type": "application/x-amz-json-1.0", "content-length": "100" });
            res.write('{"Item":');
            setTimeout(() => res.socket?.destroy(), 10);
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
        const call = createDynamoDb({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: "us-east-1", credentials: () => CREDENTIALS, maxAttempts: 2, attemptTimeoutMs: 5000 });
        await assert.rejects(call("GetItem", { TableName: "lamps", Key: { userId: { S: "u" } } }));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        assert.equal(tries, 2);
    });

    it("keeps its connection open between requests (keep-alive)", async () => {
        const { tries, connections } = await answering(200, "{}", "application/x-amz-json-1.0", 3);
        assert.deepEqual([tries, connections], [3, 1]);
    });
});

// Signature Version 4's derived key, against the worked example of AWS's documentation
// (docs.aws.amazon.com/general/latest/gr/sigv4-calculate-signature.html: secret
// wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830, us-east-1, iam).
describe("the AWS JSON client's signing key", () => {
    const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    it("is the documented key for the documented example", () => {
        assert.equal(signingKeys("iam")(SECRET, "20150830", "us-east-1").toString("hex"), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
    });

    it("is derived again when the day, the region or the secret changes (Lambda's credentials rotate)", () => {
        const keys = signingKeys("iam");
        const first = keys(SECRET, "20150830", "us-east-1").toString("hex");
        assert.equal(keys(SECRET, "20150830", "us-east-1").toString("hex"), first);
        for (const [secret, day, region] of [[SECRET + "x", "20150830", "us-east-1"], [SECRET, "20150831", "us-east-1"], [SECRET, "20150830", "eu-west-1"]]) {
            assert.notEqual(keys(secret, day, region).toString("hex"), first, `${day} ${region}`);
            assert.equal(keys(SECRET, "20150830", "us-east-1").toString("hex"), first);
        }
    });
});
