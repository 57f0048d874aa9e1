// The skill Lambda's entry: the stack's CallbackFunction calls `createHandlerFromEnvironment` once
// per container (its callbackFactory), and Lambda then calls the returned handler per directive.
import { createGrantAcceptor, STORE_ATTEMPT_MS } from "./acceptGrant";
import { createGrantStore } from "./grantStore";
import { createLampStore } from "./lampStore";
import { createLwaClient } from "./lwa";
import { lwaCredentials } from "./secret";
import { logLines } from "./log";
import { createSkillHandler, SkillHandler } from "./skill";
import { createAccessTokenVerifier } from "./token";
import { createTokenSeal } from "./tokenSeal";
import { handedOverJwks, requiredVariable } from "./environment";

export { createSkillHandler } from "./skill";
export type { SkillHandler, SkillDependencies } from "./skill";

/** The environment variables the stack sets on the function. */
const ENVIRONMENT = {
    userPoolId: "SKILL_USER_POOL_ID",
    clientId: "SKILL_CLIENT_ID",
    tableName: "SKILL_LAMP_TABLE",
    jwks: "SKILL_POOL_JWKS",
    /** Set only with events on: the skill's Alexa Client Id, the grants table and its key, the secret's parameter. */
    alexaClientId: "SKILL_ALEXA_CLIENT_ID",
    grantsTable: "SKILL_GRANTS_TABLE",
    grantsKey: "SKILL_GRANTS_KEY",
    alexaSecretParameter: "SKILL_ALEXA_SECRET_PARAMETER",
    /** Unset in AWS (LWA's own address); tests point it at their stand-in. */
    lwaTokenUrl: "SKILL_LWA_TOKEN_URL",
} as const;

const required = (env: NodeJS.ProcessEnv, name: string) => requiredVariable(env, name, "The skill function");

export function createHandlerFromEnvironment(env: NodeJS.ProcessEnv = process.env): SkillHandler {
    const verifyAccessToken = createAccessTokenVerifier({
        userPoolId: required(env, ENVIRONMENT.userPoolId),
        clientId: required(env, ENVIRONMENT.clientId),
        jwks: handedOverJwks(env[ENVIRONMENT.jwks]),
    });
    const lampStore = createLampStore({ tableName: required(env, ENVIRONMENT.tableName) });
    const alexaClientId = env[ENVIRONMENT.alexaClientId];
    const acceptGrant = alexaClientId
        ? createGrantAcceptor({
              lwa: createLwaClient({
                  tokenUrl: env[ENVIRONMENT.lwaTokenUrl] || undefined,
                  credentials: lwaCredentials(alexaClientId, required(env, ENVIRONMENT.alexaSecretParameter)),
              }),
              // Alexa's 8 s hold LWA's answer and the store's: the store's tries are short.
              grants: createGrantStore({
                  tableName: required(env, ENVIRONMENT.grantsTable),
                  seal: createTokenSeal({ keyId: required(env, ENVIRONMENT.grantsKey), attemptTimeoutMs: STORE_ATTEMPT_MS }),
                  attemptTimeoutMs: STORE_ATTEMPT_MS,
              }),
              region: required(env, "AWS_REGION"),
          })
        : undefined;
    return createSkillHandler({ verifyAccessToken, lampStore, log: logLines().logToStdout, acceptGrant });
}

// Exported here rather than at their declarations: uses inside this module then refer to the
// local constant, which Pulumi's closure serialization captures by value (not `exports.NAME`).
export { ENVIRONMENT };
