// What the skill keeps to send Alexa events: each user's LWA tokens (the grants table, written by
// AcceptGrant, the tokens sealed: handler/tokenSeal.ts) and the skill's Alexa Client Secret (an SSM
// SecureString, read by the functions that talk to LWA), both under a KMS key of the stack's own.
// See handler/secret.ts for why the secret is a parameter and not an environment variable.
//
// Why a key of its own, at about $1 a month for each region stack with events: under the AWS
// managed key aws/ssm, "the AWS managed key for Parameter Store (aws/ssm) grants Decrypt permission
// to all IAM principals in the AWS account" (Systems Manager User Guide, ps-restrict-decryption),
// and table items are read as they are: any role that may read DynamoDB or SSM (the managed
// ReadOnlyAccess, AmazonDynamoDBReadOnlyAccess, AmazonSSMReadOnlyAccess among them) would read every
// user's refresh token and the secret, and could send events as the skill. With this key, reading
// either also needs kms:Decrypt on it, which none of those policies grants; the stack grants it to
// the two functions that talk to LWA.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./config";

/** The tag that marks a grants table, so that alexaGrantsTable can only name one. */
export const GRANTS_TABLE_TAG = { key: "smartlamp:purpose", value: "alexa-grants" } as const;
/** The tag on a grants table that names the key its tokens are sealed with. */
export const GRANTS_KEY_TAG = "smartlamp:grants-key";

export interface AlexaGrantsArgs {
    /** The skill's Alexa Client Secret, a Pulumi secret. */
    clientSecret: pulumi.Input<string>;
    /**
     * The name of a grants table this stack kept when events were switched off (`alexaGrantsTable`):
     * used as it is, so its users need not re-enable the skill. Undefined: the stack makes its own.
     */
    existingTableName?: string;
}

/**
 * The key that seals a grants table's tokens and the secret's parameter. It outlives the stack's use
 * of it like the table whose tokens it seals: deleted, it would leave a kept table's grants
 * unreadable for good. KMS waits 30 days before it deletes a key in any case (a deletion can be
 * cancelled meanwhile).
 */
function grantsKey(name: string, parent: pulumi.Resource): aws.kms.Key {
    return new aws.kms.Key(name, {
        description: "Seals the Alexa event grants (LWA tokens) and the skill's Alexa Client Secret of this stack",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        // AWS's default key policy: the account's administrators, through IAM. Only the
        // functions that talk to LWA are given kms:Decrypt on it (infra/skillEndpoint.ts,
        // infra/changeReportDelivery.ts); read-only policies grant it to nobody.
        policy: aws.getCallerIdentityOutput({}, { parent }).accountId.apply((account) => JSON.stringify({
            Version: "2012-10-17",
            Statement: [{
                Sid: "AdministratorsThroughIam",
                Effect: "Allow",
                Principal: { AWS: `arn:aws:iam::${account}:root` },
                Action: "kms:*",
                Resource: "*",
            }],
        })),
    }, { parent, retainOnDelete: true });
}

export class AlexaGrants extends pulumi.ComponentResource {
    readonly tableName: pulumi.Output<string>;
    readonly tableArn: pulumi.Output<string>;
    /** The key the tokens and the secret are encrypted with: the functions that use them need kms:Decrypt on it. */
    readonly keyArn: pulumi.Output<string>;
    readonly secretParameter: aws.ssm.Parameter;

    constructor(name: string, args: AlexaGrantsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("smartlamp:events:AlexaGrants", name, {}, opts);

        if (args.existingTableName !== undefined) {
            // Read at preview and up alike: a name that is no table of this account and region
            // stops the program with AWS's ResourceNotFoundException before anything changes. A
            // table without the grants tag (the lamp table, say, whose key is also userId) is
            // refused: AcceptGrant would write over its items.
            const tableName = args.existingTableName;
            const kept = aws.dynamodb.getTableOutput({ name: tableName }, { parent: this }).apply((table) => {
                if (table.tags?.[GRANTS_TABLE_TAG.key] !== GRANTS_TABLE_TAG.value) {
                    throw new ConfigError([`alexaGrantsTable is ${JSON.stringify(tableName)}: that table is not a grants table of this project ` +
                        `(it lacks the tag ${GRANTS_TABLE_TAG.key}=${GRANTS_TABLE_TAG.value}); name the table of the alexaGrantsTableName output this stack had with events on. ` +
                        "Fix: pulumi config set alexaGrantsTable <table name>"]);
                }
                return table;
            });
            this.tableName = kept.name;
            this.tableArn = kept.arn;
            // Its tokens stay under the key it names, which this stack keeps using. A table kept by
            // a version before the key names none (its grants are in the clear): it gets a key now,
            // named on it by a tag, and the consumer seals its grants under that key at this up
            // (infra/changeReportDelivery.ts). Made inside apply: the look-up is answered at preview
            // as at up, so the preview shows both.
            this.keyArn = kept.apply((table) => {
                const named = table.tags?.[GRANTS_KEY_TAG];
                if (named) {
                    return pulumi.output(named);
                }
                const key = grantsKey(`${name}-key`, this);
                // Kept with the key: untagged when events go off, the table would get yet another key
                // when they come back, and its grants would stay sealed under this one.
                new aws.dynamodb.Tag(`${name}-key-tag`, { resourceArn: table.arn, key: GRANTS_KEY_TAG, value: key.arn }, { parent: this, retainOnDelete: true });
                return key.arn;
            });
        } else {
            const key = grantsKey(`${name}-key`, this);
            this.keyArn = key.arn;
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
                tags: { [GRANTS_TABLE_TAG.key]: GRANTS_TABLE_TAG.value, [GRANTS_KEY_TAG]: key.arn },
            }, { parent: this, retainOnDelete: true, ignoreChanges: ["name", "hashKey", "rangeKey", "attributes", "localSecondaryIndexes"] });
            this.tableName = table.name;
            this.tableArn = table.arn;
        }

        // A SecureString under the stack's key: reading it needs ssm:GetParameter on the parameter
        // and kms:Decrypt on the key (ps-restrict-decryption). The value stays a Pulumi secret in
        // state. (Pulumi reads it back decrypted after writing it: the deploying identity needs
        // kms:Decrypt too, which an administrator has through the key's policy.)
        // A new parameter, not the one earlier versions named `${name}-client-secret`: that one held
        // the secret under aws/ssm, and a new key on it would only add a version (the provider's
        // update is a PutParameter with Overwrite: terraform-provider-aws internal/service/ssm/
        // parameter.go), leaving the old versions readable through GetParameterHistory with
        // decryption by anyone who may read SSM. The upgrade deletes that parameter, every version
        // with it (DeleteParameter), once the functions read the new one.
        this.secretParameter = new aws.ssm.Parameter(`${name}-alexa-client-secret`, {
            type: "SecureString",
            keyId: this.keyArn,
            value: pulumi.secret(args.clientSecret),
            description: "The Alexa skill's Alexa Client Secret (Login with Amazon), for AcceptGrant and token refreshes",
        }, { parent: this });

        this.registerOutputs({ tableName: this.tableName, keyArn: this.keyArn, secretParameterName: this.secretParameter.name });
    }
}
