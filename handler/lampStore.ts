// Each user's lamp, one DynamoDB item per user (partition key `userId`, the token's `sub`).
// Every change is a single conditional UpdateItem that returns the new state: two directives at
// once can never lose an update, and no read precedes the write in the common case.
// Every change is also applied at most once per idempotency key (the skill passes the directive's
// messageId): the same write records the key with the state it produced in the item, so a retry
// whose first try was applied (its answer lost on the way back) finds its key and gets that state
// back instead of changing the lamp again.
import { createHash, randomUUID } from "crypto";
import { createDynamoDb, DynamoDbCall } from "./awsJson";
import { applyChange, ChangePlan, DEFAULT_LAMP, LampChange, LampState, MAX_LEVEL, MIN_LEVEL, planChange, planHolds, runPlan, TYPICAL_LAMP } from "./lamp";

export interface LampStore {
    read(userId: string): Promise<LampState>;
    /**
     * Applies `change` to the user's lamp and returns the state it produced. `idempotencyKey` names
     * the request (the skill: the directive's messageId; another caller: its own request id, in a
     * namespace of its own): a second call with the same key changes nothing and returns the
     * state the first one produced. Without a key the change is applied as a new one.
     */
    change(userId: string, change: LampChange, idempotencyKey?: string): Promise<LampState>;
    /**
     * The same, also saying what the change replaced: the state the write itself found, never one
     * read before it (another writer may come in between). `previous` is undefined when the change
     * had been applied before (a repeated key) and this call changed nothing.
     */
    changeReplacing(userId: string, change: LampChange, idempotencyKey?: string): Promise<LampChangeResult>;
}

export interface LampChangeResult {
    state: LampState;
    previous?: LampState;
}

/** The lamp's state could not be read or written (DynamoDB unreachable, throttled, denied...). */
export class LampStoreError extends Error {
    constructor(message: string, readonly cause?: unknown) {
        super(message);
        this.name = "LampStoreError";
    }
}

export interface LampStoreSettings {
    tableName: string;
    /** A ready DynamoDB client; otherwise one for Lambda's region and credentials is made on first use. */
    dynamoDb?: DynamoDbCall;
    /** Attempts on a write that raced with another one before giving up (each is one request). */
    maxRaceAttempts?: number;
}

/** A DynamoDB item in its wire form, e.g. { userId: { S: "…" }, brightness: { N: "40" } }. */
type AttributeValue = { S?: string; N?: string; M?: Record<string, AttributeValue> };
type Item = Record<string, AttributeValue>;

function toState(item: Item | undefined): LampState {
    if (!item) {
        return { ...DEFAULT_LAMP };
    }
    const power = item.powerState?.S;
    const level = Number(item.brightness?.N);
    return {
        powerState: power === "ON" || power === "OFF" ? power : DEFAULT_LAMP.powerState,
        brightness: Number.isInteger(level) && level >= MIN_LEVEL && level <= MAX_LEVEL ? level : DEFAULT_LAMP.brightness,
    };
}

/** The state an item holds, or undefined when it holds no valid one (toState reads defaults instead). */
function storedState(item: Item): LampState | undefined {
    const power = item.powerState?.S;
    const level = Number(item.brightness?.N);
    return (power === "ON" || power === "OFF") && Number.isInteger(level) && level >= MIN_LEVEL && level <= MAX_LEVEL
        ? { powerState: power, brightness: level }
        : undefined;
}

function isConditionFailure(err: unknown): err is Error & { Item?: Item } {
    return err instanceof Error && err.name === "ConditionalCheckFailedException";
}

/**
 * Change keys are kept in two generations of CHANGES_KEPT: `changes` takes new keys (`n` counts
 * them), and the write that fills it is followed by one that makes it `older` and starts a new
 * `changes`. A lamp therefore knows the keys of its last 16 to 32 changes, and its item stays
 * within 1 KB, one write capacity unit
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
 */
const CHANGES_KEPT = 16;

/** The item's attribute for a key: 72 bits of its SHA-256 (keys are any length; names stay short). */
function changeName(idempotencyKey: string): string {
    return createHash("sha256").update(idempotencyKey).digest("base64url").slice(0, 12);
}

/**
 * What a change produced, as one number an update expression can compute from the stored level
 * (DynamoDB's SET adds a level to a value, but builds no map from one): 1000 + level for on,
 * the level for off.
 */
const ON_MARK = 1000;

function recordedState(value: AttributeValue | undefined): LampState | undefined {
    const n = Number(value?.N);
    const level = n % ON_MARK;
    if (!value?.N || !Number.isInteger(n) || n < 0 || n >= 2 * ON_MARK || level < MIN_LEVEL || level > MAX_LEVEL) {
        return undefined;
    }
    return { powerState: n >= ON_MARK ? "ON" : "OFF", brightness: level };
}

const recorded = (item: Item | undefined, name: string) => recordedState(item?.changes?.M?.[name] ?? item?.older?.M?.[name]);

export function createLampStore(settings: LampStoreSettings): LampStore {
    const { tableName } = settings;
    const maxRaceAttempts = settings.maxRaceAttempts ?? 8;
    let dynamoDb = settings.dynamoDb;
    // Alexa waits 8 s for an answer: three short tries at most (see awsJson.ts), made on first use.
    const dynamo = () => (dynamoDb ??= createDynamoDb({ region: process.env.AWS_REGION ?? "us-east-1" }));
    const key = (userId: string): Item => ({ userId: { S: userId } });

    async function send<T>(what: string, operation: "GetItem" | "UpdateItem", input: object): Promise<T> {
        try {
            return await dynamo()<T>(operation, input);
        } catch (err) {
            if (isConditionFailure(err)) {
                throw err;
            }
            throw new LampStoreError(`could not ${what} the lamp's state`, err);
        }
    }

    /** The user's item as stored (undefined: none yet), read consistently. */
    async function readItem(userId: string): Promise<Item | undefined> {
        const out = await send<{ Item?: Item }>("read", "GetItem", { TableName: tableName, Key: key(userId), ConsistentRead: true });
        return out.Item;
    }

    async function read(userId: string): Promise<LampState> {
        // The state only, not the change keys the item also holds.
        const out = await send<{ Item?: Item }>("read", "GetItem", {
            TableName: tableName, Key: key(userId), ConsistentRead: true, ProjectionExpression: "powerState, brightness",
        });
        return toState(out.Item);
    }

    /**
     * The second step for a lamp without an item, or one written before change keys existed:
     * writes the whole item computed from the item as read, only if it still holds that.
     */
    async function create(userId: string, previous: Item | undefined, name: string, next: LampState): Promise<boolean> {
        const produced = { N: String((next.powerState === "ON" ? ON_MARK : 0) + next.brightness) };
        const condition = !previous
            ? { ConditionExpression: "attribute_not_exists(userId)", values: {} }
            // Every write since change keys exist leaves them: the first one on an older item wins.
            : { ConditionExpression: "attribute_exists(userId) AND attribute_not_exists(changes)", values: {} };
        return conditionally("UpdateItem", {
            TableName: tableName,
            Key: key(userId),
            UpdateExpression: "SET powerState = :power, brightness = :level, changes = :changes, older = :older, n = :one",
            ConditionExpression: condition.ConditionExpression,
            ExpressionAttributeValues: {
                ":power": { S: next.powerState },
                ":level": { N: String(next.brightness) },
                ":changes": { M: { [name]: produced } },
                ":older": { M: {} },
                ":one": { N: "1" },
                ...condition.values,
            },
        });
    }

    /**
     * Starts a new generation of change keys, unless another write just did. Upkeep: the change is
     * already applied, so a failure here is not the directive's; the next change tries again.
     */
    async function startGeneration(userId: string): Promise<void> {
        await conditionally("UpdateItem", {
            TableName: tableName,
            Key: key(userId),
            UpdateExpression: "SET older = changes, changes = :none, n = :zero",
            ConditionExpression: "n >= :room",
            ExpressionAttributeValues: { ":none": { M: {} }, ":zero": { N: "0" }, ":room": { N: String(CHANGES_KEPT) } },
        }).catch(() => false);
    }

    /** Sends a conditional write: false when its condition did not hold. */
    async function conditionally(operation: "UpdateItem", input: object): Promise<boolean> {
        try {
            await send("write", operation, input);
            return true;
        } catch (err) {
            if (isConditionFailure(err)) {
                return false;
            }
            throw err;
        }
    }

    /**
     * The one request of the common case: the plan as an UpdateItem that applies it in place to
     * whatever the item holds at write time, as long as that is inside the plan's `when` and the
     * key is new. It records the state produced under the key, and answers with the item as it was
     * before: the state the change replaced, from which the plan gives the state it produced (and
     * how many keys the generation held). When a condition fails, it answers with the item as it
     * was (`undefined`: none yet).
     */
    async function applyInPlace(userId: string, name: string, plan: ChangePlan): Promise<{ done: LampChangeResult; keys: number } | { current?: Item }> {
        const at = plan.powerState === "ON" ? ON_MARK : 0;
        const values: Item = { ":power": { S: plan.powerState }, ":one": { N: "1" } };
        const sets = ["powerState = :power", "n = n + :one"];
        const level = plan.level;
        if ("set" in level) {
            sets.push("brightness = :level", "changes.#change = :produced");
            values[":level"] = { N: String(level.set) };
            values[":produced"] = { N: String(at + level.set) };
        } else if ("add" in level) {
            sets.push("brightness = brightness + :delta", "changes.#change = brightness + :produced");
            values[":delta"] = { N: String(level.add) };
            values[":produced"] = { N: String(at + level.add) };
        } else {
            sets.push("changes.#change = brightness + :produced");
            values[":produced"] = { N: String(at) };
        }
        // An item without change keys (or no item) fails `attribute_exists(changes)`: the second
        // step then writes it whole.
        const conditions = ["attribute_exists(changes)", "attribute_not_exists(changes.#change)", "attribute_not_exists(older.#change)"];
        if (plan.when) {
            conditions.push("powerState = :when");
            values[":when"] = { S: plan.when.powerState };
            if (plan.when.minLevel > MIN_LEVEL || plan.when.maxLevel < MAX_LEVEL) {
                conditions.push("brightness BETWEEN :low AND :high");
                values[":low"] = { N: String(plan.when.minLevel) };
                values[":high"] = { N: String(plan.when.maxLevel) };
            }
        }
        try {
            const out = await send<{ Attributes?: Item }>("write", "UpdateItem", {
                TableName: tableName,
                Key: key(userId),
                UpdateExpression: "SET " + sets.join(", "),
                ConditionExpression: conditions.join(" AND "),
                ExpressionAttributeNames: { "#change": name },
                ExpressionAttributeValues: values,
                // The item as the write found it (within 1 KB, see CHANGES_KEPT).
                ReturnValues: "ALL_OLD",
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            });
            const old = out.Attributes;
            const previous = old && storedState(old);
            if (!previous || !planHolds(plan, previous)) {
                throw new LampStoreError("DynamoDB's answer to a change holds no state");
            }
            return { done: { state: runPlan(plan, previous), previous }, keys: Number(old.n?.N) + 1 };
        } catch (err) {
            if (!isConditionFailure(err)) {
                throw err;
            }
            // DynamoDB hands back the item as it was when the condition failed; an implementation
            // without ReturnValuesOnConditionCheckFailure needs one consistent read.
            return { current: err.Item ?? (await readItem(userId)) };
        }
    }

    async function changeReplacing(userId: string, lampChange: LampChange, idempotencyKey: string = randomUUID()): Promise<LampChangeResult> {
        const name = changeName(idempotencyKey);
        let plan = planChange(TYPICAL_LAMP, lampChange);
        for (let races = 0; races < maxRaceAttempts;) {
            const first = await applyInPlace(userId, name, plan);
            if ("done" in first) {
                if (first.keys >= CHANGES_KEPT) {
                    await startGeneration(userId);
                }
                return first.done;
            }
            const item = first.current;
            // Applied before (a retry, or a repeated directive): the state it produced then.
            const produced = recorded(item, name);
            if (produced) {
                return { state: produced };
            }
            const current = toState(item);
            if (!item || !item.changes?.M) {
                const next = applyChange(current, lampChange);
                if (await create(userId, item, name, next)) {
                    return { state: next, previous: current };
                }
            }
            races++;
            // Plan again from the state the lamp had.
            plan = planChange(current, lampChange);
        }
        throw new LampStoreError(`the lamp changed under ${maxRaceAttempts} attempts in a row`);
    }

    const change = async (userId: string, lampChange: LampChange, idempotencyKey?: string) => (await changeReplacing(userId, lampChange, idempotencyKey)).state;

    return { read, change, changeReplacing };
}

// Exported here rather than at its declaration: uses inside this module then refer to the local
// constant, which Pulumi's closure serialization captures by value (not `exports.NAME`).
export { CHANGES_KEPT };
