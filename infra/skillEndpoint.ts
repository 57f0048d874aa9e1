// The skill endpoint in one region: the Lambda Alexa calls with every directive (a CallbackFunction
// built from handler/), its table of lamps, its log group, a role with only what it uses, and the
// permission that lets exactly this skill invoke it.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHandlerFromEnvironment, ENVIRONMENT } from "../handler";
import { ALEXA_SMART_HOME_PRINCIPAL } from "./alexa";
import { PoolJwks } from "./poolJwks";
import type { AlexaGrants } from "./alexaGrants";
import { functionLogsAndRole, functionRuntime, PACKAGES_NO_FUNCTION_CARRIES } from "./functionBasics";

export interface SkillEndpointArgs {
    alexaSkillId: string;
    /** The pool whose access tokens the function accepts, and the app client they were issued to. */
    userPoolId: pulumi.Input<string>;
    clientId: pulumi.Input<string>;
    logRetentionDays?: number;
    /** With Alexa events on: the skill's Alexa Client Id and where grants and the secret are kept. */
    events?: { clientId: pulumi.Input<string>; grants: AlexaGrants };
}

/**
 * Alexa gives up on a directive after 8 s, and Amazon asks for a function timeout of at least that
 * (https://developer.amazon.com/en-US/docs/alexa/smarthome/troubleshooting-guide.html); the
 * function's own limits (JWKS and DynamoDB tries) answer before. Past 8 s nobody hears the answer:
 * keep the margin small (test/stack.test.ts holds it to 8..10 s).
 */
export const FUNCTION_TIMEOUT_SECONDS = 10;

/** Relative to the program's folder, where `npm ci` puts the package. */
export const ARCHIVED_FILES_OF_AWS_JWT_VERIFY = ["node_modules/aws-jwt-verify/package.json", "node_modules/aws-jwt-verify/dist/cjs"];

export class SkillEndpoint extends pulumi.ComponentResource {
    readonly table: aws.dynamodb.Table;
    readonly role: aws.iam.Role;
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly function: aws.lambda.CallbackFunction<unknown, unknown>;
    readonly permission: aws.lambda.Permission;
    /** The pool's public keys, handed to the function to spare a download at cold start. */
    readonly poolJwks: PoolJwks;
    /** What goes into the skill's Default endpoint in the Alexa console. */
    readonly arn: pulumi.Output<string>;

    constructor(name: string, args: SkillEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
        super("smartlamp:skill:SkillEndpoint", name, {}, opts);

        // Each user's lamp. Without deletion protection and `protect`, a destroy or a replacing
        // change would wipe every user's lamp state; point-in-time recovery undoes bad writes.
        this.table = new aws.dynamodb.Table(`${name}-lamps`, {
            billingMode: "PAY_PER_REQUEST",
            hashKey: "userId",
            attributes: [{ name: "userId", type: "S" }],
            pointInTimeRecovery: { enabled: true },
            deletionProtectionEnabled: true,
        }, { parent: this, protect: true });

        this.poolJwks = new PoolJwks(`${name}-pool-jwks`, { userPoolId: args.userPoolId }, { parent: this });

        ({ logGroup: this.logGroup, role: this.role } = functionLogsAndRole(name, this, args.logRetentionDays));

        // Only what the handler does: write its log lines, read and update lamp items; with events
        // on, also write a user's grant (AcceptGrant, its tokens sealed with the grants' key) and
        // read the client secret's parameter.
        const events = args.events;
        const policy = new aws.iam.RolePolicy(`${name}-policy`, {
            role: this.role.id,
            policy: pulumi.all([this.logGroup.arn, this.table.arn, events?.grants.tableArn, events?.grants.secretParameter.arn, events?.grants.keyArn])
                .apply(([logGroupArn, tableArn, grantsArn, secretArn, keyArn]) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroupArn}:*` },
                            { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: tableArn },
                            ...(grantsArn ? [{ Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: grantsArn }] : []),
                            ...(secretArn ? [{ Effect: "Allow", Action: ["ssm:GetParameter"], Resource: secretArn }] : []),
                            // Seal a new grant's tokens; open the secret's parameter.
                            ...(keyArn ? [{ Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt"], Resource: keyArn }] : []),
                        ],
                    })),
        }, { parent: this });

        this.function = new aws.lambda.CallbackFunction(`${name}-function`, {
            // Runs once per container: the token verifier (and its JWKS cache) lives across directives.
            callbackFactory: () => createHandlerFromEnvironment(),
            role: this.role,
            ...functionRuntime(this.logGroup),
            timeout: FUNCTION_TIMEOUT_SECONDS,
            environment: {
                variables: {
                    [ENVIRONMENT.userPoolId]: args.userPoolId,
                    [ENVIRONMENT.clientId]: args.clientId,
                    [ENVIRONMENT.tableName]: this.table.name,
                    [ENVIRONMENT.jwks]: this.poolJwks.jwks,
                    ...(events
                        ? {
                              [ENVIRONMENT.alexaClientId]: events.clientId,
                              [ENVIRONMENT.grantsTable]: events.grants.tableName,
                              [ENVIRONMENT.grantsKey]: events.grants.keyArn,
                              [ENVIRONMENT.alexaSecretParameter]: events.grants.secretParameter.name,
                          }
                        : {}),
                },
            },
            // aws-jwt-verify ships a CommonJS and an ES module build; `require` needs only the
            // first, so the archive carries that and the package.json that maps to it.
            codePathOptions: {
                extraExcludePackages: ["aws-jwt-verify", ...PACKAGES_NO_FUNCTION_CARRIES],
                extraIncludePaths: [...ARCHIVED_FILES_OF_AWS_JWT_VERIFY],
            },
        }, { parent: this, dependsOn: [policy] });

        // Alexa's Smart Home service may invoke the function only on behalf of this skill.
        this.permission = new aws.lambda.Permission(`${name}-alexa-trigger`, {
            action: "lambda:InvokeFunction",
            function: this.function.name,
            principal: ALEXA_SMART_HOME_PRINCIPAL,
            eventSourceToken: args.alexaSkillId,
        }, { parent: this });

        this.arn = this.function.arn;
        this.registerOutputs({ arn: this.arn, tableName: this.table.name });
    }
}
