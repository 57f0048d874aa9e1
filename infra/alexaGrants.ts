// What the skill keeps to send Alexa events: each user's LWA tokens (the grants table, written by
// AcceptGrant) and the skill's Alexa Client Secret (an SSM SecureString, read by the functions
// that talk to LWA). See handler/secret.ts for why the secret is a parameter and not an
// environment variable.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AlexaGrantsArgs {
    /** The skill's Alexa Client Secret, a Pulumi secret. */
    clientSecret: pulumi.Input<string>;
}

export class AlexaGrants extends pulumi.ComponentResource {
    readonly table: aws.dynamodb.Table;
    readonly secretParameter: aws.ssm.Parameter;

    constructor(name: string, args: AlexaGrantsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("smartlamp:events:AlexaGrants", name, {}, opts);

        // Every user's permission to send events. Without deletion protection and `protect`, a
        // destroy or a replacement would lose them all, and no event could reach Alexa until each
        // user disabled and enabled the skill again (Alexa sends AcceptGrant only then).
        this.table = new aws.dynamodb.Table(`${name}-table`, {
            billingMode: "PAY_PER_REQUEST",
            hashKey: "userId",
            attributes: [{ name: "userId", type: "S" }],
            pointInTimeRecovery: { enabled: true },
            deletionProtectionEnabled: true,
        }, { parent: this, protect: true });

        // SecureString under the account's AWS managed key (alias/aws/ssm): reading it needs only
        // ssm:GetParameter on this parameter (Systems Manager User Guide, "Restricting access to
        // Parameter Store parameters using IAM policies"). The value stays a Pulumi secret in state.
        this.secretParameter = new aws.ssm.Parameter(`${name}-client-secret`, {
            type: "SecureString",
            value: pulumi.secret(args.clientSecret),
            description: "The Alexa skill's Alexa Client Secret (Login with Amazon), for AcceptGrant and token refreshes",
        }, { parent: this });

        this.registerOutputs({ tableName: this.table.name, secretParameterName: this.secretParameter.name });
    }
}
