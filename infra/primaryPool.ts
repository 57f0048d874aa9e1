// A secondary region stack verifies tokens of the primary's pool: a skill has exactly one
// account-linking configuration, so all regions accept tokens of the one pool and app client.
// The two IDs come from config rather than from a StackReference to the primary, whose recorded
// outputs would put the client secret into every secondary's state (and tie all stacks to one
// secrets passphrase). Neither ID is a secret.
import * as pulumi from "@pulumi/pulumi";
import { PoolReference } from "./accountLinking";
import { PrimaryPool } from "./config";
import { poolJwksUrl } from "./poolJwks";

export function primaryPoolReference(primary: PrimaryPool): PoolReference {
    return {
        userPoolId: pulumi.output(primary.userPoolId),
        clientId: pulumi.output(primary.clientId),
        jwksUri: pulumi.output(poolJwksUrl(primary.userPoolId)),
    };
}
