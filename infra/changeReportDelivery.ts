// The durable way of ChangeReports to Alexa: an SQS FIFO queue (one message group per user, so a
// user's events arrive in order), the retry consumer function that delivers them to the event
// gateway, a dead-letter queue for what could not be delivered, and the alarms that watch them:
// a dead letter; events that stop moving; a consumer that fails; users whose events find no grant.
// (What the operator must fix, from every function's log lines: infra/operatorAlarms.ts.)
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CONSUMER_ENVIRONMENT, createConsumerFromEnvironment, SEAL_STORED_GRANTS } from "../handler/changeReportConsumer";
import type { AlexaGrants } from "./alexaGrants";
import { functionLogsAndRole, functionRuntime, PACKAGES_NO_FUNCTION_CARRIES } from "./functionBasics";
import { METRIC_NAMESPACE, stackSlug } from "./operatorAlarms";

export interface ChangeReportDeliveryArgs {
    /** The skill's Alexa Client Id; the secret comes from the grants' parameter. */
    clientId: pulumi.Input<string>;
    grants: AlexaGrants;
    /** The skill's lamp table: a report goes out only while it still says what the lamp is. */
    lampTable: aws.dynamodb.Table;
    logRetentionDays?: number;
    /** Where the alarms notify (SNS topic ARNs). */
    alarmActions: pulumi.Input<string>[];
    /**
     * The other functions that write grants (the skill's, for AcceptGrant): the sealing run waits
     * for their new code, so that no earlier version's code stores a grant in the clear after it.
     */
    grantWriters: pulumi.Resource[];
}

/**
 * The consumer's time limit. It starts a record only with 20 s left (DELIVERY_RESERVE_MS), so a
 * batch of 10 gets at least two records through even when each takes its worst case.
 */
export const CONSUMER_TIMEOUT_SECONDS = 60;
/**
 * Lambda's SQS guide asks for a visibility timeout of at least six times the function's timeout
 * (docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, "Configuring a queue"); it is also the
 * pause between two deliveries of an event that must wait.
 */
export const VISIBILITY_TIMEOUT_SECONDS = 6 * CONSUMER_TIMEOUT_SECONDS;
/** Deliveries before the dead-letter queue: 40 x 6 minutes, four hours of an Alexa outage. */
export const MAX_RECEIVE_COUNT = 40;

/** A FIFO queue's name must end in .fifo (SQS Developer Guide, "FIFO queue and message identifiers"); at most 80 characters. */
function fifoName(kind: string): string {
    return `${stackSlug().slice(0, 80 - kind.length - 6)}-${kind}.fifo`;
}

/** A queued event older than this has stopped moving: the consumer is not taking the queue's messages. */
export const OLDEST_EVENT_ALARM_SECONDS = 3600;
/**
 * Events that found no grant (none stored, or one LWA proved dead) in an hour, above which someone
 * should look: a few users disabling the skill is normal; many at once is a table that is not the
 * grants' (alexaGrantsTable) or AcceptGrants that fail.
 */
export const EVENTS_WITHOUT_GRANT_PER_HOUR = 25;

export class ChangeReportDelivery extends pulumi.ComponentResource {
    readonly queue: aws.sqs.Queue;
    readonly deadLetterQueue: aws.sqs.Queue;
    readonly deadLetterAlarm: aws.cloudwatch.MetricAlarm;
    readonly oldestEventAlarm: aws.cloudwatch.MetricAlarm;
    readonly consumerErrorsAlarm: aws.cloudwatch.MetricAlarm;
    readonly withoutGrantAlarm: aws.cloudwatch.MetricAlarm;
    readonly role: aws.iam.Role;
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly function: aws.lambda.CallbackFunction<unknown, unknown>;
    readonly trigger: aws.lambda.EventSourceMapping;
    /** Seals, at the `up` that brings this version, the grants an earlier one stored in the clear. */
    readonly sealStoredGrants: aws.lambda.Invocation;

    constructor(name: string, args: ChangeReportDeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("smartlamp:events:ChangeReportDelivery", name, {}, opts);

        // Both queues hold events that exist nowhere else until Alexa has them: `retainOnDelete`
        // leaves them, and what waits in them, in AWS when events are switched off or the stack is
        // destroyed. Switching events on again declares the same names with the same attributes,
        // which SQS answers with the existing queue (API Reference, CreateQueue), waiting events and
        // all. Not `protect`: it would fail the `up` that switches events off (infra/alexaGrants.ts).
        this.deadLetterQueue = new aws.sqs.Queue(`${name}-dead-letters`, {
            name: fifoName("change-reports-dlq"),
            fifoQueue: true,
            messageRetentionSeconds: 14 * 24 * 3600,
            sqsManagedSseEnabled: true,
        }, { parent: this, retainOnDelete: true });

        this.queue = new aws.sqs.Queue(`${name}-queue`, {
            name: fifoName("change-reports"),
            fifoQueue: true,
            // Deduplication and throughput per user group (high-throughput FIFO).
            deduplicationScope: "messageGroup",
            fifoThroughputLimit: "perMessageGroupId",
            visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
            // SQS's longest: events waiting for a fix (or kept while events are off) outlive a
            // long weekend, and the age alarm below speaks long before.
            messageRetentionSeconds: 14 * 24 * 3600,
            sqsManagedSseEnabled: true,
            redrivePolicy: this.deadLetterQueue.arn.apply((deadLetterTargetArn) => JSON.stringify({ deadLetterTargetArn, maxReceiveCount: MAX_RECEIVE_COUNT })),
        }, { parent: this, retainOnDelete: true });

        // Any message in the dead-letter queue is an event Alexa never got: alarm at the first one.
        this.deadLetterAlarm = new aws.cloudwatch.MetricAlarm(`${name}-dead-letter-alarm`, {
            alarmDescription: "ChangeReports that could not be delivered to Alexa wait in the dead-letter queue (README: Alexa events and the companion app)",
            namespace: "AWS/SQS",
            metricName: "ApproximateNumberOfMessagesVisible",
            dimensions: { QueueName: this.deadLetterQueue.name },
            statistic: "Maximum",
            period: 60,
            evaluationPeriods: 1,
            threshold: 0,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            alarmActions: args.alarmActions,
            okActions: args.alarmActions,
        }, { parent: this });

        // Events that stop moving (the mapping disabled, the consumer unable to start) reach no
        // dead-letter queue: their age in the queue tells.
        this.oldestEventAlarm = new aws.cloudwatch.MetricAlarm(`${name}-oldest-event-alarm`, {
            alarmDescription: `A ChangeReport has waited in the queue for more than ${OLDEST_EVENT_ALARM_SECONDS / 60} minutes: the consumer is not delivering (see its log group and the operator alarm)`,
            namespace: "AWS/SQS",
            metricName: "ApproximateAgeOfOldestMessage",
            dimensions: { QueueName: this.queue.name },
            statistic: "Maximum",
            period: 300,
            evaluationPeriods: 1,
            threshold: OLDEST_EVENT_ALARM_SECONDS,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            alarmActions: args.alarmActions,
            okActions: args.alarmActions,
        }, { parent: this });

        ({ logGroup: this.logGroup, role: this.role } = functionLogsAndRole(name, this, args.logRetentionDays));

        // Each user's events that found no grant, counted from the consumer's lines.
        const withoutGrantMetric = `${stackSlug()}-events-without-grant`;
        new aws.cloudwatch.LogMetricFilter(`${name}-without-grant`, {
            logGroupName: this.logGroup.name,
            pattern: '{ ($.outcome = "forgotten") || ($.outcome = "dropped") }',
            metricTransformation: { name: withoutGrantMetric, namespace: METRIC_NAMESPACE, value: "1", unit: "Count" },
        }, { parent: this });
        this.withoutGrantAlarm = new aws.cloudwatch.MetricAlarm(`${name}-without-grant-alarm`, {
            alarmDescription: `More than ${EVENTS_WITHOUT_GRANT_PER_HOUR} events in an hour found no grant for their user: check alexaGrantsTable and the skill's AcceptGrant log lines`,
            namespace: METRIC_NAMESPACE,
            metricName: withoutGrantMetric,
            statistic: "Sum",
            period: 3600,
            evaluationPeriods: 1,
            threshold: EVENTS_WITHOUT_GRANT_PER_HOUR,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            alarmActions: args.alarmActions,
            okActions: args.alarmActions,
        }, { parent: this });

        // Only what the consumer does: log; read, refresh and forget grants; read lamps; read the secret; take
        // messages from the queue (what the event source mapping needs: Lambda Developer Guide,
        // services-sqs-configure.html, "Setting up Lambda execution role permissions"); put poison
        // events into the dead-letter queue.
        const policy = new aws.iam.RolePolicy(`${name}-policy`, {
            role: this.role.id,
            policy: pulumi.all([this.logGroup.arn, args.grants.tableArn, args.grants.secretParameter.arn, this.queue.arn, this.deadLetterQueue.arn, args.lampTable.arn, args.grants.keyArn])
                .apply(([logGroupArn, grantsArn, secretArn, queueArn, deadLetterArn, lampArn, keyArn]) => JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroupArn}:*` },
                        // Scan: only to seal the grants an earlier version stored in the clear (below).
                        { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Scan"], Resource: grantsArn },
                        { Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: lampArn },
                        { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: secretArn },
                        // Open and seal grants' tokens; open the secret's parameter.
                        { Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt"], Resource: keyArn },
                        { Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"], Resource: queueArn },
                        { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: deadLetterArn },
                    ],
                })),
        }, { parent: this });

        this.function = new aws.lambda.CallbackFunction(`${name}-consumer`, {
            callbackFactory: () => createConsumerFromEnvironment(),
            role: this.role,
            ...functionRuntime(this.logGroup),
            timeout: CONSUMER_TIMEOUT_SECONDS,
            environment: {
                variables: {
                    [CONSUMER_ENVIRONMENT.grantsTable]: args.grants.tableName,
                    [CONSUMER_ENVIRONMENT.grantsKey]: args.grants.keyArn,
                    [CONSUMER_ENVIRONMENT.lampTable]: args.lampTable.name,
                    [CONSUMER_ENVIRONMENT.alexaClientId]: args.clientId,
                    [CONSUMER_ENVIRONMENT.alexaSecretParameter]: args.grants.secretParameter.name,
                    [CONSUMER_ENVIRONMENT.deadLetterQueueUrl]: this.deadLetterQueue.url,
                },
            },
            // The consumer verifies no Cognito token: it needs none of aws-jwt-verify.
            codePathOptions: { extraExcludePackages: ["aws-jwt-verify", ...PACKAGES_NO_FUNCTION_CARRIES] },
        }, { parent: this, dependsOn: [policy] });

        // Grants an earlier version stored in the clear are sealed by this `up`, not at their next
        // use (a user who never changes the lamp in the companion app would keep them in the clear):
        // the consumer, which may seal grants, is invoked once with SEAL_STORED_GRANTS after its code
        // is updated, and again whenever the table or its key changes (a kept table named by
        // alexaGrantsTable). It fails, and the `up` with it, while one is left unsealed (the AWS
        // provider fails an invocation that answers a FunctionError: terraform-provider-aws
        // internal/service/lambda/invocation.go); every grant stays readable meanwhile.
        this.sealStoredGrants = new aws.lambda.Invocation(`${name}-seal-stored-grants`, {
            functionName: this.function.name,
            input: JSON.stringify(SEAL_STORED_GRANTS),
            triggers: { table: args.grants.tableName, key: args.grants.keyArn },
        }, { parent: this, dependsOn: [this.function, policy, ...args.grantWriters] });

        // A consumer that fails whole (a timeout, a start without its settings) hands its batches back
        // untouched; its own log lines may say nothing.
        this.consumerErrorsAlarm = new aws.cloudwatch.MetricAlarm(`${name}-consumer-errors-alarm`, {
            alarmDescription: "The ChangeReport consumer failed (a timeout, or it could not start): see its log group",
            namespace: "AWS/Lambda",
            metricName: "Errors",
            dimensions: { FunctionName: this.function.name },
            statistic: "Sum",
            period: 300,
            evaluationPeriods: 1,
            threshold: 0,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            alarmActions: args.alarmActions,
            okActions: args.alarmActions,
        }, { parent: this });

        this.trigger = new aws.lambda.EventSourceMapping(`${name}-trigger`, {
            eventSourceArn: this.queue.arn,
            functionName: this.function.name,
            batchSize: 10,
            // The consumer names the records to keep; the others are deleted (services-sqs-errorhandling.html).
            functionResponseTypes: ["ReportBatchItemFailures"],
        }, { parent: this, dependsOn: [policy] });

        this.registerOutputs({ queueUrl: this.queue.url, deadLetterQueueUrl: this.deadLetterQueue.url });
    }
}
