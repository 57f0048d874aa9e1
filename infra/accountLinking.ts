// The OAuth 2.0 server Alexa links accounts with: a Cognito user pool, its app client "alexa"
// (authorization code grant with a client secret) and the hosted domain that serves the login page
// and the /oauth2/authorize and /oauth2/token endpoints.
import { createHash } from "crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CustomDomain, EmailSender, FeaturePlan, MfaSetting, RESERVED_PREFIX_WORDS } from "./config";
import { poolJwksUrl } from "./poolJwks";
import { associateWebAcl } from "./poolWebAcl";

export interface AccountLinkingArgs {
    alexaRedirectUrls: string[];
    /** Further https callback URLs, e.g. for a test client. */
    extraCallbackUrls: string[];
    scopes: string[];
    refreshTokenValidityDays: number;
    accessTokenValidityMinutes: number;
    mfa: MfaSetting;
    featurePlan: FeaturePlan;
    /** Undefined: Cognito's own email sender. */
    email?: EmailSender;
    /** Undefined: derived from the account, region and stack. */
    domainPrefix?: string;
    customDomain?: CustomDomain;
    /** False: invite-only, accounts are made by an administrator. */
    selfSignUp: boolean;
    /** A regional AWS WAF web ACL to put in front of the pool; undefined: none. */
    wafWebAclArn?: string;
    region: string;
}

/** The pool and app client whose access tokens the skill function accepts. */
export interface PoolReference {
    userPoolId: pulumi.Output<string>;
    clientId: pulumi.Output<string>;
    /** Where the pool publishes the public keys of its tokens. */
    jwksUri: pulumi.Output<string>;
}

/**
 * A prefix that is valid for Cognito (lower case, no reserved words), stable for a stack and
 * different across accounts: Cognito prefixes are unique per region over all of AWS.
 */
export function derivedDomainPrefix(accountId: string, region: string, project: string, stack: string): string {
    let slug = stack.toLowerCase().replace(/[^a-z0-9]+/g, "-");
    // Removing a word can join its neighbours into another one ("aawsws" -> "aws"): repeat until
    // none is left. Each pass shortens the slug, so this ends.
    while (RESERVED_PREFIX_WORDS.some((word) => slug.includes(word))) {
        for (const word of RESERVED_PREFIX_WORDS) {
            slug = slug.split(word).join("");
        }
    }
    slug = slug.replace(/-+/g, "-").replace(/^-|-$/g, "").slice(0, 30).replace(/-$/, "");
    const hash = createHash("sha256").update([accountId, region, project, stack].join("/")).digest("hex").slice(0, 10);
    return ["smartlamp", slug, hash].filter((part) => part.length > 0).join("-");
}

export class AccountLinking extends pulumi.ComponentResource implements PoolReference {
    readonly userPool: aws.cognito.UserPool;
    readonly client: aws.cognito.UserPoolClient;
    readonly domain: aws.cognito.UserPoolDomain;

    readonly userPoolId: pulumi.Output<string>;
    readonly clientId: pulumi.Output<string>;
    readonly clientSecret: pulumi.Output<string>;
    readonly scopes: pulumi.Output<string[]>;
    readonly alexaRedirectUrls: pulumi.Output<string[]>;
    /** The host that serves the login page and the OAuth endpoints. */
    readonly domainHost: pulumi.Output<string>;
    readonly authorizationUri: pulumi.Output<string>;
    readonly accessTokenUri: pulumi.Output<string>;
    readonly accessTokenValidityMinutes: pulumi.Output<number>;
    readonly refreshTokenValidityDays: pulumi.Output<number>;
    readonly jwksUri: pulumi.Output<string>;
    /** The CNAME target for a custom domain (undefined for a prefix domain). */
    readonly customDomainTarget?: pulumi.Output<string>;
    /** With a custom domain: the hosted zone of an alias record to customDomainTarget. */
    readonly customDomainHostedZoneId?: pulumi.Output<string>;

    constructor(name: string, args: AccountLinkingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("smartlamp:linking:AccountLinking", name, {}, opts);

        // Every linked Alexa account points at a user in this pool: deleting or replacing the pool
        // would unlink every user for good. Hence deletion protection in AWS and `protect` in Pulumi.
        this.userPool = new aws.cognito.UserPool(`${name}-users`, {
            usernameAttributes: ["email"],
            usernameConfiguration: { caseSensitive: false },
            autoVerifiedAttributes: ["email"],
            // Invite-only takes the sign-up link off the hosted login page and refuses SignUp calls
            // (Cognito API reference, AdminCreateUserConfigType: AllowAdminCreateUserOnly); an
            // administrator's AdminCreateUser sends the new user a temporary password instead.
            adminCreateUserConfig: { allowAdminCreateUserOnly: !args.selfSignUp },
            accountRecoverySetting: { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] },
            passwordPolicy: {
                minimumLength: 12,
                requireLowercase: true,
                requireUppercase: true,
                requireNumbers: true,
                requireSymbols: true,
                temporaryPasswordValidityDays: 3,
            },
            // ON: TOTP required; the hosted login page walks a user without one through setting up
            // an authenticator app at sign-in (see README, Configuration).
            mfaConfiguration: args.mfa,
            softwareTokenMfaConfiguration: args.mfa === "ON" ? { enabled: true } : undefined,
            verificationMessageTemplate: { defaultEmailOption: "CONFIRM_WITH_CODE" },
            // Chosen, not defaulted: without it a new pool gets Essentials, at about three times
            // Lite's price per monthly active user, and Alexa makes every linked user active monthly.
            userPoolTier: args.featurePlan,
            // Cognito's own sender stops after about 50 emails a day; SES has no such limit.
            emailConfiguration: args.email
                ? { emailSendingAccount: "DEVELOPER", sourceArn: args.email.sourceArn, fromEmailAddress: args.email.from }
                : { emailSendingAccount: "COGNITO_DEFAULT" },
            deletionProtection: "ACTIVE",
            // No `schemas`: the standard email attribute needs none, and custom schema entries
            // without explicit constraints make every update plan a replacement of the pool.
        }, { parent: this, protect: true });

        this.client = new aws.cognito.UserPoolClient(`${name}-alexa-client`, {
            name: "alexa",
            userPoolId: this.userPool.id,
            generateSecret: true,
            allowedOauthFlows: ["code"],
            allowedOauthFlowsUserPoolClient: true,
            allowedOauthScopes: args.scopes,
            callbackUrls: [...args.alexaRedirectUrls, ...args.extraCallbackUrls],
            supportedIdentityProviders: ["COGNITO"],
            // Alexa refreshes the access token itself; the refresh token's lifetime is how long a
            // link lives without use. Cognito's default of 30 days unlinks everybody after a month.
            refreshTokenValidity: args.refreshTokenValidityDays,
            accessTokenValidity: args.accessTokenValidityMinutes,
            idTokenValidity: args.accessTokenValidityMinutes,
            tokenValidityUnits: { refreshToken: "days", accessToken: "minutes", idToken: "minutes" },
            enableTokenRevocation: true,
            preventUserExistenceErrors: "ENABLED",
            explicitAuthFlows: ["ALLOW_REFRESH_TOKEN_AUTH"],
            // Replacing the client gives it a new ID and secret: every refresh token Alexa holds
            // stops working and every user must link again. Hence `protect`.
        }, { parent: this, protect: true });

        const prefix = args.customDomain
            ? undefined
            : args.domainPrefix !== undefined
              ? pulumi.output(args.domainPrefix)
              : aws.getCallerIdentityOutput({}, { parent: this }).accountId.apply((account) =>
                    derivedDomainPrefix(account, args.region, pulumi.getProject(), pulumi.getStack()));

        this.domain = new aws.cognito.UserPoolDomain(`${name}-domain`, {
            userPoolId: this.userPool.id,
            domain: args.customDomain ? args.customDomain.domain : prefix!,
            certificateArn: args.customDomain?.certificateArn,
            // The classic hosted UI: login and sign-up pages with no branding resources to manage.
            managedLoginVersion: 1,
            // A new domain means new OAuth URIs: Alexa keeps refreshing at the old token URI, and
            // every user's refresh fails until account linking is updated. `protect` makes such a
            // change deliberate (README, "Changing the login domain"); Cognito allows one domain
            // of a kind per pool, so the old one must go before the new one is made.
        }, { parent: this, protect: true, deleteBeforeReplace: true });

        if (args.wafWebAclArn !== undefined) {
            associateWebAcl(`${name}-web-acl`, this.userPool.arn, args.wafWebAclArn, this);
        }

        this.domainHost = args.customDomain
            ? this.domain.domain
            : pulumi.interpolate`${this.domain.domain}.auth.${args.region}.amazoncognito.com`;
        this.customDomainTarget = args.customDomain ? this.domain.cloudfrontDistribution : undefined;
        this.customDomainHostedZoneId = args.customDomain ? this.domain.cloudfrontDistributionZoneId : undefined;
        this.userPoolId = this.userPool.id;
        this.clientId = this.client.id;
        this.clientSecret = pulumi.secret(this.client.clientSecret);
        this.scopes = pulumi.output(args.scopes);
        this.alexaRedirectUrls = pulumi.output(args.alexaRedirectUrls);
        this.authorizationUri = pulumi.interpolate`https://${this.domainHost}/oauth2/authorize`;
        this.accessTokenUri = pulumi.interpolate`https://${this.domainHost}/oauth2/token`;
        this.accessTokenValidityMinutes = pulumi.output(args.accessTokenValidityMinutes);
        this.refreshTokenValidityDays = pulumi.output(args.refreshTokenValidityDays);
        this.jwksUri = this.userPoolId.apply(poolJwksUrl);

        this.registerOutputs({
            userPoolId: this.userPoolId,
            clientId: this.clientId,
            authorizationUri: this.authorizationUri,
            accessTokenUri: this.accessTokenUri,
        });
    }
}
