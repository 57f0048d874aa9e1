// Each user's lamp, one DynamoDB item per user (partition key `userId`, the token's `sub`).
// Every change is a single conditional UpdateItem that returns the new state: two directives at
// once can never lose an update, and no read precedes the write in the common case.
import { createDynamoDb, DynamoDbCall } from "./dynamodb";
import { applyChange, DEFAULT_LAMP, LampChange, LampState, MAX_LEVEL, MIN_LEVEL } from "./lamp";

export interface LampStore {
    read(userId: string): Promise<LampState>;
    change(userId: string, change: LampChange): Promise<LampState>;
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
type AttributeValue = { S?: string; N?: string; NULL?: boolean };
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

function isConditionFailure(err: unknown): err is Error & { Item?: Item } {
    return err instanceof Error && err.name === "ConditionalCheckFailedException";
}

export function createLampStore(settings: LampStoreSettings): LampStore {
    const { tableName } = settings;
    const maxRaceAttempts = settings.maxRaceAttempts ?? 8;
    let dynamoDb = settings.dynamoDb;
    // Alexa waits 8 s for an answer: three short tries at most (see dynamodb.ts), made on first use.
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
        return toState(await readItem(userId));
    }

    /** Writes `next` only if the item still holds `previous` (or is still absent). */
    async function replace(userId: string, previous: Item | undefined, next: LampState): Promise<boolean> {
        const condition: { ConditionExpression: string; old: Item } = previous
            ? { ConditionExpression: "powerState = :oldPower AND brightness = :oldLevel",
                old: { ":oldPower": previous.powerState ?? { NULL: true }, ":oldLevel": previous.brightness ?? { NULL: true } } }
            : { ConditionExpression: "attribute_not_exists(userId)", old: {} };
        try {
            await send("write", "UpdateItem", {
                TableName: tableName,
                Key: key(userId),
                UpdateExpression: "SET powerState = :power, brightness = :level",
                ConditionExpression: condition.ConditionExpression,
                ExpressionAttributeValues: { ":power": { S: next.powerState }, ":level": { N: String(next.brightness) }, ...condition.old },
            });
            return true;
        } catch (err) {
            if (isConditionFailure(err)) {
                return false;
            }
            throw err;
        }
    }

    /**
     * The one request for a change: an UpdateItem whose expression does the change in place. Power
     * and absolute levels always apply; a relative change applies in place only while the result
     * stays within 1..100, which the condition checks against the value at write time. Otherwise it
     * answers with the item as it was (`undefined` item: none yet) for the rare second step.
     */
    async function changeInPlace(userId: string, change: LampChange): Promise<{ done: LampState } | { current?: Item }> {
        const values: Item = {};
        const full = { N: String(DEFAULT_LAMP.brightness) };
        let update: string;
        let condition: string | undefined;
        if (change.kind !== "adjustBrightness") {
            // Power changes and SetBrightness do not depend on the stored state: they always apply.
            // A level is written only when one is set; otherwise the stored level stays (or the
            // default's, for a user without an item) for the next TurnOn.
            const next = applyChange(DEFAULT_LAMP, change);
            const setsLevel = change.kind === "setBrightness" && next.powerState === "ON";
            update = setsLevel
                ? "SET powerState = :power, brightness = :level"
                : "SET powerState = :power, brightness = if_not_exists(brightness, :full)";
            values[":power"] = { S: next.powerState };
            if (setsLevel) {
                values[":level"] = { N: String(next.brightness) };
            } else {
                values[":full"] = full;
            }
        } else {
            update = "SET powerState = :power, brightness = if_not_exists(brightness, :full) + :delta";
            values[":power"] = { S: "ON" };
            values[":full"] = full;
            values[":delta"] = { N: String(change.delta) };
            values[":low"] = { N: String(MIN_LEVEL - change.delta) };
            values[":high"] = { N: String(MAX_LEVEL - change.delta) };
            const defaultInRange = DEFAULT_LAMP.brightness + change.delta >= MIN_LEVEL && DEFAULT_LAMP.brightness + change.delta <= MAX_LEVEL;
            condition = (defaultInRange ? "attribute_not_exists(brightness) OR " : "") + "brightness BETWEEN :low AND :high";
        }
        try {
            const out = await send<{ Attributes?: Item }>("write", "UpdateItem", {
                TableName: tableName,
                Key: key(userId),
                UpdateExpression: update,
                ConditionExpression: condition,
                ExpressionAttributeValues: values,
                ReturnValues: "ALL_NEW",
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            });
            return { done: toState(out.Attributes) };
        } catch (err) {
            if (!isConditionFailure(err)) {
                throw err;
            }
            // DynamoDB hands back the item as it was when the condition failed; an implementation
            // without ReturnValuesOnConditionCheckFailure (dynalite) needs one consistent read.
            return { current: err.Item ?? (await readItem(userId)) };
        }
    }

    async function change(userId: string, lampChange: LampChange): Promise<LampState> {
        for (let attempt = 0; attempt < maxRaceAttempts; attempt++) {
            const first = await changeInPlace(userId, lampChange);
            if ("done" in first) {
                return first.done;
            }
            // The change crosses a limit (clamp, or dimmed to off): compute it from the state the
            // condition saw and write it only if nobody changed the lamp in between.
            const current = toState(first.current);
            const next = applyChange(current, lampChange);
            if (next.powerState === current.powerState && next.brightness === current.brightness && first.current) {
                return current;
            }
            if (await replace(userId, first.current, next)) {
                return next;
            }
        }
        throw new LampStoreError(`the lamp changed under ${maxRaceAttempts} attempts in a row`);
    }

    return { read, change };
}
