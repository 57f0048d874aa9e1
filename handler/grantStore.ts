// Each user's permission to send Alexa events: the LWA tokens from AcceptGrant, one DynamoDB item
// per user (partition key `userId`, the Cognito token's `sub`), in the grants table of the region
// whose function received the grant. A grant is written whole in one PutItem, so a failed
// AcceptGrant leaves either the previous grant or none, never half of one.
import { createDynamoDb, DynamoDbCall } from "./awsJson";
import { LwaTokens } from "./lwa";

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
}

export interface GrantStoreSettings {
    tableName: string;
    dynamoDb?: DynamoDbCall;
}

type Item = Record<string, { S?: string; N?: string }>;

function toGrant(item: Item | undefined): Grant | undefined {
    const text = (name: string) => item?.[name]?.S;
    const number = (name: string) => Number(item?.[name]?.N);
    const accessToken = text("accessToken");
    const refreshToken = text("refreshToken");
    const region = text("region");
    if (!accessToken || !refreshToken || !region) {
        return undefined;
    }
    const clientId = text("clientId");
    return {
        accessToken, refreshToken, region,
        accessTokenExpiresAt: number("accessTokenExpiresAt") || 0,
        grantedAt: number("grantedAt") || 0,
        // Grants stored before the client was recorded have none.
        ...(clientId ? { clientId } : {}),
    };
}

export function createGrantStore(settings: GrantStoreSettings): GrantStore {
    const { tableName } = settings;
    let dynamoDb = settings.dynamoDb;
    // Alexa waits 8 s for AcceptGrant's answer and LWA takes part of that: two short tries here.
    const dynamo = () => (dynamoDb ??= createDynamoDb({ region: process.env.AWS_REGION ?? "us-east-1", maxAttempts: 2, attemptTimeoutMs: 1000 }));
    const key = (userId: string): Item => ({ userId: { S: userId } });

    return {
        async get(userId) {
            const out = await dynamo()<{ Item?: Item }>("GetItem", { TableName: tableName, Key: key(userId), ConsistentRead: true });
            return toGrant(out.Item);
        },
        async put(userId, grant) {
            await dynamo()("PutItem", {
                TableName: tableName,
                Item: {
                    ...key(userId),
                    accessToken: { S: grant.accessToken },
                    refreshToken: { S: grant.refreshToken },
                    accessTokenExpiresAt: { N: String(grant.accessTokenExpiresAt) },
                    region: { S: grant.region },
                    grantedAt: { N: String(grant.grantedAt) },
                    ...(grant.clientId ? { clientId: { S: grant.clientId } } : {}),
                },
            });
        },
        async updateTokens(userId, previousRefreshToken, tokens) {
            try {
                await dynamo()("UpdateItem", {
                    TableName: tableName,
                    Key: key(userId),
                    UpdateExpression: "SET accessToken = :access, refreshToken = :refresh, accessTokenExpiresAt = :expires" + (tokens.clientId ? ", clientId = :client" : ""),
                    ConditionExpression: "refreshToken = :previous",
                    ExpressionAttributeValues: {
                        ":access": { S: tokens.accessToken },
                        ":refresh": { S: tokens.refreshToken },
                        ":expires": { N: String(tokens.accessTokenExpiresAt) },
                        ":previous": { S: previousRefreshToken },
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
        async forget(userId, deadRefreshToken) {
            try {
                await dynamo()("DeleteItem", {
                    TableName: tableName,
                    Key: key(userId),
                    // attribute_not_exists: a grant deleted meanwhile is as good as forgotten.
                    ConditionExpression: "attribute_not_exists(userId) OR refreshToken = :dead",
                    ExpressionAttributeValues: { ":dead": { S: deadRefreshToken } },
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
