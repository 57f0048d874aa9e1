// The Alexa skill configured by `pulumi up` itself, through the Skill Management API, instead of by
// pasting values into the developer console: this stack's Smart Home endpoint in the skill manifest
// and, on the primary stack, the skill's account linking. Used only when the three smapi* config
// values are set (README, "Deploy").
//
// Order, as Alexa needs it:
// 1. the Lambda permission for the skill exists (SMAPI refuses, as a FAILED manifest update, an
//    endpoint that Alexa cannot invoke);
// 2. the manifest holds the endpoint;
// 3. then account linking, since a manifest update can reset the account-linking settings.
import * as pulumi from "@pulumi/pulumi";
import type { AccountLinkingRequest } from "./accountLinkingRequest";
import { shownPart } from "./skillLinking";
import { SkillAccountLinkingProvider, SkillEndpointProvider, SkillMessagingCredentialsProvider } from "./skillProviders";

/** Where SMAPI and Login with Amazon answer (developer.amazon.com/docs/alexa/smapi/get-access-token-smapi.html). */
export const AMAZON_ENDPOINTS = Object.freeze({
    smapiBase: "https://api.amazonalexa.com",
    lwaTokenUrl: "https://api.amazon.com/auth/o2/token",
});

export interface SmapiCredentialInputs {
    clientId: pulumi.Output<string>;
    clientSecret: pulumi.Output<string>;
    refreshToken: pulumi.Output<string>;
}

export interface SkillConfigurationArgs {
    alexaSkillId: string;
    /** This stack's AWS region (us-east-1, eu-west-1 or us-west-2). */
    awsRegion: string;
    /** The skill function's ARN. */
    endpointArn: pulumi.Input<string>;
    /** The Lambda permission that lets the skill invoke the function: written before the endpoint. */
    invokePermission: pulumi.Resource;
    /** The primary stack owns the default endpoint and the account linking. */
    primary: boolean;
    /** The account-linking request body (a secret); used on the primary stack only. */
    accountLinkingRequest?: pulumi.Input<AccountLinkingRequest>;
    smapi: SmapiCredentialInputs;
    /** Amazon's endpoints by default; the tests point them at a local stand-in. */
    endpoints?: { smapiBase: string; lwaTokenUrl: string };
}

/** What every SMAPI resource takes to reach SMAPI: the three values as one secret, and the endpoints. */
function smapiConnection(smapi: SmapiCredentialInputs, endpoints: { smapiBase: string; lwaTokenUrl: string } = AMAZON_ENDPOINTS) {
    return {
        // One secret object: the provider gets it in each call, the state keeps it encrypted.
        credentials: pulumi.secret(pulumi.all([smapi.clientId, smapi.clientSecret, smapi.refreshToken])
            .apply(([clientId, clientSecret, refreshToken]) => ({ clientId, clientSecret, refreshToken }))),
        smapiBase: endpoints.smapiBase,
        lwaTokenUrl: endpoints.lwaTokenUrl,
    };
}


/** One region's Smart Home endpoint entries in the skill manifest. */
export class SkillManifestEndpoint extends pulumi.dynamic.Resource {
    declare readonly alexaRegion: pulumi.Output<string>;
    declare readonly liveRegionUri: pulumi.Output<string>;
    constructor(name: string, args: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
        super(new SkillEndpointProvider(), name, { alexaRegion: undefined, liveRegionUri: undefined, ...args },
            { ...opts, additionalSecretOutputs: ["credentials"] }, undefined, "SkillManifestEndpoint");
    }
}

/** The skill's account linking, development stage. */
export class SkillAccountLinking extends pulumi.dynamic.Resource {
    declare readonly drift: pulumi.Output<string[]>;
    constructor(name: string, args: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
        super(new SkillAccountLinkingProvider(), name, { drift: undefined, ...args },
            { ...opts, additionalSecretOutputs: ["credentials", "clientSecret"] }, undefined, "SkillAccountLinking");
    }
}

/** The skill's messaging credentials, read through SMAPI; both outputs are secrets. */
export class SkillMessagingCredentials extends pulumi.dynamic.Resource {
    declare readonly alexaClientId: pulumi.Output<string>;
    declare readonly alexaClientSecret: pulumi.Output<string>;
    constructor(name: string, args: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
        super(new SkillMessagingCredentialsProvider(), name, { alexaClientId: undefined, alexaClientSecret: undefined, ...args },
            { ...opts, additionalSecretOutputs: ["credentials", "alexaClientId", "alexaClientSecret"] }, undefined, "SkillMessagingCredentials");
    }
}

export class SkillConfiguration extends pulumi.ComponentResource {
    readonly endpoint: SkillManifestEndpoint;
    readonly accountLinking?: SkillAccountLinking;

    constructor(name: string, args: SkillConfigurationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("smartlamp:alexa:SkillConfiguration", name, {}, opts);

        const connection = smapiConnection(args.smapi, args.endpoints);

        this.endpoint = new SkillManifestEndpoint(`${name}-endpoint`, {
            ...connection,
            skillId: args.alexaSkillId,
            awsRegion: args.awsRegion,
            endpointUri: args.endpointArn,
            isDefault: args.primary,
        }, { parent: this, dependsOn: [args.invokePermission] });

        if (args.primary && args.accountLinkingRequest !== undefined) {
            // The body is a secret as a whole; only its client secret is one. The other fields go
            // in plain, so that `pulumi preview` shows which of them would change.
            const request = pulumi.output(args.accountLinkingRequest);
            this.accountLinking = new SkillAccountLinking(`${name}-account-linking`, {
                ...connection,
                skillId: args.alexaSkillId,
                accountLinking: pulumi.unsecret(request.apply(shownPart)),
                clientSecret: pulumi.secret(request.apply((body) => body.accountLinkingRequest.clientSecret)),
            }, { parent: this, dependsOn: [this.endpoint] });
        }

        this.registerOutputs({ alexaRegion: this.endpoint.alexaRegion });
    }
}

/**
 * The skill's Alexa Client Id and Secret for sending events, read from the skill through SMAPI so
 * that nothing is pasted (alexaEvents without alexaClientId/alexaClientSecret). Read before the
 * functions that use them; the skill must have its Send Alexa Events permission (set in the
 * console), or SMAPI answers 404 and `up` says so.
 */
export class SkillEventCredentials extends pulumi.ComponentResource {
    readonly credentials: SkillMessagingCredentials;
    /** Secrets both. */
    readonly clientId: pulumi.Output<string>;
    readonly clientSecret: pulumi.Output<string>;

    constructor(name: string, args: { alexaSkillId: string; smapi: SmapiCredentialInputs; endpoints?: { smapiBase: string; lwaTokenUrl: string } }, opts?: pulumi.ComponentResourceOptions) {
        super("smartlamp:alexa:SkillEventCredentials", name, {}, opts);
        this.credentials = new SkillMessagingCredentials(`${name}-messaging-credentials`, {
            ...smapiConnection(args.smapi, args.endpoints),
            skillId: args.alexaSkillId,
        }, { parent: this });
        this.clientId = pulumi.secret(this.credentials.alexaClientId);
        this.clientSecret = pulumi.secret(this.credentials.alexaClientSecret);
        this.registerOutputs({});
    }
}
