import { strict as assert } from "assert";
import { randomUUID } from "crypto";
import { applyChange, DEFAULT_LAMP, LampState } from "../handler/lamp";
import { createLampStore, LampStore, LampStoreError } from "../handler/lampStore";
import { startDynalite, LocalDynamo } from "./support/dynalite";

describe("the lamp rules", () => {
    const on = (brightness: number): LampState => ({ powerState: "ON", brightness });
    it("keeps the level when switched off and on", () => {
        assert.deepEqual(applyChange(on(40), { kind: "power", powerState: "OFF" }), { powerState: "OFF", brightness: 40 });
    });
    it("lights the lamp at a level it is set to, and switches it off at 0 keeping the level", () => {
        assert.deepEqual(applyChange(DEFAULT_LAMP, { kind: "setBrightness", brightness: 30 }), on(30));
        assert.deepEqual(applyChange(on(30), { kind: "setBrightness", brightness: 0 }), { powerState: "OFF", brightness: 30 });
    });
    it("clamps relative changes at 100 and switches off below 1", () => {
        assert.deepEqual(applyChange(on(95), { kind: "adjustBrightness", delta: 10 }), on(100));
        assert.deepEqual(applyChange(on(5), { kind: "adjustBrightness", delta: -5 }), { powerState: "OFF", brightness: 1 });
        assert.deepEqual(applyChange({ powerState: "OFF", brightness: 50 }, { kind: "adjustBrightness", delta: 10 }), on(60));
    });
});

describe("the DynamoDB lamp store", () => {
    let dynamo: LocalDynamo;
    let store: LampStore;
    before(async () => {
        dynamo = await startDynalite();
        await dynamo.createLampTable("store-lamps");
        store = createLampStore({ tableName: "store-lamps", dynamoDb: dynamo.dynamoDb });
    });
    after(() => dynamo.stop());

    const requests = () => [...dynamo.requests.entries()].reduce((sum, [name, n]) => sum + (name === "CreateTable" ? 0 : n), 0);

    it("makes each change within the limits one UpdateItem that returns the new state", async () => {
        const user = randomUUID();
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

    it("throws a LampStoreError when DynamoDB cannot be reached, and works again once it is back", async () => {
        const user = randomUUID();
        await dynamo.pause();
        await assert.rejects(store.change(user, { kind: "power", powerState: "ON" }), LampStoreError);
        await dynamo.resume();
        assert.deepEqual(await store.change(user, { kind: "power", powerState: "ON" }), { powerState: "ON", brightness: 100 });
    });
});
