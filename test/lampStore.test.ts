import { strict as assert } from "assert";
import { randomUUID } from "crypto";
import { applyChange, DEFAULT_LAMP, LampState } from "../handler/lamp";
import { DynamoDbCall } from "../handler/awsJson";
import { CHANGES_KEPT, createLampStore, LampStore, LampStoreError } from "../handler/lampStore";
import { startDynalite, LocalDynamo } from "../local/dynalite";

describe("the lamp rules", () => {
    const on = (brightness: number): LampState => ({ powerState: "ON", brightness });
    it("keeps the level when switched off and on", () => {
        assert.deepEqual(applyChange(on(40), { kind: "power", powerState: "OFF" }), { powerState: "OFF", brightness: 40 });
    });
    it("lights the lamp at a level it is set to, and switches it off at 0 keeping the level", () => {
        assert.deepEqual(applyChange(DEFAULT_LAMP, { kind: "setBrightness", brightness: 30 }), on(30));
        assert.deepEqual(applyChange(on(30), { kind: "setBrightness", brightness: 0 }), { powerState: "OFF", brightness: 30 });
    });
    it("clamps relative changes at 100, switches off below 1 keeping the level, and counts from 0 when off", () => {
        assert.deepEqual(applyChange(on(95), { kind: "adjustBrightness", delta: 10 }), on(100));
        assert.deepEqual(applyChange(on(5), { kind: "adjustBrightness", delta: -5 }), { powerState: "OFF", brightness: 5 });
        assert.deepEqual(applyChange({ powerState: "OFF", brightness: 50 }, { kind: "adjustBrightness", delta: 10 }), on(10));
    });
});

describe("the DynamoDB lamp store", () => {
    let dynamo: LocalDynamo;
    let store: LampStore;
    // A DynamoDB of its own per test: a test that timed out keeps running, and its requests (or
    // an outage it left behind) must not land in the next test's counts.
    beforeEach(async () => {
        dynamo = await startDynalite();
        await dynamo.createLampTable("store-lamps");
        store = createLampStore({ tableName: "store-lamps", dynamoDb: dynamo.dynamoDb });
    });
    afterEach(() => dynamo.stop());

    const requests = () => [...dynamo.requests.entries()].reduce((sum, [name, n]) => sum + (name === "CreateTable" ? 0 : n), 0);

    it("reads a stored value that is not a lamp's (an item edited by hand, a missing attribute) as the default lamp's", async () => {
        const stored = async (attributes: Record<string, unknown>) => {
            const user = randomUUID();
            await dynamo.dynamoDb("PutItem", { TableName: "store-lamps", Item: { userId: { S: user }, ...attributes } });
            return store.read(user);
        };
        assert.deepEqual(await stored({ powerState: { S: "ON" }, brightness: { N: "40" } }), { powerState: "ON", brightness: 40 });
        assert.deepEqual(await stored({ powerState: { S: "OFF" }, brightness: { N: "1" } }), { powerState: "OFF", brightness: 1 });
        assert.deepEqual(await stored({ powerState: { S: "ON" }, brightness: { N: "100" } }), { powerState: "ON", brightness: 100 });
        assert.deepEqual(await stored({ powerState: { S: "DIM" }, brightness: { N: "40" } }), { powerState: DEFAULT_LAMP.powerState, brightness: 40 });
        for (const level of ["0", "101", "50.5", "-3"]) {
            assert.deepEqual(await stored({ powerState: { S: "ON" }, brightness: { N: level } }), { powerState: "ON", brightness: DEFAULT_LAMP.brightness }, level);
        }
        assert.deepEqual(await stored({ brightness: { N: "40" } }), { powerState: DEFAULT_LAMP.powerState, brightness: 40 });
        assert.deepEqual(await stored({ powerState: { S: "ON" } }), { powerState: "ON", brightness: DEFAULT_LAMP.brightness });
    });

    it("makes each change within the limits one UpdateItem that returns the new state", async () => {
        const user = randomUUID();
        // A user's first change also creates the item with its change keys: not one of these.
        await store.change(user, { kind: "power", powerState: "OFF" });
        for (const change of [
            { kind: "power", powerState: "ON" },
            { kind: "setBrightness", brightness: 50 },
            { kind: "adjustBrightness", delta: -20 },
            { kind: "power", powerState: "OFF" },
        ] as const) {
            const before = requests();
            await store.change(user, change);
            assert.equal(requests() - before, 1, change.kind);
        }
        assert.deepEqual(await store.read(user), { powerState: "OFF", brightness: 30 });
    });

    it("applies the same rules as the pure model, across the limits too", async () => {
        const user = randomUUID();
        let expected: LampState = { ...DEFAULT_LAMP };
        for (const change of [
            { kind: "adjustBrightness", delta: 30 },
            { kind: "adjustBrightness", delta: -100 },
            { kind: "power", powerState: "ON" },
            { kind: "adjustBrightness", delta: 100 },
            { kind: "setBrightness", brightness: 0 },
            { kind: "adjustBrightness", delta: -7 },
        ] as const) {
            expected = applyChange(expected, change);
            assert.deepEqual(await store.change(user, change), expected, JSON.stringify(change));
        }
        assert.deepEqual(await store.read(user), expected);
    });

    /**
     * The store's DynamoDB, where another directive's write (`competitor`) lands right before the
     * store's next write after one of its conditions failed: between the state the store saw and
     * the write it computed from it. `times` limits how often.
     */
    function withCompetingWrites(competitor: (n: number) => Promise<unknown>, times = Infinity) {
        let conditionFailed = false;
        let landed = 0;
        const call = (async (operation: "GetItem" | "UpdateItem", input: object) => {
            if (operation === "UpdateItem" && conditionFailed && landed < times) {
                conditionFailed = false;
                await competitor(landed++);
            }
            try {
                return await dynamo.dynamoDb(operation, input);
            } catch (err) {
                conditionFailed ||= err instanceof Error && err.name === "ConditionalCheckFailedException";
                throw err;
            }
        }) as DynamoDbCall;
        return { call, landed: () => landed };
    }

    it("reads consistently: a ReportState right after a change shows it (dynalite always does; the requests must ask for it)", async () => {
        const user = randomUUID();
        await store.change(user, { kind: "setBrightness", brightness: 30 });
        const from = dynamo.bodies.length;
        await store.read(user);
        // A new lamp: the first write finds no item and reads before writing it whole.
        await store.change(randomUUID(), { kind: "power", powerState: "ON" });
        const reads = dynamo.bodies.slice(from).filter((b) => b.operation === "GetItem").map((b) => b.input);
        assert.equal(reads.length, 2);
        for (const read of reads) {
            assert.equal(read.ConsistentRead, true, JSON.stringify(read));
        }
        assert.equal(reads[0].ProjectionExpression, "powerState, brightness");
    });

    it("takes the item as it was from a refused condition (ReturnValuesOnConditionCheckFailure), reading nothing more, and tries again from it", async () => {
        const user = randomUUID();
        await store.change(user, { kind: "setBrightness", brightness: 40 });
        await store.change(user, { kind: "power", powerState: "OFF" });
        const from = dynamo.bodies.length;
        // Planned for an on lamp at first; this one is off: refused, then planned from the item.
        assert.deepEqual(await store.change(user, { kind: "adjustBrightness", delta: 10 }), { powerState: "ON", brightness: 10 });
        const requests = dynamo.bodies.slice(from);
        assert.deepEqual(requests.map((b) => b.operation), ["UpdateItem", "UpdateItem"]);
        for (const { input } of requests) {
            assert.deepEqual([input.ReturnValues, input.ReturnValuesOnConditionCheckFailure], ["ALL_OLD", "ALL_OLD"]);
        }
    });

    it("says what each change replaced, from its own write: what was there, or nothing for a change repeated under its key", async () => {
        const user = randomUUID();
        assert.deepEqual(await store.changeReplacing(user, { kind: "power", powerState: "ON" }, "k1"), { state: { powerState: "ON", brightness: 100 }, previous: DEFAULT_LAMP });
        assert.deepEqual(await store.changeReplacing(user, { kind: "adjustBrightness", delta: -30 }, "k2"), { state: { powerState: "ON", brightness: 70 }, previous: { powerState: "ON", brightness: 100 } });
        assert.deepEqual(await store.changeReplacing(user, { kind: "power", powerState: "OFF" }, "k3"), { state: { powerState: "OFF", brightness: 70 }, previous: { powerState: "ON", brightness: 70 } });
        assert.deepEqual(await store.changeReplacing(user, { kind: "adjustBrightness", delta: -30 }, "k2"), { state: { powerState: "ON", brightness: 70 } });
    });

    it("computes a change that crosses a limit again when another write lands before its second step: no lost update", async () => {
        for (const [start, delta, competing, expected] of [[95, 10, 40, 50], [5, -10, 60, 50]]) {
            const user = randomUUID();
            await store.change(user, { kind: "setBrightness", brightness: start });
            const race = withCompetingWrites(() => store.change(user, { kind: "setBrightness", brightness: competing }), 1);
            const raced = createLampStore({ tableName: "store-lamps", dynamoDb: race.call });
            const result = await raced.change(user, { kind: "adjustBrightness", delta });
            assert.equal(race.landed(), 1, "the competing write did not land in between");
            assert.deepEqual(result, { powerState: "ON", brightness: expected }, `${start} ${delta > 0 ? "+" : ""}${delta} raced by ${competing}`);
            assert.deepEqual(await store.read(user), result);
        }
    });

    it("writes a lamp's first whole item only if no other write made one in between: no lost update", async () => {
        for (const legacy of [false, true]) {
            const user = randomUUID();
            if (legacy) {
                // An item from before change keys: the whole item is written once, on the first change.
                await dynamo.dynamoDb("PutItem", { TableName: "store-lamps", Item: { userId: { S: user }, powerState: { S: "ON" }, brightness: { N: "40" } } });
            }
            const race = withCompetingWrites(() => store.change(user, { kind: "setBrightness", brightness: 70 }), 1);
            const raced = createLampStore({ tableName: "store-lamps", dynamoDb: race.call });
            const result = await raced.change(user, { kind: "adjustBrightness", delta: 10 });
            assert.equal(race.landed(), 1, "the competing write did not land in between");
            assert.deepEqual(result, { powerState: "ON", brightness: 80 }, legacy ? "an item from before change keys" : "a new lamp");
            assert.deepEqual(await store.read(user), result);
        }
    });

    it("names the step that failed when DynamoDB fails in the middle of a change", async () => {
        const failing = (failOn: (operation: string, calls: number) => boolean) => {
            let calls = 0;
            return createLampStore({
                tableName: "store-lamps",
                dynamoDb: (async (operation: "GetItem" | "UpdateItem", input: object) => {
                    if (failOn(operation, ++calls)) {
                        throw Object.assign(new Error("socket hang up"), { name: "NetworkingError" });
                    }
                    return dynamo.dynamoDb(operation, input);
                }) as DynamoDbCall,
            });
        };
        // A new lamp: its guess is refused (no item), then the item is read, then written whole.
        const readFails = failing((operation) => operation === "GetItem");
        await assert.rejects(readFails.change(randomUUID(), { kind: "power", powerState: "ON" }), { name: "LampStoreError", message: "could not read the lamp's state" });
        const wholeWriteFails = failing((operation, calls) => operation === "UpdateItem" && calls > 1);
        await assert.rejects(wholeWriteFails.change(randomUUID(), { kind: "power", powerState: "ON" }), { name: "LampStoreError", message: "could not write the lamp's state" });
    });

    it("refuses an answer to a change that does not hold the state it produced", async () => {
        const user = randomUUID();
        await store.change(user, { kind: "setBrightness", brightness: 40 }, "before");
        const empty = createLampStore({
            tableName: "store-lamps",
            dynamoDb: (async (operation: "GetItem" | "UpdateItem", input: object) => {
                const out = await dynamo.dynamoDb<Record<string, unknown>>(operation, input);
                return operation === "UpdateItem" ? { ...out, Attributes: {} } : out;
            }) as DynamoDbCall,
        });
        await assert.rejects(empty.change(user, { kind: "adjustBrightness", delta: 5 }, "after"), { name: "LampStoreError", message: "DynamoDB's answer to a change holds no state" });
    });

    it("gives up with a LampStoreError after 8 raced attempts, each one conditional write, leaving the competitors' state", async () => {
        const user = randomUUID();
        await store.change(user, { kind: "setBrightness", brightness: 95 });
        // Each competing write moves the lamp out of the range the store's latest plan holds for
        // (91..100 and 1..90 in turn), so every plan is refused.
        const competing = (n: number) => (n % 2 === 0 ? 20 : 96);
        const race = withCompetingWrites((n) => store.change(user, { kind: "setBrightness", brightness: competing(n) }));
        const raced = createLampStore({ tableName: "store-lamps", dynamoDb: race.call });
        const updates = dynamo.requests.get("UpdateItem") ?? 0;
        await assert.rejects(raced.change(user, { kind: "adjustBrightness", delta: 10 }), (err: Error) => err instanceof LampStoreError && /8 attempts/.test(err.message));
        // Per attempt, one conditional write planned from the state the last refusal showed, refused
        // again; the rest are the competitors' (one before each of the store's writes but the first).
        const own = (dynamo.requests.get("UpdateItem") ?? 0) - updates - race.landed();
        assert.equal(own, 8);
        assert.equal(race.landed(), own - 1);
        assert.deepEqual(await store.read(user), { powerState: "ON", brightness: competing(race.landed() - 1) });
    });

    it("records a relative change that leaves a lamp at its limit with one more write after the refused guess", async () => {
        const user = randomUUID();
        await store.change(user, { kind: "setBrightness", brightness: 100 });
        const updates = dynamo.requests.get("UpdateItem") ?? 0;
        assert.deepEqual(await store.change(user, { kind: "adjustBrightness", delta: 10 }, "at-the-limit"), { powerState: "ON", brightness: 100 });
        // The first write is planned for a typical lamp and refused; the second, planned from the
        // state it saw, records the change (so that a retry of it is recognised) and keeps 100.
        assert.equal((dynamo.requests.get("UpdateItem") ?? 0) - updates, 2);
        assert.deepEqual(await store.change(user, { kind: "adjustBrightness", delta: 10 }, "at-the-limit"), { powerState: "ON", brightness: 100 });
        assert.equal((dynamo.requests.get("UpdateItem") ?? 0) - updates, 3, "the repeat is answered from the record, in one request");
    });

    it("throws a LampStoreError when DynamoDB cannot be reached, and works again once it is back", async () => {
        const user = randomUUID();
        await dynamo.pause();
        await assert.rejects(store.change(user, { kind: "power", powerState: "ON" }), (err: Error) => err instanceof LampStoreError && err.name === "LampStoreError" && err.message === "could not write the lamp's state");
        await assert.rejects(store.read(user), (err: Error) => err instanceof LampStoreError && err.message === "could not read the lamp's state");
        await dynamo.resume();
        assert.deepEqual(await store.change(user, { kind: "power", powerState: "ON" }), { powerState: "ON", brightness: 100 });
    });

    /** The user's item as stored. */
    const rawItem = async (user: string) => (await dynamo.dynamoDb<{ Item: Record<string, any> }>("GetItem", { TableName: "store-lamps", Key: { userId: { S: user } } })).Item;

    it("writes a new lamp's first change with two writes (the guess, then the whole item), and answers its repeat with what it produced", async () => {
        const user = randomUUID();
        const before = dynamo.requests.get("UpdateItem") ?? 0;
        assert.deepEqual(await store.change(user, { kind: "power", powerState: "OFF" }, "first"), { powerState: "OFF", brightness: 100 });
        assert.equal((dynamo.requests.get("UpdateItem") ?? 0) - before, 2);
        await store.change(user, { kind: "power", powerState: "ON" }, "second");
        assert.deepEqual(await store.change(user, { kind: "power", powerState: "OFF" }, "first"), { powerState: "OFF", brightness: 100 }, "the repeat's answer");
        assert.deepEqual(await store.read(user), { powerState: "ON", brightness: 100 }, "the repeat changed the lamp");
    });

    it("writes an item from before change keys whole once, keeping its state, then changes it in place", async () => {
        const user = randomUUID();
        await dynamo.dynamoDb("PutItem", { TableName: "store-lamps", Item: { userId: { S: user }, powerState: { S: "ON" }, brightness: { N: "40" } } });
        assert.deepEqual(await store.change(user, { kind: "adjustBrightness", delta: 10 }, "k1"), { powerState: "ON", brightness: 50 });
        const item = await rawItem(user);
        assert.deepEqual([Object.keys(item.changes.M).length, Object.keys(item.older.M).length, item.n.N], [1, 0, "1"]);
        assert.deepEqual(await store.change(user, { kind: "adjustBrightness", delta: 10 }, "k2"), { powerState: "ON", brightness: 60 });
        assert.equal(Object.keys((await rawItem(user)).changes.M).length, 2);
    });

    it(`starts a new generation of change keys once ${CHANGES_KEPT} are kept, and still knows the older ones`, async () => {
        const user = randomUUID();
        for (let i = 1; i <= CHANGES_KEPT; i++) {
            await store.change(user, { kind: "setBrightness", brightness: i }, `key-${i}`);
            const item = await rawItem(user);
            const kept = Object.keys(item.changes.M).length;
            assert.deepEqual([kept, Object.keys(item.older.M).length], i < CHANGES_KEPT ? [i, 0] : [0, CHANGES_KEPT], `after change ${i}`);
        }
        assert.deepEqual(await store.change(user, { kind: "setBrightness", brightness: 99 }, "key-1"), { powerState: "ON", brightness: 1 });
        assert.equal((await store.read(user)).brightness, CHANGES_KEPT);
    });

    it("keeps a lamp's item within 1 KB (one write unit) with both generations of change keys full", async () => {
        const user = randomUUID();
        for (let i = 1; i < 2 * CHANGES_KEPT; i++) {
            await store.change(user, { kind: "setBrightness", brightness: 1 + (i % 100) }, randomUUID());
        }
        const item = await rawItem(user);
        assert.deepEqual([Object.keys(item.older.M).length, Object.keys(item.changes.M).length], [CHANGES_KEPT, CHANGES_KEPT - 1]);
        // Its JSON spells every name and value out with quotes and braces besides: more than
        // DynamoDB counts (docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
        const size = Buffer.byteLength(JSON.stringify(item));
        assert.ok(size <= 1024, `${size} bytes`);
    });

    it("never answers with a damaged record of a change: the repeated change fails instead", async () => {
        const raced = createLampStore({ tableName: "store-lamps", dynamoDb: dynamo.dynamoDb, maxRaceAttempts: 2 });
        for (const damaged of [{ N: "50.5" }, { N: "2050" }, { N: "150" }, { N: "1000" }, { N: "-5" }, { S: "1030" }]) {
            const user = randomUUID();
            await raced.change(user, { kind: "setBrightness", brightness: 30 }, "key");
            const [name] = Object.keys((await rawItem(user)).changes.M);
            await dynamo.dynamoDb("UpdateItem", { TableName: "store-lamps", Key: { userId: { S: user } }, UpdateExpression: "SET changes.#c = :v", ExpressionAttributeNames: { "#c": name }, ExpressionAttributeValues: { ":v": damaged } });
            await assert.rejects(raced.change(user, { kind: "setBrightness", brightness: 30 }, "key"), LampStoreError, JSON.stringify(damaged));
        }
    });
});
