// A secondary region stack shares the primary's user pool and app client: a skill has exactly one
// account-linking configuration, so all regions verify tokens of the one pool.
import * as pulumi from "@pulumi/pulumi";
import { LinkingValues } from "./accountLinking";

/** The linking values that the primary stack exports, read through a StackReference. */
export function linkingFromPrimaryStack(stackName: string): LinkingValues {
    const primary = new pulumi.StackReference("account-linking-primary", { name: stackName });
    const text = (name: string) => primary.requireOutput(name) as pulumi.Output<string>;
    return {
        authorizationUri: text("authorizationUri"),
        accessTokenUri: text("accessTokenUri"),
        clientId: text("clientId"),
        clientSecret: pulumi.secret(text("clientSecret")),
        scopes: primary.requireOutput("scopes") as pulumi.Output<string[]>,
        alexaRedirectUrls: primary.requireOutput("alexaRedirectUrls") as pulumi.Output<string[]>,
        userPoolId: text("userPoolId"),
        accessTokenValidityMinutes: primary.requireOutput("accessTokenValidityMinutes") as pulumi.Output<number>,
        refreshTokenValidityDays: primary.requireOutput("refreshTokenValidityDays") as pulumi.Output<number>,
        jwksUri: text("jwksUri"),
    };
}
