// What the skill keeps to send Alexa events: each user's LWA tokens (the grants table, written by
// AcceptGrant) and the skill's Alexa Client Secret (an SSM SecureString, read by the functions
// that talk to LWA). See handler/secret.ts for why the secret is a parameter and not an
// environment variable.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./config";

/** The tag that marks a grants table, so that alexaGrantsTable can only name one. */
export const GRANTS_TABLE_TAG = { key: "smartlamp:purpose", value: "alexa-grants" } as const;

export interface AlexaGrantsArgs {
    /** The skill's Alexa Client Secret, a Pulumi secret. */
    clientSecret: pulumi.Input<string>;
    /**
     * The name of a grants table this stack kept when events were switched off (`alexaGrantsTable`):
     * used as it is, so its users need not re-enable the skill. Undefined: the stack makes its own.
     */
    existingTableName?: string;
}

export class AlexaGrants extends pulumi.ComponentResource {
    readonly tableName: pulumi.Output<string>;
    readonly tableArn: pulumi.Output<string>;
    readonly secretParameter: aws.ssm.Parameter;

    constructor(name: string, args: AlexaGrantsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("smartlamp:events:AlexaGrants", name, {}, opts);

        if (args.existingTableName !== undefined) {
            // Read at preview and up alike: a name that is no table of this account and region
            // stops the program with AWS's ResourceNotFoundException before anything changes. A
            // table without the grants tag (the lamp table, say, whose key is also userId) is
            // refused: AcceptGrant would write over its items.
            const name = args.existingTableName;
            const kept = aws.dynamodb.getTableOutput({ name }, { parent: this }).apply((table) => {
                if (table.tags?.[GRANTS_TABLE_TAG.key] !== GRANTS_TABLE_TAG.value) {
                    throw new ConfigError([`alexaGrantsTable is ${JSON.stringify(name)}: that table is not a grants table of this project ` +
                        `(it lacks the tag ${GRANTS_TABLE_TAG.key}=${GRANTS_TABLE_TAG.value}); name the table of the alexaGrantsTableName output this stack had with events on. ` +
                        "Fix: pulumi config set alexaGrantsTable <table name>"]);
                }
                return table;
            });
            this.tableName = kept.name;
            this.tableArn = kept.arn;
        } else {
            // Every user's permission to send events: only the user's re-enabling the skill makes one
            // again (Alexa sends AcceptGrant only then). So the table outlives the stack's use of it:
            // `retainOnDelete` leaves it in AWS, grants and all, when events are switched off or the
            // stack is destroyed (the engine then only drops it from the state: pulumi/pulumi
            // pkg/resource/deploy/step.go, DeleteStep.Apply), and deletion protection stops anyone
            // deleting it by hand. Not `protect`: a protected resource that leaves the program fails
            // the whole `up` (same function, deleteProtectedError), and switching events off must not.
            // What `protect` did against a replacement (a new, empty table, the old one kept aside)
            // `ignoreChanges` does here: a change to the settings that replace a table (its name
            // and key: pulumi-aws dynamodb.Table) is not applied.
            const table = new aws.dynamodb.Table(`${name}-table`, {
                billingMode: "PAY_PER_REQUEST",
                hashKey: "userId",
                attributes: [{ name: "userId", type: "S" }],
                pointInTimeRecovery: { enabled: true },
                deletionProtectionEnabled: true,
                tags: { [GRANTS_TABLE_TAG.key]: GRANTS_TABLE_TAG.value },
            }, { parent: this, retainOnDelete: true, ignoreChanges: ["name", "hashKey", "rangeKey", "attributes", "localSecondaryIndexes"] });
            this.tableName = table.name;
            this.tableArn = table.arn;
        }

        // SecureString under the account's AWS managed key (alias/aws/ssm): reading it needs only
        // ssm:GetParameter on this parameter (Systems Manager User Guide, "Restricting access to
        // Parameter Store parameters using IAM policies"). The value stays a Pulumi secret in state.
        this.secretParameter = new aws.ssm.Parameter(`${name}-client-secret`, {
            type: "SecureString",
            value: pulumi.secret(args.clientSecret),
            description: "The Alexa skill's Alexa Client Secret (Login with Amazon), for AcceptGrant and token refreshes",
        }, { parent: this });

        this.registerOutputs({ tableName: this.tableName, secretParameterName: this.secretParameter.name });
    }
}
