// The skill handler wired to real parts: a real verifier over keys made here, the real DynamoDB
// store over dynalite, and a log sink that keeps every line for inspection.
import { randomUUID } from "crypto";
import { createSkillHandler, SkillDependencies, SkillHandler } from "../../handler";
import { lampEndpointId } from "../../handler/lamp";
import { createLampStore, LampStore } from "../../handler/lampStore";
import { DirectiveLog } from "../../handler/log";
import { createAccessTokenVerifier, VerifierSettings } from "../../handler/token";
import { startDynalite, LocalDynamo } from "../../local/dynalite";
import { accessTokenClaims, CLIENT_ID, jwksOf, newSigningKey, SigningKey, signToken, USER_POOL_ID } from "../../local/tokens";

export interface SkillHarness {
    handle: SkillHandler;
    key: SigningKey;
    dynamo: LocalDynamo;
    store: LampStore;
    tableName: string;
    /** Every log line written, as the JSON text that would reach CloudWatch. */
    logLines: string[];
    /** A fresh user: a `sub`, a valid token for it, and its lamp's endpointId. */
    newUser(): { sub: string; token: string; endpointId: string };
    stop(): Promise<void>;
}

/**
 * Options override the verifier's settings; `key` is the pool's signing key (default: a new one);
 * `dependencies(dynamo)` adds to the skill's dependencies (e.g. acceptGrant over the same dynalite).
 */
export async function startSkillHarness(options: Partial<VerifierSettings> & {
    key?: SigningKey;
    dependencies?: (dynamo: LocalDynamo) => Promise<Partial<SkillDependencies>>;
} = {}): Promise<SkillHarness> {
    const { key = newSigningKey(), dependencies, ...verifier } = options;
    const dynamo = await startDynalite();
    const tableName = "lamps-" + randomUUID();
    await dynamo.createLampTable(tableName);
    const store = createLampStore({ tableName, dynamoDb: dynamo.dynamoDb });
    const logLines: string[] = [];
    const handle = createSkillHandler({
        verifyAccessToken: createAccessTokenVerifier({
            userPoolId: USER_POOL_ID,
            clientId: CLIENT_ID,
            jwks: jwksOf(key),
            // A kid missing from the cached JWKS makes the verifier download it again: serve the
            // pool's JWKS from memory rather than from cognito-idp.
            fetcher: { fetch: async () => new TextEncoder().encode(JSON.stringify(jwksOf(key))).buffer as ArrayBuffer },
            ...verifier,
        }),
        lampStore: store,
        log: (entry: DirectiveLog) => logLines.push(JSON.stringify(entry)),
        ...(dependencies ? await dependencies(dynamo) : {}),
    });
    return {
        handle,
        key,
        dynamo,
        store,
        tableName,
        logLines,
        newUser() {
            const sub = randomUUID();
            return { sub, token: signToken(key, accessTokenClaims(sub)), endpointId: lampEndpointId(sub) };
        },
        stop: () => dynamo.stop(),
    };
}
