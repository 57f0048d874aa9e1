// A secondary region stack shares the primary's user pool and app client: a skill has exactly one
// account-linking configuration, so all regions verify tokens of the one pool.
import * as pulumi from "@pulumi/pulumi";
import { PoolReference } from "./accountLinking";
import { poolJwksUrl } from "./poolJwks";

/**
 * The pool and client the primary stack exports, read through a StackReference. Only the two
 * outputs every version of this program has exported are read (the rest is computed), so a primary
 * deployed by an older version serves a new secondary. The client secret is not read: a secondary
 * never needs it, and its outputs do not repeat it.
 */
export function poolFromPrimaryStack(stackName: string): PoolReference {
    const primary = new pulumi.StackReference("account-linking-primary", { name: stackName });
    const userPoolId = primary.requireOutput("userPoolId") as pulumi.Output<string>;
    return {
        userPoolId,
        clientId: primary.requireOutput("clientId") as pulumi.Output<string>,
        jwksUri: userPoolId.apply(poolJwksUrl),
    };
}
