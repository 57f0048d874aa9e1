// A real DynamoDB implementation for the tests: dynalite, in memory, on 127.0.0.1, started and
// stopped by the tests. Requests are counted at the server, as the benchmark reports them.
// Clients reach it through a proxy that does what dynalite leaves out and DynamoDB does:
// - it checks each request's Host header and Signature V4 (local/sigv4.ts);
// - a conditional write refused with ReturnValuesOnConditionCheckFailure ALL_OLD gets the item as
//   it was in the refusal's `Item` (DynamoDB API Reference, UpdateItem/PutItem/DeleteItem,
//   ReturnValuesOnConditionCheckFailure; ConditionalCheckFailedException's Item). The proxy reads
//   it from dynalite right after the refusal, so a write landing in between would show (no test
//   here writes in between).
import { createServer, IncomingHttpHeaders, IncomingMessage, request, Server } from "http";
import { AddressInfo } from "net";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createDynamoDb, DynamoDbCall } from "../handler/awsJson";
import { interruptible } from "./interruptible";
import { LOCAL_CREDENTIALS, signatureRefusal } from "./sigv4";

const dynalite: (options: Record<string, unknown>) => Server = require("dynalite");

/**
 * up: served; down: connections refused; throttle: every request refused as DynamoDB throttles;
 * error: every request answered with DynamoDB's internal server error (HTTP 500).
 */
export type DynamoMode = "up" | "down" | "throttle" | "error";

export interface DeclaredTable {
    hashKey: string;
    rangeKey?: string;
    attributes: { name: string; type: "S" | "N" | "B" }[];
}

export interface LocalDynamo {
    endpoint: string;
    /** The skill's own DynamoDB client, pointed here (two tries, as a short outage needs one retry). */
    dynamoDb: DynamoDbCall;
    /** The AWS SDK, for what the skill never does (creating tables). */
    client: DynamoDBClient;
    /** DynamoDB operations that reached dynalite so far, by name (GetItem, UpdateItem...). */
    requests: Map<string, number>;
    /** Requests that reached the endpoint so far, by operation: served, throttled or failed alike (each try counts). */
    tries: Map<string, number>;
    /** The body of every request that reached the endpoint, in order, with its operation. */
    bodies: { operation: string; input: any }[];
    /** A table with the lamp table's key (userId). */
    createLampTable(name: string): Promise<void>;
    /** A table as an aws.dynamodb.Table's inputs declare it (hashKey, rangeKey, attributes). */
    createTable(name: string, declared: DeclaredTable): Promise<void>;
    setMode(mode: DynamoMode): Promise<void>;
    /** Answers the next `count` requests as `mode` does (or with DynamoDB error `type` and `status`), then serves again. */
    refuseNext(count: number, mode: "throttle" | "error" | { type?: string; status: number }): void;
    /**
     * The next `count` UpdateItem requests that dynalite applies (answers 200) lose their answer:
     * the proxy reads it and then cuts the client's connection, as a network failure after
     * DynamoDB applied a write would. The client sees a reset connection and retries.
     */
    loseAnswers(count: number): void;
    /** Shorthands for setMode("down") and setMode("up"). */
    pause(): Promise<void>;
    resume(): Promise<void>;
    stop(): Promise<void>;
}

const CREDENTIALS = LOCAL_CREDENTIALS;

// DynamoDB's answers to a throttled request (HTTP 400, a retryable client error) and to a request
// that failed inside DynamoDB (HTTP 500): the error types and status codes of
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
const REFUSALS = {
    throttle: {
        status: 400,
        body: JSON.stringify({ __type: "com.amazonaws.dynamodb.v20120810#ThrottlingException", message: "Rate of requests exceeds the allowed throughput." }),
    },
    error: {
        status: 500,
        body: JSON.stringify({ __type: "com.amazonaws.dynamodb.v20120810#InternalServerError", message: "The server encountered an internal error trying to fulfill the request." }),
    },
};

export async function startDynalite(): Promise<LocalDynamo> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const requests = new Map<string, number>();
    server.prependListener("request", (req) => {
        const target = String(req.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
        requests.set(target, (requests.get(target) ?? 0) + 1);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const backend = (server.address() as AddressInfo).port;

    // Clients reach dynalite through a proxy that can be taken down or made to throttle, as an
    // outage would, without losing the tables (closing dynalite drops its in-memory database).
    let mode: DynamoMode = "up";
    type Refusal = keyof typeof REFUSALS | { type?: string; status: number };
    let refusals: { count: number; mode: Refusal } | undefined;
    const answerOf = (refusal: Refusal) => typeof refusal === "string"
        ? REFUSALS[refusal]
        : { status: refusal.status, body: refusal.type === undefined ? "{}" : JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${refusal.type}`, message: refusal.type }) };
    const tries = new Map<string, number>();
    const bodies: { operation: string; input: any }[] = [];
    let answersToLose = 0;
    let listening = "";
    /** One request to dynalite itself, answered whole. */
    const upstream = (req: IncomingMessage, body: string, headers: IncomingHttpHeaders = req.headers) => new Promise<{ status: number; headers: IncomingHttpHeaders; text: string }>((resolve, reject) => {
        const call = request({ host: "127.0.0.1", port: backend, method: req.method, path: req.url, headers }, (answer) => {
            let text = "";
            answer.setEncoding("utf8");
            answer.on("data", (chunk: string) => (text += chunk));
            answer.on("end", () => resolve({ status: answer.statusCode ?? 500, headers: answer.headers, text }));
        });
        call.on("error", reject);
        call.end(body);
    });
    /** The item as stored now, read consistently from dynalite (signed as the request was). */
    const storedItem = async (req: IncomingMessage, input: any) => {
        const read = JSON.stringify({ TableName: input.TableName, Key: input.Key, ConsistentRead: true });
        const answer = await upstream(req, read, { ...req.headers, "x-amz-target": "DynamoDB_20120810.GetItem", "content-length": String(Buffer.byteLength(read)) });
        return JSON.parse(answer.text).Item;
    };
    const proxy = createServer((req, res) => {
        const operation = String(req.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
        tries.set(operation, (tries.get(operation) ?? 0) + 1);
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (chunk: string) => (body += chunk));
        req.on("end", async () => {
            const refusal = refusals && refusals.count-- > 0 ? refusals.mode : mode === "throttle" || mode === "error" ? mode : undefined;
            if (refusal) {
                const { status, body: answer } = answerOf(refusal);
                res.writeHead(status, { "content-type": "application/x-amz-json-1.0" }).end(answer);
                return;
            }
            const unsigned = await signatureRefusal(req, body, "dynamodb", listening);
            if (unsigned) {
                res.writeHead(unsigned.status, { "content-type": "application/x-amz-json-1.0" })
                    .end(JSON.stringify({ __type: `com.amazon.coral.service#${unsigned.type}`, message: unsigned.message }));
                return;
            }
            let input: any;
            try {
                input = JSON.parse(body);
            } catch {
                input = undefined;
            }
            bodies.push({ operation, input });
            try {
                const answer = await upstream(req, body);
                if (operation === "UpdateItem" && answer.status === 200 && answersToLose > 0) {
                    answersToLose--;
                    req.socket.destroy();
                    return;
                }
                let text = answer.text;
                if (answer.status === 400 && input?.ReturnValuesOnConditionCheckFailure === "ALL_OLD" && /ConditionalCheckFailedException/.test(text)) {
                    const item = await storedItem(req, input);
                    text = JSON.stringify({ ...JSON.parse(text), ...(item ? { Item: item } : {}) });
                }
                res.writeHead(answer.status, { ...answer.headers, "content-length": String(Buffer.byteLength(text)) }).end(text);
            } catch {
                res.destroy();
            }
        });
    });
    const outage = await interruptible(proxy);
    listening = `127.0.0.1:${outage.port}`;
    const endpoint = `http://127.0.0.1:${outage.port}`;
    const client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: CREDENTIALS, maxAttempts: 2 });
    // A per-try timeout far beyond any answer of dynalite's, even on a loaded machine: a try that
    // timed out would be retried, and tests that count requests or applied changes would be off.
    const dynamoDb = createDynamoDb({ endpoint, region: "us-east-1", credentials: () => CREDENTIALS, maxAttempts: 2, attemptTimeoutMs: 60_000 });

    async function createTable(name: string, declared: DeclaredTable) {
        await client.send(new CreateTableCommand({
            TableName: name,
            BillingMode: "PAY_PER_REQUEST",
            KeySchema: [
                { AttributeName: declared.hashKey, KeyType: "HASH" },
                ...(declared.rangeKey ? [{ AttributeName: declared.rangeKey, KeyType: "RANGE" as const }] : []),
            ],
            AttributeDefinitions: declared.attributes.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
        }));
    }

    async function setMode(next: DynamoMode) {
        await (next === "down" ? outage.takeDown() : outage.bringUp());
        mode = next;
    }

    return {
        endpoint,
        dynamoDb,
        client,
        requests,
        tries,
        bodies,
        async createLampTable(name) {
            await createTable(name, { hashKey: "userId", attributes: [{ name: "userId", type: "S" }] });
        },
        createTable,
        setMode,
        refuseNext(count, how) {
            refusals = { count, mode: how };
        },
        loseAnswers(count) {
            answersToLose = count;
        },
        pause: () => setMode("down"),
        resume: () => setMode("up"),
        async stop() {
            client.destroy();
            await outage.takeDown();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

export { LOCAL_CREDENTIALS };
