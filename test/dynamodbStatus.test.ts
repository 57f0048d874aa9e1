import { strict as assert } from "assert";
import { createServer, Server } from "http";
import { AddressInfo } from "net";
import { createDynamoDb, DynamoDbError } from "../handler/dynamodb";

const CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/** A server in front of DynamoDB that answers every request the same way, counting them. */
async function answering(status: number, body: string, type = "text/html") {
    let tries = 0;
    const server: Server = createServer((req, res) => {
        tries++;
        req.resume();
        res.writeHead(status, { "content-type": type }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = createDynamoDb({ endpoint, region: "us-east-1", credentials: () => CREDENTIALS, maxAttempts: 3, attemptTimeoutMs: 5000 });
    const failure = await call("GetItem", { TableName: "lamps", Key: { userId: { S: "u" } } }).then(() => undefined, (err: unknown) => err);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return { failure, tries };
}

describe("the skill's DynamoDB client, classifying answers by their status", () => {
    it("lets a 4xx stand after one try even when its body is a proxy's HTML page", async () => {
        const { failure, tries } = await answering(403, "<html><body>Forbidden</body></html>");
        assert.ok(failure instanceof DynamoDbError, String(failure));
        assert.equal(failure.status, 403);
        assert.equal(failure.name, "HTTP403");
        assert.match(failure.message, /answered 403 with a body that is not JSON/);
        assert.equal(tries, 1);
    });

    it("tries a 5xx with an HTML body up to its limit", async () => {
        const { failure, tries } = await answering(502, "<html>Bad Gateway</html>");
        assert.ok(failure instanceof DynamoDbError);
        assert.equal(failure.status, 502);
        assert.equal(tries, 3);
    });

    it("does not retry a 200 whose body is not JSON, as the write it answers may have been applied", async () => {
        const { failure, tries } = await answering(200, "<html>captive portal</html>");
        assert.ok(failure instanceof DynamoDbError);
        assert.equal(failure.name, "InvalidResponse");
        assert.equal(tries, 1);
    });

    it("still retries DynamoDB's own throttling answer, a 400", async () => {
        const { failure, tries } = await answering(400, JSON.stringify({ __type: "com.amazonaws.dynamodb.v20120810#ThrottlingException", message: "slow down" }), "application/x-amz-json-1.0");
        assert.ok(failure instanceof DynamoDbError);
        assert.equal(failure.name, "ThrottlingException");
        assert.equal(tries, 3);
    });
});
