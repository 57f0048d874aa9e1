// The grants table (one item per user: the LWA tokens of AcceptGrant) on dynalite, its tokens sealed
// under a key of the KMS stand-in: what an item holds (no token in the clear), how a partial,
// edited, moved or earlier version's item reads, and the conditional writes that never bring back a
// deleted or replaced grant. AcceptGrant and the event sender build on it.
import { strict as assert } from "assert";
import { randomUUID } from "crypto";
import { createGrantAcceptor, STORE_ATTEMPT_MS } from "../handler/acceptGrant";
import { createTokenSeal, KMS_PROTOCOL } from "../handler/tokenSeal";
import { createAwsJsonClient, DYNAMODB_PROTOCOL } from "../handler/awsJson";
import { READ_ONLY_CREDENTIALS } from "../local/sigv4";
import { createGrantStore, Grant, GrantStore, refreshTokenHash } from "../handler/grantStore";
import { createLwaClient } from "../handler/lwa";
import { LocalDynamo, LOCAL_CREDENTIALS, startDynalite } from "../local/dynalite";
import { setEnvironment } from "./support/lambdaEnvironment";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, LwaEndpoint, startLwaEndpoint } from "../local/lwaEndpoint";
import { KmsEndpoint, startKmsEndpoint } from "../local/kmsEndpoint";

type Item = Record<string, { S?: string; N?: string }>;

describe("the grants table", function () {
    this.timeout(20000);
    let dynamo: LocalDynamo;
    let kms: KmsEndpoint;
    let keyArn: string;
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
        kms = await startKmsEndpoint();
        keyArn = kms.createKey();
        tableName = "grants-" + randomUUID();
        await dynamo.createLampTable(tableName);
        store = createGrantStore({ tableName, seal: kms.seal(keyArn), dynamoDb: dynamo.dynamoDb });
    });
    after(() => Promise.all([dynamo.stop(), kms.stop()]));
    afterEach(() => dynamo.setMode("up"));

    it("writes a grant as one item whose tokens are sealed under the key, no token in the clear, and reads it back whole", async () => {
        const userId = randomUUID();
        const written = grant({ clientId: LWA_CLIENT_ID });
        await store.put(userId, written);
        const item = (await rawItem(userId))!;
        assert.deepEqual(Object.keys(item).sort(), ["accessTokenExpiresAt", "clientId", "grantedAt", "refreshTokenHash", "region", "tokens", "userId"]);
        assert.deepEqual([item.accessTokenExpiresAt, item.region, item.grantedAt, item.clientId, item.refreshTokenHash],
            [{ N: "1800000003600" }, { S: "eu-west-1" }, { N: "1800000000000" }, { S: LWA_CLIENT_ID }, { S: refreshTokenHash(written.refreshToken) }]);
        const raw = JSON.stringify(item);
        assert.ok(!raw.includes(written.accessToken) && !raw.includes(written.refreshToken) && !raw.includes("Atz"), "a token in the clear");
        assert.deepEqual(await store.get(userId), written);
        assert.equal(await store.get(randomUUID()), undefined);
    });

    it("cannot open a sealed value moved to another user's item (the seal names its user), nor one sealed under another key", async () => {
        const [victim, attacker] = [randomUUID(), randomUUID()];
        await store.put(victim, grant());
        await store.put(attacker, grant());
        await putRaw(attacker, { ...(await rawItem(victim))!, userId: { S: attacker } });
        await assert.rejects(store.get(attacker), { name: "InvalidCiphertextException" });
        const elsewhere = createGrantStore({ tableName, seal: kms.seal(kms.createKey()), dynamoDb: dynamo.dynamoDb });
        await elsewhere.put(attacker, grant());
        assert.ok(await store.get(attacker), "a ciphertext names its own key: Decrypt finds it");
        kms.disableKey(keyArn);
        try {
            await assert.rejects(store.get(victim), { name: "DisabledException" });
        } finally {
            kms.enableKey(keyArn);
        }
    });

    it("gives a principal that may read the table but not decrypt under the key (a read-only role) ciphertext only", async () => {
        const userId = randomUUID();
        const written = grant();
        await store.put(userId, written);
        kms.denyDecrypt(READ_ONLY_CREDENTIALS.accessKeyId);
        const readOnly = (service: typeof KMS_PROTOCOL | undefined) => createAwsJsonClient(service ?? DYNAMODB_PROTOCOL,
            { endpoint: service ? kms.endpoint : dynamo.endpoint, region: "us-east-1", credentials: () => READ_ONLY_CREDENTIALS, maxAttempts: 1 });
        const item = await readOnly(undefined)<{ Item: Item }>("GetItem", { TableName: tableName, Key: { userId: { S: userId } } });
        assert.ok(!JSON.stringify(item).includes(written.refreshToken) && !JSON.stringify(item).includes(written.accessToken));
        const asReadOnly = createGrantStore({ tableName, seal: createTokenSeal({ keyId: keyArn, kms: readOnly(KMS_PROTOCOL) }), dynamoDb: readOnly(undefined) as never });
        await assert.rejects(asReadOnly.get(userId), { name: "AccessDeniedException" });
    });

    it("reads a grant an earlier version stored in the clear, and seals it in place at that read", async () => {
        const userId = randomUUID();
        const { accessToken, refreshToken } = grant();
        await putRaw(userId, { accessToken: { S: accessToken }, refreshToken: { S: refreshToken }, region: { S: "us-east-1" }, accessTokenExpiresAt: { N: "5" }, grantedAt: { N: "4" } });
        assert.deepEqual(await store.get(userId), { accessToken, refreshToken, region: "us-east-1", accessTokenExpiresAt: 5, grantedAt: 4 });
        const item = (await rawItem(userId))!;
        assert.ok(!JSON.stringify(item).includes(refreshToken), "still in the clear after its read");
        assert.ok(item.tokens?.S);
        assert.deepEqual(await store.get(userId), { accessToken, refreshToken, region: "us-east-1", accessTokenExpiresAt: 5, grantedAt: 4 });
        // KMS down at that read: the grant reads all the same, the failure is told, and it is
        // sealed at a later read.
        const other = randomUUID();
        await putRaw(other, { accessToken: { S: accessToken }, refreshToken: { S: refreshToken }, region: { S: "us-east-1" } });
        const told: unknown[] = [];
        const telling = createGrantStore({ tableName, seal: kms.seal(keyArn), dynamoDb: dynamo.dynamoDb, onUnsealed: (err) => told.push(err) });
        await kms.outage.takeDown();
        try {
            assert.equal((await telling.get(other))!.refreshToken, refreshToken);
        } finally {
            await kms.outage.bringUp();
        }
        assert.equal(told.length, 1);
        assert.ok(!String(told[0]).includes(refreshToken));
        assert.equal((await rawItem(other))!.refreshToken?.S, refreshToken);
        await store.get(other);
        assert.equal((await rawItem(other))!.refreshToken, undefined);
    });

    it("stores refreshed tokens over a grant still in the clear, matched by its clear refresh token, leaving none in the clear", async () => {
        const userId = randomUUID();
        const { accessToken, refreshToken } = grant();
        await putRaw(userId, { accessToken: { S: accessToken }, refreshToken: { S: refreshToken }, region: { S: "us-east-1" }, accessTokenExpiresAt: { N: "5" }, grantedAt: { N: "4" } });
        await store.updateTokens(userId, refreshToken, { accessToken: "Atza|renewed", refreshToken: "Atzr|renewed", accessTokenExpiresAt: 9 });
        const item = (await rawItem(userId))!;
        assert.deepEqual([item.accessToken, item.refreshToken], [undefined, undefined]);
        assert.deepEqual(await store.get(userId), { accessToken: "Atza|renewed", refreshToken: "Atzr|renewed", region: "us-east-1", accessTokenExpiresAt: 9, grantedAt: 4 });
    });

    it("seals, page by page, every grant stored in the clear, and stops at its deadline saying some are left", async () => {
        const table = "grants-" + randomUUID();
        await dynamo.createLampTable(table);
        const sealing = createGrantStore({ tableName: table, seal: kms.seal(keyArn), dynamoDb: dynamo.dynamoDb });
        const users = Array.from({ length: 30 }, () => randomUUID());
        // Big enough items that a Scan page (1 MB) cannot hold them all.
        const padding = "p".repeat(60_000);
        for (const userId of users) {
            await dynamo.dynamoDb("PutItem", { TableName: table, Item: { userId: { S: userId }, accessToken: { S: "Atza|" + userId }, refreshToken: { S: "Atzr|" + userId }, region: { S: "us-east-1" }, note: { S: padding } } });
        }
        await sealing.put(randomUUID(), grant());
        assert.deepEqual(await sealing.sealStoredInTheClear(Date.now() - 1), { sealed: 0, done: false });
        assert.deepEqual(await sealing.sealStoredInTheClear(Date.now() + 60_000), { sealed: 30, done: true });
        for (const userId of users) {
            const item = (await dynamo.dynamoDb<{ Item: Item }>("GetItem", { TableName: table, Key: { userId: { S: userId } } })).Item;
            assert.deepEqual([item.accessToken, item.refreshToken], [undefined, undefined], userId);
            assert.equal((await sealing.get(userId))!.refreshToken, "Atzr|" + userId);
        }
        assert.deepEqual(await sealing.sealStoredInTheClear(Date.now() + 60_000), { sealed: 0, done: true });
    });

    it("seals a grant in the clear only while it holds what was read: one a new AcceptGrant rewrote meanwhile stays as written", async () => {
        const table = "grants-" + randomUUID();
        await dynamo.createLampTable(table);
        const userId = randomUUID();
        await dynamo.dynamoDb("PutItem", { TableName: table, Item: { userId: { S: userId }, accessToken: { S: "Atza|old" }, refreshToken: { S: "Atzr|old" }, region: { S: "us-east-1" } } });
        // The real seal, with another writer's clear grant landing between the scan and the write.
        const real = kms.seal(keyArn);
        const racing = createGrantStore({ tableName: table, dynamoDb: dynamo.dynamoDb, seal: {
            seal: async (user, text) => {
                await dynamo.dynamoDb("PutItem", { TableName: table, Item: { userId: { S: user }, accessToken: { S: "Atza|new" }, refreshToken: { S: "Atzr|new" }, region: { S: "us-east-1" } } });
                return real.seal(user, text);
            },
            open: real.open,
        } });
        assert.deepEqual(await racing.sealStoredInTheClear(Date.now() + 60_000), { sealed: 0, done: true });
        const item = (await dynamo.dynamoDb<{ Item: Item }>("GetItem", { TableName: table, Key: { userId: { S: userId } } })).Item;
        assert.deepEqual([item.refreshToken?.S, item.tokens], ["Atzr|new", undefined], "the newer grant was overwritten");
    });

    it("fails the sealing run when DynamoDB fails the write (it never counts a failed write as a grant rewritten meanwhile)", async () => {
        const table = "grants-" + randomUUID();
        await dynamo.createLampTable(table);
        await dynamo.dynamoDb("PutItem", { TableName: table, Item: { userId: { S: randomUUID() }, accessToken: { S: "Atza|old" }, refreshToken: { S: "Atzr|old" }, region: { S: "us-east-1" } } });
        const real = kms.seal(keyArn);
        // After the scan, before the write: DynamoDB fails both tries of the write.
        const failing = createGrantStore({ tableName: table, dynamoDb: dynamo.dynamoDb, seal: {
            seal: async (user, text) => {
                dynamo.refuseNext(2, { type: "com.amazonaws.dynamodb.v20120810#InternalServerError", status: 500 });
                return real.seal(user, text);
            },
            open: real.open,
        } });
        await assert.rejects(failing.sealStoredInTheClear(Date.now() + 60_000), (err: Error) => err.name !== "ConditionalCheckFailedException");
        const left = (await dynamo.dynamoDb<{ Items: Item[] }>("Scan", { TableName: table })).Items;
        assert.equal(left[0].refreshToken?.S, "Atzr|old", "the grant is kept as it was");
    });

    it("refuses an answer from KMS without a ciphertext or a plaintext, storing and reading nothing from it", async () => {
        const seal = kms.seal(keyArn);
        for (const body of [{}, { CiphertextBlob: "" }, { CiphertextBlob: 7 }]) {
            kms.answerNext(1, body);
            await assert.rejects(seal.seal("u", "Atzr|x"), (err: Error) => err.name === "InvalidResponse" && err.message === "KMS answered Encrypt without a ciphertext", JSON.stringify(body));
        }
        const sealed = await seal.seal("u", "Atzr|x");
        for (const body of [{}, { Plaintext: 7 }]) {
            kms.answerNext(1, body);
            await assert.rejects(seal.open("u", sealed), (err: Error) => err.name === "InvalidResponse" && err.message === "KMS answered Decrypt without a plaintext", JSON.stringify(body));
        }
        assert.equal(await seal.open("u", sealed), "Atzr|x");
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
        // A sealed value that opens to anything but the two tokens is no grant either.
        const odd = randomUUID();
        await putRaw(odd, { tokens: { S: await kms.seal(keyArn).seal(odd, JSON.stringify({ accessToken: "", refreshToken: "Atzr|x" })) }, region: { S: region } });
        assert.equal(await store.get(odd), undefined);
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
            ConditionExpression: "attribute_not_exists(userId) OR refreshTokenHash = :dead OR refreshToken = :deadClear",
            ExpressionAttributeValues: { ":dead": { S: refreshTokenHash(renewed.refreshToken) }, ":deadClear": { S: renewed.refreshToken } },
        });
        // An earlier version's item, in the clear: forgotten by its refresh token.
        const clear = randomUUID();
        await putRaw(clear, { accessToken: { S: "Atza|a" }, refreshToken: { S: "Atzr|dead" }, region: { S: "us-east-1" } });
        assert.equal(await store.forget(clear, "Atzr|other"), false);
        assert.equal(await store.forget(clear, "Atzr|dead"), true);
        assert.equal(await rawItem(clear), undefined);
    });

    it("asks DynamoDB for a consistent read (a grant just written or deleted reads as such)", async () => {
        // dynalite is always consistent; the request is what can be checked here.
        const seen: unknown[] = [];
        const recording = createGrantStore({ tableName, seal: kms.seal(keyArn), dynamoDb: async (operation, input) => {
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
                AWS_ENDPOINT_URL_KMS: kms.endpoint,
                AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
                AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
            });
        });
        after(() => restoreEnvironment());

        it("tries a throttled request twice and no more (AcceptGrant has Alexa's 8 s for everything)", async () => {
            const deployed = createGrantStore({ tableName, seal: createTokenSeal({ keyId: keyArn }) });
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
    let kms: KmsEndpoint;
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
        kms = await startKmsEndpoint();
        const tableName = "grants-" + randomUUID();
        await dynamo.createLampTable(tableName);
        store = createGrantStore({ tableName, seal: kms.seal(kms.createKey()), dynamoDb: dynamo.dynamoDb });
    });
    after(() => Promise.all([dynamo.stop(), lwa.stop(), kms.stop()]));
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

    it("gives LWA the budget from the directive's arrival, less the 2.5 s the store needs (sealing and writing, two tries of 0.6 s each)", async () => {
        lwa.setMode("hang");
        // budget 3000 ms: LWA may take until T + 500, less what the directive spent before.
        await assert.rejects(acceptor(3000)(randomUUID(), "c"), /^LwaError: LWA did not answer within 500 ms$/);
        await assert.rejects(acceptor(3000)(randomUUID(), "c", 300), /^LwaError: LWA did not answer within 200 ms$/);
        await assert.rejects(acceptor(3000)(randomUUID(), "c", 301), /^LwaError: no time left to ask LWA$/);
        // The default budget is 6.5 s: 3.8 s spent leaves LWA 200 ms, 3.8 s and 1 ms leaves none.
        await assert.rejects(acceptor()(randomUUID(), "c", 3801), /no time left to ask LWA/);
        lwa.setMode("up");
        const userId = randomUUID();
        await acceptor()(userId, lwa.issueCode(), 3800);
        assert.ok(await store.get(userId));
        assert.equal(STORE_ATTEMPT_MS, 600);
    });

    it("stores nothing, and says which, when the tokens cannot be sealed (KMS down) after LWA said yes", async () => {
        const userId = randomUUID();
        await kms.outage.takeDown();
        try {
            await assert.rejects(acceptor()(userId, lwa.issueCode()), (err: Error) => err.name === "GrantNotStored" && err.message === "could not store the grant (Error)");
        } finally {
            await kms.outage.bringUp();
        }
        assert.equal(await store.get(userId), undefined);
    });

    it("stores nothing and says only the error's type when the store fails after LWA said yes", async () => {
        const userId = randomUUID();
        await dynamo.setMode("down");
        await assert.rejects(acceptor()(userId, lwa.issueCode()), (err: Error) => err.message === "could not store the grant (Error)");
        await dynamo.setMode("up");
        assert.equal(await store.get(userId), undefined);
    });
});
