// A secondary region stack: the primary's pool and Alexa app client, whose tokens it verifies.
// Here only their shapes are checked; infra/primaryPool.ts looks both up in the pool's region.
import { ConfigReader } from "./reader";

/** The primary stack's pool and app client, as its userPoolId and clientId outputs give them. */
export interface PrimaryPool {
    userPoolId: string;
    clientId: string;
    /** The primary's authorizationUri output: only the companion app needs it (its sign-in page). */
    authorizationUri?: string;
}

export const SECONDARY_KEYS = ["primaryUserPoolId", "primaryClientId", "primaryAuthorizationUri"] as const;

// Cognito's formats (UserPoolType Id: <region>_<id>; UserPoolClientType ClientId: [\w+]+, up to 128).
const USER_POOL_ID = /^[a-z]{2}(?:-[a-z]+)+-\d_[0-9A-Za-z]+$/;
const CLIENT_ID = /^[\w+]{1,128}$/;

/** Whether the stack is a secondary: either of the primary's IDs set (both are then required). */
export function isSecondary(raw: Record<string, string | undefined>): boolean {
    return (raw.primaryUserPoolId ?? "") !== "" || (raw.primaryClientId ?? "") !== "";
}

/** The primary's pool and client on a secondary stack, undefined on the primary. */
export function readPrimaryPool(reader: ConfigReader, secondary: boolean): PrimaryPool | undefined {
    if (!secondary) {
        return undefined;
    }
    const userPoolId = reader.text("primaryUserPoolId");
    const clientId = reader.text("primaryClientId");
    if (!USER_POOL_ID.test(userPoolId)) {
        reader.problem("primaryUserPoolId", userPoolId, "it must be the primary stack's userPoolId output, <region>_<id>, given together with primaryClientId",
            'set primaryUserPoolId "$(pulumi stack output userPoolId --stack dev)"');
    }
    if (!CLIENT_ID.test(clientId)) {
        reader.problem("primaryClientId", clientId, "it must be the primary stack's clientId output, given together with primaryUserPoolId",
            'set primaryClientId "$(pulumi stack output clientId --stack dev)"');
    }
    return { userPoolId, clientId, authorizationUri: reader.optional("primaryAuthorizationUri") };
}
