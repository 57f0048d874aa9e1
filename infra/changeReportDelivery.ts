// The durable way of ChangeReports to Alexa: an SQS FIFO queue (one message group per user, so a
// user's events arrive in order), the retry consumer function that delivers them to the event
// gateway, a dead-letter queue for what could not be delivered, and two alarms: one on that queue,
// one on the log lines that say the operator must act (our configuration or our bug; see
// handler/causes.ts), from the consumer and from the skill function's AcceptGrant.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CONSUMER_ENVIRONMENT, createConsumerFromEnvironment } from "../handler/changeReportConsumer";
import type { AlexaGrants } from "./alexaGrants";
import { functionLogsAndRole, functionRuntime } from "./functionBasics";

export interface ChangeReportDeliveryArgs {
    /** The skill's Alexa Client Id; the secret comes from the grants' parameter. */
    clientId: pulumi.Input<string>;
    grants: AlexaGrants;
    /** The skill's lamp table: a report goes out only while it still says what the lamp is. */
    lampTable: aws.dynamodb.Table;
    /** The skill function's log group: its AcceptGrant lines count for the operator alarm too. */
    skillLogGroup: aws.cloudwatch.LogGroup;
    logRetentionDays?: number;
    /** Where both alarms notify (SNS topic ARNs); none: they only show in CloudWatch. */
    alarmActions?: pulumi.Input<string>[];
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

/** The project and stack in the letters SQS and CloudWatch take in names: a-z, 0-9, - and _. */
function stackSlug(): string {
    return `${pulumi.getProject()}-${pulumi.getStack()}`.toLowerCase().replace(/[^a-z0-9_-]+/g, "-");
}

/** A FIFO queue's name must end in .fifo (SQS Developer Guide, "FIFO queue and message identifiers"); at most 80 characters. */
function fifoName(kind: string): string {
    return `${stackSlug().slice(0, 80 - kind.length - 6)}-${kind}.fifo`;
}

/**
 * The log lines that need the operator: the functions write one JSON object per line to stdout,
 * which Lambda hands to CloudWatch Logs as one event each, and a JSON filter pattern matches its
 * fields (CloudWatch Logs User Guide, "Filter pattern syntax for metric filters", JSON log events).
 */
export const OPERATOR_NEEDED_PATTERN = '{ ($.cause = "configuration") || ($.cause = "ourBug") }';
/** Where the metric filters count those lines; the metric's name carries the stack. */
export const OPERATOR_METRIC_NAMESPACE = "SmartLamp/Events";

export class ChangeReportDelivery extends pulumi.ComponentResource {
    readonly queue: aws.sqs.Queue;
    readonly deadLetterQueue: aws.sqs.Queue;
    readonly deadLetterAlarm: aws.cloudwatch.MetricAlarm;
    /** Fires when a log line says our configuration or our code keeps events from Alexa. */
    readonly operatorAlarm: aws.cloudwatch.MetricAlarm;
    readonly role: aws.iam.Role;
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly function: aws.lambda.CallbackFunction<unknown, unknown>;
    readonly trigger: aws.lambda.EventSourceMapping;

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
            messageRetentionSeconds: 4 * 24 * 3600,
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
            alarmActions: args.alarmActions ?? [],
        }, { parent: this });

        ({ logGroup: this.logGroup, role: this.role } = functionLogsAndRole(name, this, args.logRetentionDays));

        // One metric for both functions' lines that need the operator; the alarm fires at the first.
        const metricName = `${stackSlug()}-operator-needed`;
        [args.skillLogGroup, this.logGroup].forEach((logGroup, i) => new aws.cloudwatch.LogMetricFilter(`${name}-operator-needed-${i === 0 ? "skill" : "consumer"}`, {
            logGroupName: logGroup.name,
            pattern: OPERATOR_NEEDED_PATTERN,
            metricTransformation: { name: metricName, namespace: OPERATOR_METRIC_NAMESPACE, value: "1", unit: "Count" },
        }, { parent: this }));
        this.operatorAlarm = new aws.cloudwatch.MetricAlarm(`${name}-operator-alarm`, {
            alarmDescription: "Events are held or refused because of this stack's configuration or code: the log lines with cause configuration or ourBug say what to fix (README: Alexa events and the companion app)",
            namespace: OPERATOR_METRIC_NAMESPACE,
            metricName,
            statistic: "Sum",
            period: 300,
            evaluationPeriods: 1,
            threshold: 0,
            comparisonOperator: "GreaterThanThreshold",
            // No line, no figure: the alarm stays (or goes back to) OK.
            treatMissingData: "notBreaching",
            alarmActions: args.alarmActions ?? [],
        }, { parent: this });

        // Only what the consumer does: log; read, refresh and forget grants; read lamps; read the secret; take
        // messages from the queue (what the event source mapping needs: Lambda Developer Guide,
        // services-sqs-configure.html, "Setting up Lambda execution role permissions"); put poison
        // events into the dead-letter queue.
        const policy = new aws.iam.RolePolicy(`${name}-policy`, {
            role: this.role.id,
            policy: pulumi.all([this.logGroup.arn, args.grants.tableArn, args.grants.secretParameter.arn, this.queue.arn, this.deadLetterQueue.arn, args.lampTable.arn])
                .apply(([logGroupArn, grantsArn, secretArn, queueArn, deadLetterArn, lampArn]) => JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroupArn}:*` },
                        { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], Resource: grantsArn },
                        { Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: lampArn },
                        { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: secretArn },
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
                    [CONSUMER_ENVIRONMENT.lampTable]: args.lampTable.name,
                    [CONSUMER_ENVIRONMENT.alexaClientId]: args.clientId,
                    [CONSUMER_ENVIRONMENT.alexaSecretParameter]: args.grants.secretParameter.name,
                    [CONSUMER_ENVIRONMENT.deadLetterQueueUrl]: this.deadLetterQueue.url,
                },
            },
            // The consumer verifies no Cognito token: it needs none of aws-jwt-verify.
            codePathOptions: { extraExcludePackages: ["aws-jwt-verify"] },
        }, { parent: this, dependsOn: [policy] });

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
