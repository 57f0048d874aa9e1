// Each user's permission to send Alexa events: the LWA tokens from AcceptGrant, one DynamoDB item
// per user (partition key `userId`, the Cognito token's `sub`), in the grants table of the region
// whose function received the grant. A grant is written whole in one PutItem, so a failed
// AcceptGrant leaves either the previous grant or none, never half of one.
// The tokens are stored sealed (handler/tokenSeal.ts: KMS, bound to the user), with a SHA-256 of
// the refresh token beside them for the conditions of later writes; the table holds no token in
// the clear. Grants an earlier version stored in the clear are sealed at the `pulumi up` that
// brings this version (sealStoredInTheClear, run by the consumer: infra/changeReportDelivery.ts);
// one still in the clear is read all the same, and sealed in place at that read.
import { createHash } from "crypto";
import { createDynamoDb, DynamoDbCall } from "./awsJson";
import { LwaTokens } from "./lwa";
import { TokenSeal } from "./tokenSeal";

/** `clientId`: the Alexa Client Id LWA issued the tokens to, when known. */
export interface Grant extends LwaTokens {
    /** The AWS region whose function received the grant: it selects the event gateway. */
    region: string;
    /** Milliseconds since the epoch. */
    grantedAt: number;
}

export interface GrantStore {
    get(userId: string): Promise<Grant | undefined>;
    put(userId: string, grant: Grant): Promise<void>;
    /** Keeps refreshed tokens, unless the grant was deleted or replaced meanwhile. */
    updateTokens(userId: string, previousRefreshToken: string, tokens: LwaTokens): Promise<void>;
    /**
     * Deletes the grant only if it still holds `deadRefreshToken`, the one whose failure proved the
     * grant dead: a grant a new AcceptGrant stored meanwhile stays. True when it was deleted (or
     * was already gone).
     */
    forget(userId: string, deadRefreshToken: string): Promise<boolean>;
    /**
     * Seals every grant an earlier version stored in the clear, page by page, until `deadline`
     * (milliseconds since the epoch). Fails on the first grant it cannot seal, leaving it as it
     * was. `done`: none is left.
     */
    sealStoredInTheClear(deadline: number): Promise<{ sealed: number; done: boolean }>;
}

export interface GrantStoreSettings {
    tableName: string;
    seal: TokenSeal;
    dynamoDb?: DynamoDbCall;
    /** Each try's limit, of two (default 1000 ms; AcceptGrant's store takes less: handler/acceptGrant.ts). */
    attemptTimeoutMs?: number;
    /** Told when a grant read in the clear could not be sealed in place (it is read all the same). */
    onUnsealed?: (err: unknown) => void;
}

type Item = Record<string, { S?: string; N?: string }>;

/** What conditions compare: a refresh token's SHA-256, never the token. */
export function refreshTokenHash(refreshToken: string): string {
    return createHash("sha256").update(refreshToken).digest("base64url");
}

export function createGrantStore(settings: GrantStoreSettings): GrantStore {
    const { tableName, seal } = settings;
    let dynamoDb = settings.dynamoDb;
    // Alexa waits 8 s for AcceptGrant's answer and LWA takes part of that: two short tries here.
    const dynamo = () => (dynamoDb ??= createDynamoDb({ region: process.env.AWS_REGION ?? "us-east-1", maxAttempts: 2, attemptTimeoutMs: settings.attemptTimeoutMs ?? 1000 }));
    const key = (userId: string): Item => ({ userId: { S: userId } });

    /** The sealed form of a grant's two tokens, and the hash later writes are conditioned on. */
    async function sealed(userId: string, tokens: { accessToken: string; refreshToken: string }): Promise<Item> {
        const text = JSON.stringify({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken });
        return { tokens: { S: await seal.seal(userId, text) }, refreshTokenHash: { S: refreshTokenHash(tokens.refreshToken) } };
    }

    /** The tokens an item holds: opened, or (an earlier version's item) in the clear; undefined if none. */
    async function tokensOf(userId: string, item: Item): Promise<{ accessToken: string; refreshToken: string; clear: boolean } | undefined> {
        if (item.tokens?.S) {
            const opened = JSON.parse(await seal.open(userId, item.tokens.S)) as { accessToken?: unknown; refreshToken?: unknown };
            return typeof opened.accessToken === "string" && typeof opened.refreshToken === "string" && opened.accessToken && opened.refreshToken
                ? { accessToken: opened.accessToken, refreshToken: opened.refreshToken, clear: false }
                : undefined;
        }
        const accessToken = item.accessToken?.S;
        const refreshToken = item.refreshToken?.S;
        return accessToken && refreshToken ? { accessToken, refreshToken, clear: true } : undefined;
    }

    /**
     * Seals an item stored in the clear, if it still holds what was read (an item changed
     * meanwhile was written sealed). False when it had changed.
     */
    async function sealClear(userId: string, tokens: { accessToken: string; refreshToken: string }): Promise<boolean> {
        const values = await sealed(userId, tokens);
        try {
            await dynamo()("UpdateItem", {
                TableName: tableName,
                Key: key(userId),
                UpdateExpression: "SET tokens = :tokens, refreshTokenHash = :hash REMOVE accessToken, refreshToken",
                ConditionExpression: "refreshToken = :clear",
                ExpressionAttributeValues: { ":tokens": values.tokens, ":hash": values.refreshTokenHash, ":clear": { S: tokens.refreshToken } },
            });
            return true;
        } catch (err) {
            if (err instanceof Error && err.name === "ConditionalCheckFailedException") {
                return false;
            }
            throw err;
        }
    }

    /** As sealClear, at a read: a failure leaves the item for the next read, and is told. */
    async function sealInPlace(userId: string, tokens: { accessToken: string; refreshToken: string }): Promise<void> {
        try {
            await sealClear(userId, tokens);
        } catch (err) {
            settings.onUnsealed?.(err);
        }
    }

    return {
        async get(userId) {
            const out = await dynamo()<{ Item?: Item }>("GetItem", { TableName: tableName, Key: key(userId), ConsistentRead: true });
            const item = out.Item;
            const region = item?.region?.S;
            const tokens = item && region ? await tokensOf(userId, item) : undefined;
            if (!item || !region || !tokens) {
                return undefined;
            }
            if (tokens.clear) {
                await sealInPlace(userId, tokens);
            }
            const number = (name: string) => Number(item[name]?.N);
            const clientId = item.clientId?.S;
            return {
                accessToken: tokens.accessToken,
                refreshToken: tokens.refreshToken,
                region,
                accessTokenExpiresAt: number("accessTokenExpiresAt") || 0,
                grantedAt: number("grantedAt") || 0,
                // Grants stored before the client was recorded have none.
                ...(clientId ? { clientId } : {}),
            };
        },
        async put(userId, grant) {
            await dynamo()("PutItem", {
                TableName: tableName,
                Item: {
                    ...key(userId),
                    ...(await sealed(userId, grant)),
                    accessTokenExpiresAt: { N: String(grant.accessTokenExpiresAt) },
                    region: { S: grant.region },
                    grantedAt: { N: String(grant.grantedAt) },
                    ...(grant.clientId ? { clientId: { S: grant.clientId } } : {}),
                },
            });
        },
        async updateTokens(userId, previousRefreshToken, tokens) {
            const values = await sealed(userId, tokens);
            try {
                await dynamo()("UpdateItem", {
                    TableName: tableName,
                    Key: key(userId),
                    // An earlier version's item holds the previous token in the clear: it is
                    // matched by that, and left with the sealed tokens only.
                    UpdateExpression: "SET tokens = :tokens, refreshTokenHash = :hash, accessTokenExpiresAt = :expires" + (tokens.clientId ? ", clientId = :client" : "") +
                        " REMOVE accessToken, refreshToken",
                    ConditionExpression: "refreshTokenHash = :previous OR refreshToken = :previousClear",
                    ExpressionAttributeValues: {
                        ":tokens": values.tokens,
                        ":hash": values.refreshTokenHash,
                        ":expires": { N: String(tokens.accessTokenExpiresAt) },
                        ":previous": { S: refreshTokenHash(previousRefreshToken) },
                        ":previousClear": { S: previousRefreshToken },
                        ...(tokens.clientId ? { ":client": { S: tokens.clientId } } : {}),
                    },
                });
            } catch (err) {
                // A new AcceptGrant, or a forgetting, got there first: theirs stands.
                if (!(err instanceof Error && err.name === "ConditionalCheckFailedException")) {
                    throw err;
                }
            }
        },
        async sealStoredInTheClear(deadline) {
            let sealedCount = 0;
            let start: Item | undefined;
            do {
                if (Date.now() >= deadline) {
                    return { sealed: sealedCount, done: false };
                }
                const page = await dynamo()<{ Items?: Item[]; LastEvaluatedKey?: Item }>("Scan", {
                    TableName: tableName,
                    FilterExpression: "attribute_exists(refreshToken)",
                    ProjectionExpression: "userId, accessToken, refreshToken",
                    ConsistentRead: true,
                    ...(start ? { ExclusiveStartKey: start } : {}),
                });
                for (const item of page.Items ?? []) {
                    const userId = item.userId?.S;
                    const refreshToken = item.refreshToken?.S;
                    if (userId && refreshToken && (await sealClear(userId, { accessToken: item.accessToken?.S ?? "", refreshToken }))) {
                        sealedCount++;
                    }
                }
                start = page.LastEvaluatedKey;
            } while (start);
            return { sealed: sealedCount, done: true };
        },
        async forget(userId, deadRefreshToken) {
            try {
                await dynamo()("DeleteItem", {
                    TableName: tableName,
                    Key: key(userId),
                    // attribute_not_exists: a grant deleted meanwhile is as good as forgotten; the
                    // last clause: an earlier version's item, not sealed yet (the dead token is no secret).
                    ConditionExpression: "attribute_not_exists(userId) OR refreshTokenHash = :dead OR refreshToken = :deadClear",
                    ExpressionAttributeValues: { ":dead": { S: refreshTokenHash(deadRefreshToken) }, ":deadClear": { S: deadRefreshToken } },
                });
                return true;
            } catch (err) {
                if (err instanceof Error && err.name === "ConditionalCheckFailedException") {
                    return false;
                }
                throw err;
            }
        },
    };
}
