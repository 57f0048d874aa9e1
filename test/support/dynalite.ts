// A real DynamoDB implementation for the tests: dynalite, in memory, on 127.0.0.1, started and
// stopped by the tests. Requests are counted at the server, as the benchmark reports them.
import { AddressInfo, createServer, Socket, connect } from "net";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Server } from "http";

const dynalite: (options: Record<string, unknown>) => Server = require("dynalite");

export interface LocalDynamo {
    endpoint: string;
    client: DynamoDBClient;
    /** DynamoDB operations served so far, by name (GetItem, UpdateItem...). */
    requests: Map<string, number>;
    createLampTable(name: string): Promise<void>;
    /** Stops answering (connections are refused) until `resume`. */
    pause(): Promise<void>;
    resume(): Promise<void>;
    stop(): Promise<void>;
}

const CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

export async function startDynalite(): Promise<LocalDynamo> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const requests = new Map<string, number>();
    server.prependListener("request", (req) => {
        const target = String(req.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
        requests.set(target, (requests.get(target) ?? 0) + 1);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const backend = (server.address() as AddressInfo).port;
    // Clients reach dynalite through a relay that can be taken down, as a network outage would,
    // without losing the tables (closing dynalite itself drops its in-memory database).
    const sockets = new Set<Socket>();
    const relay = createServer((client) => {
        const upstream = connect(backend, "127.0.0.1");
        for (const socket of [client, upstream]) {
            sockets.add(socket);
            socket.on("close", () => sockets.delete(socket));
            socket.on("error", () => undefined);
        }
        client.pipe(upstream).pipe(client);
    });
    const listen = (port: number) => new Promise<void>((resolve) => relay.listen(port, "127.0.0.1", () => resolve()));
    await listen(0);
    const port = (relay.address() as AddressInfo).port;
    const endpoint = `http://127.0.0.1:${port}`;
    const client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: CREDENTIALS, maxAttempts: 2 });
    const closeRelay = () => new Promise<void>((resolve) => {
        relay.close(() => resolve());
        sockets.forEach((socket) => socket.destroy());
    });
    return {
        endpoint,
        client,
        requests,
        async createLampTable(name) {
            await client.send(new CreateTableCommand({
                TableName: name,
                BillingMode: "PAY_PER_REQUEST",
                KeySchema: [{ AttributeName: "userId", KeyType: "HASH" }],
                AttributeDefinitions: [{ AttributeName: "userId", AttributeType: "S" }],
            }));
        },
        pause: closeRelay,
        resume: () => listen(port),
        async stop() {
            client.destroy();
            if (relay.listening) {
                await closeRelay();
            }
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

export const LOCAL_CREDENTIALS = CREDENTIALS;
