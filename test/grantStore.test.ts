// The grants table (one item per user: the LWA tokens of AcceptGrant) on dynalite: what an item
// holds, how a partial or edited one reads, and the conditional update that never brings back a
// deleted or replaced grant. AcceptGrant and the event sender build on it.
import { strict as assert } from "assert";
import { randomUUID } from "crypto";
import { createGrantAcceptor } from "../handler/acceptGrant";
import { createGrantStore, Grant, GrantStore } from "../handler/grantStore";
import { createLwaClient } from "../handler/lwa";
import { LocalDynamo, LOCAL_CREDENTIALS, startDynalite } from "./support/dynalite";
import { setEnvironment } from "./support/lambdaEnvironment";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, LwaEndpoint, startLwaEndpoint } from "./support/lwaEndpoint";

type Item = Record<string, { S?: string; N?: string }>;

describe("the grants table", function () {
    this.timeout(20000);
    let dynamo: LocalDynamo;
    let store: GrantStore;
    let tableName: string;

    const grant = (changes: Partial<Grant> = {}): Grant => ({
        accessToken: "Atza|" + randomUUID(),
        refreshToken: "Atzr|" + randomUUID(),
        accessTokenExpiresAt: 1_800_000_003_600,
        region: "eu-west-1",
        grantedAt: 1_800_000_000_000,
        ...changes,
    });
    const rawItem = async (userId: string) => (await dynamo.dynamoDb<{ Item?: Item }>("GetItem", { TableName: tableName, Key: { userId: { S: userId } } })).Item;
    const putRaw = (userId: string, item: Item) => dynamo.dynamoDb("PutItem", { TableName: tableName, Item: { userId: { S: userId }, ...item } });

    before(async () => {
        dynamo = await startDynalite();
        tableName = "grants-" + randomUUID();
        await dynamo.createLampTable(tableName);
        store = createGrantStore({ tableName, dynamoDb: dynamo.dynamoDb });
    });
    after(() => dynamo.stop());
    afterEach(() => dynamo.setMode("up"));

    it("writes a grant as one item of typed attributes and reads it back whole", async () => {
        const userId = randomUUID();
        const written = grant();
        await store.put(userId, written);
        assert.deepEqual(await rawItem(userId), {
            userId: { S: userId },
            accessToken: { S: written.accessToken },
            refreshToken: { S: written.refreshToken },
            accessTokenExpiresAt: { N: "1800000003600" },
            region: { S: "eu-west-1" },
            grantedAt: { N: "1800000000000" },
        });
        assert.deepEqual(await store.get(userId), written);
        assert.equal(await store.get(randomUUID()), undefined);
    });

    it("reads an item without a token or a region as no grant, and unreadable times as 0 (expired, so refreshed first)", async () => {
        const { accessToken, refreshToken, region } = grant();
        for (const missing of ["accessToken", "refreshToken", "region"]) {
            const userId = randomUUID();
            const item: Item = { accessToken: { S: accessToken }, refreshToken: { S: refreshToken }, region: { S: region } };
            delete item[missing];
            await putRaw(userId, item);
            assert.equal(await store.get(userId), undefined, missing);
        }
        const userId = randomUUID();
        await putRaw(userId, { accessToken: { S: accessToken }, refreshToken: { S: refreshToken }, region: { S: region }, accessTokenExpiresAt: { S: "soon" } });
        assert.deepEqual(await store.get(userId), { accessToken, refreshToken, region, accessTokenExpiresAt: 0, grantedAt: 0 });
    });

    it("keeps refreshed tokens, and the grant's region and time", async () => {
        const userId = randomUUID();
        const first = grant();
        await store.put(userId, first);
        await store.updateTokens(userId, first.refreshToken, { accessToken: "Atza|new", refreshToken: "Atzr|new", accessTokenExpiresAt: 1_900_000_000_000 });
        assert.deepEqual(await store.get(userId), { ...first, accessToken: "Atza|new", refreshToken: "Atzr|new", accessTokenExpiresAt: 1_900_000_000_000 });
    });

    it("leaves a grant replaced meanwhile (a new AcceptGrant) as it is, and a deleted one deleted", async () => {
        const replaced = randomUUID();
        const old = grant();
        const newer = grant();
        await store.put(replaced, newer);
        await store.updateTokens(replaced, old.refreshToken, { accessToken: "Atza|late", refreshToken: old.refreshToken, accessTokenExpiresAt: 1 });
        assert.deepEqual(await store.get(replaced), newer);
        const deleted = randomUUID();
        await store.put(deleted, old);
        assert.equal(await store.forget(deleted, old.refreshToken), true);
        await store.updateTokens(deleted, old.refreshToken, { accessToken: "Atza|late", refreshToken: old.refreshToken, accessTokenExpiresAt: 1 });
        assert.equal(await rawItem(deleted), undefined, "the update brought back part of a deleted grant");
    });

    it("fails each operation, naming no token, when DynamoDB cannot be reached", async () => {
        const userId = randomUUID();
        const written = grant();
        await store.put(userId, written);
        await dynamo.setMode("down");
        for (const [name, call] of [
            ["get", () => store.get(userId)],
            ["put", () => store.put(userId, written)],
            ["updateTokens", () => store.updateTokens(userId, written.refreshToken, written)],
            ["forget", () => store.forget(userId, written.refreshToken)],
        ] as const) {
            await assert.rejects(call(), (err: Error) => !err.message.includes("Atz"), name);
        }
    });

    it("forgets a grant only while it holds the refresh token that failed: a grant stored meanwhile stays", async () => {
        const userId = randomUUID();
        const dead = grant();
        const renewed = grant();
        await store.put(userId, renewed); // a new AcceptGrant, after the dead token was read
        assert.equal(await store.forget(userId, dead.refreshToken), false);
        assert.deepEqual(await store.get(userId), renewed);
        assert.equal(await store.forget(userId, renewed.refreshToken), true);
        assert.equal(await rawItem(userId), undefined);
        assert.equal(await store.forget(userId, renewed.refreshToken), true, "a grant already gone counts as forgotten");
        const request = dynamo.bodies.filter((b) => b.operation === "DeleteItem").at(-1)!.input;
        assert.deepEqual(request, {
            TableName: tableName,
            Key: { userId: { S: userId } },
            ConditionExpression: "attribute_not_exists(userId) OR refreshToken = :dead",
            ExpressionAttributeValues: { ":dead": { S: renewed.refreshToken } },
        });
    });

    it("asks DynamoDB for a consistent read (a grant just written or deleted reads as such)", async () => {
        // dynalite is always consistent; the request is what can be checked here.
        const seen: unknown[] = [];
        const recording = createGrantStore({ tableName, dynamoDb: async (operation, input) => {
            seen.push([operation, input]);
            return dynamo.dynamoDb(operation, input);
        } });
        await recording.get("someone");
        assert.deepEqual(seen, [["GetItem", { TableName: tableName, Key: { userId: { S: "someone" } }, ConsistentRead: true }]]);
    });

    describe("its own DynamoDB client (as deployed)", () => {
        let restoreEnvironment: () => void;
        before(() => {
            restoreEnvironment = setEnvironment({
                AWS_REGION: undefined,
                AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
                AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
                AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
            });
        });
        after(() => restoreEnvironment());

        it("tries a throttled request twice and no more (AcceptGrant has Alexa's 8 s for everything)", async () => {
            const deployed = createGrantStore({ tableName });
            const userId = randomUUID();
            await deployed.put(userId, grant());
            const before = dynamo.tries.get("GetItem") ?? 0;
            dynamo.refuseNext(2, "throttle");
            await assert.rejects(deployed.get(userId), /Throttling/);
            assert.equal((dynamo.tries.get("GetItem") ?? 0) - before, 2);
            dynamo.refuseNext(1, "throttle");
            assert.ok(await deployed.get(userId), "the second try's answer");
        });
    });
});

describe("accepting a grant", function () {
    this.timeout(20000);
    let dynamo: LocalDynamo;
    let lwa: LwaEndpoint;
    let store: GrantStore;
    const T = 1_800_000_000_000;

    /** An acceptor and its LWA client on one clock fixed at T. */
    const acceptor = (budgetMs?: number) => createGrantAcceptor({
        lwa: createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }), attemptTimeoutMs: 10_000, maxAttempts: 1, now: () => T }),
        grants: store,
        region: "us-west-2",
        budgetMs,
        now: () => T,
    });

    before(async () => {
        dynamo = await startDynalite();
        lwa = await startLwaEndpoint();
        const tableName = "grants-" + randomUUID();
        await dynamo.createLampTable(tableName);
        store = createGrantStore({ tableName, dynamoDb: dynamo.dynamoDb });
    });
    after(() => Promise.all([dynamo.stop(), lwa.stop()]));
    afterEach(async () => {
        lwa.setMode("up");
        await dynamo.setMode("up");
    });

    it("stores LWA's tokens with the function's region and the time of the grant", async () => {
        const userId = randomUUID();
        await acceptor()(userId, lwa.issueCode());
        const stored = (await store.get(userId))!;
        assert.ok(lwa.accessTokenValid(stored.accessToken));
        assert.deepEqual({ region: stored.region, grantedAt: stored.grantedAt, expires: stored.accessTokenExpiresAt }, { region: "us-west-2", grantedAt: T, expires: T + 3_600_000 });
    });

    it("gives LWA the budget from the directive's arrival, less the 1.2 s the store needs", async () => {
        lwa.setMode("hang");
        // budget 1700 ms: LWA may take until T + 500, less what the directive spent before.
        await assert.rejects(acceptor(1700)(randomUUID(), "c"), /^LwaError: LWA did not answer within 500 ms$/);
        await assert.rejects(acceptor(1700)(randomUUID(), "c", 300), /^LwaError: LWA did not answer within 200 ms$/);
        await assert.rejects(acceptor(1700)(randomUUID(), "c", 301), /^LwaError: no time left to ask LWA$/);
        // The default budget is 6.5 s: 5.1 s spent leaves LWA 200 ms, 5.1 s and 1 ms leaves none.
        await assert.rejects(acceptor()(randomUUID(), "c", 5101), /no time left to ask LWA/);
        lwa.setMode("up");
        const userId = randomUUID();
        await acceptor()(userId, lwa.issueCode(), 5100);
        assert.ok(await store.get(userId));
    });

    it("stores nothing and says only the error's type when the store fails after LWA said yes", async () => {
        const userId = randomUUID();
        await dynamo.setMode("down");
        await assert.rejects(acceptor()(userId, lwa.issueCode()), (err: Error) => err.message === "could not store the grant (Error)");
        await dynamo.setMode("up");
        assert.equal(await store.get(userId), undefined);
    });
});
