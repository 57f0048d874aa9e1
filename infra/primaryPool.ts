// A secondary region stack verifies tokens of the primary's pool: a skill has exactly one
// account-linking configuration, so all regions accept tokens of the one pool and app client.
// The two IDs come from config rather than from a StackReference to the primary, whose recorded
// outputs would put the client secret into every secondary's state (and tie all stacks to one
// secrets passphrase). Neither ID is a secret.
//
// Both are looked up in the pool's region at every `preview` and `up`, before the function gets
// them: with a wrong one, the function would answer every user's directive with
// INVALID_AUTHORIZATION_CREDENTIAL (aws-jwt-verify checks the issuer and client before any key),
// and Alexa would unlink them all. A wrong ID stops the `up` instead, naming the key to fix.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PoolReference } from "./accountLinking";
import { ConfigError, PrimaryPool } from "./config";
import { poolJwksUrl } from "./poolJwks";
import { providerInRegion } from "./regionProvider";

/** The name AccountLinking gives the primary's app client for Alexa. */
export const ALEXA_CLIENT_NAME = "alexa";

const FIX_POOL = 'pulumi config set primaryUserPoolId "$(pulumi stack output userPoolId --stack dev)"';
const FIX_CLIENT = 'pulumi config set primaryClientId "$(pulumi stack output clientId --stack dev)"';

/** What the look-up's failure says (AWS's own words, on one line), for the message. */
function failureText(err: unknown): string {
    const text = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").trim().slice(0, 300);
    return text || "the look-up found nothing";
}

/**
 * The primary's pool and client, each confirmed to exist (and the client to be the pool's Alexa
 * client) before anything uses them; `stackRegion` is this stack's region.
 */
export function primaryPoolReference(primary: PrimaryPool, stackRegion: string, parent?: pulumi.Resource): PoolReference {
    const poolRegion = primary.userPoolId.split("_")[0];
    // The pool lives in the primary's region: ask there.
    const provider = poolRegion === stackRegion ? undefined : providerInRegion("primary-pool-region", poolRegion, parent);
    const lookup = { provider, parent };
    const pool = aws.cognito.getUserPool({ userPoolId: primary.userPoolId }, lookup).catch((err: unknown) => {
        throw new ConfigError([`primaryUserPoolId is ${JSON.stringify(primary.userPoolId)}: Cognito in ${poolRegion} has no such user pool that this account can see ` +
            `(${failureText(err)}); it must be the primary stack's userPoolId output. Fix: ${FIX_POOL}`]);
    });
    const client = pool.then(() => aws.cognito.getUserPoolClient({ userPoolId: primary.userPoolId, clientId: primary.clientId }, lookup).catch((err: unknown) => {
        throw new ConfigError([`primaryClientId is ${JSON.stringify(primary.clientId)}: the pool ${primary.userPoolId} has no such app client ` +
            `(${failureText(err)}); it must be the primary stack's clientId output. Fix: ${FIX_CLIENT}`]);
    })).then((found) => {
        if (found.name !== ALEXA_CLIENT_NAME) {
            throw new ConfigError([`primaryClientId is ${JSON.stringify(primary.clientId)}: that is the pool's app client "${found.name}", not the one Alexa links ` +
                `with ("${ALEXA_CLIENT_NAME}"); it must be the primary stack's clientId output. Fix: ${FIX_CLIENT}`]);
        }
        return found.clientId;
    });
    const userPoolId = pulumi.output(client.then(() => primary.userPoolId));
    return {
        userPoolId,
        clientId: pulumi.output(client),
        jwksUri: userPoolId.apply(poolJwksUrl),
    };
}
