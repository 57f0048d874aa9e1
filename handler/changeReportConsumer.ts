// The retry consumer's entry: Lambda hands it batches of queued ChangeReports from the FIFO queue
// (an SQS event source mapping with ReportBatchItemFailures), and it delivers them in order.
// A batch answer names the records to keep: for a FIFO queue, the first that must wait and every
// record after it, so that no user's later event overtakes an earlier one
// (docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html, "Implementing partial
// batch responses"). SQS redelivers those after the visibility timeout, and moves a record that
// failed maxReceiveCount times to the dead-letter queue, whose alarm then fires.
import { ChangeReport } from "./changeReport";
import { AwsJsonCall, createAwsJsonClient } from "./awsJson";
import { createEventSender, DeliverChangeReport } from "./eventGateway";
import { messageGroupOf, QueuedChangeReport, SQS_PROTOCOL } from "./eventQueue";
import { createGrantStore } from "./grantStore";
import { createLwaClient } from "./lwa";
import { userReference, writeLogLine } from "./log";
import { lwaCredentials } from "./secret";
import { requiredVariable } from "./environment";

/** The part of Lambda's SQS event this consumer reads. */
export interface SqsRecord {
    messageId: string;
    body: string;
    attributes?: { ApproximateReceiveCount?: string; MessageGroupId?: string };
}
export interface SqsEvent {
    Records: SqsRecord[];
}
export interface SqsBatchResponse {
    batchItemFailures: { itemIdentifier: string }[];
}

export interface ConsumerLog {
    messageId?: string;
    user?: string;
    outcome: string;
    reason?: string;
    receiveCount?: number;
}

export interface ConsumerDependencies {
    deliver: DeliverChangeReport;
    /** Keeps a poison event in the dead-letter queue at once (it would fail every retry). */
    deadLetter: (record: SqsRecord) => Promise<void>;
    log: (entry: ConsumerLog) => void;
}

/** The part of Lambda's context this consumer reads. */
export interface LambdaContext {
    getRemainingTimeInMillis(): number;
}

export type ChangeReportConsumer = (event: SqsEvent, context?: LambdaContext) => Promise<SqsBatchResponse>;

/**
 * The longest one delivery may take: three gateway tries of 3 s with backoff, an LWA refresh (two
 * tries of 2.5 s), the secret and grant reads. A record is started only with this much time left:
 * a function that timed out mid-batch would see its whole batch again, and Alexa would get the
 * events it had already accepted a second time.
 */
const DELIVERY_RESERVE_MS = 20_000;

function readQueued(body: string): QueuedChangeReport | undefined {
    try {
        const queued = JSON.parse(body);
        return typeof queued?.userId === "string" && typeof queued?.report?.event?.header?.messageId === "string" ? queued : undefined;
    } catch {
        return undefined;
    }
}

export function createChangeReportConsumer(deps: ConsumerDependencies): ChangeReportConsumer {
    return async (event, context) => {
        const records = Array.isArray(event?.Records) ? event.Records : [];
        for (let i = 0; i < records.length; i++) {
            const record = records[i];
            if (context && context.getRemainingTimeInMillis() < DELIVERY_RESERVE_MS) {
                // Out of time: this record and the rest come back after the visibility timeout, in order.
                deps.log({ outcome: "deferred", reason: `${records.length - i} records left for the next delivery: too little time left in this one` });
                return { batchItemFailures: records.slice(i).map((r) => ({ itemIdentifier: r.messageId })) };
            }
            const queued = readQueued(record.body);
            const entry: ConsumerLog = {
                messageId: queued?.report.event.header.messageId,
                user: queued ? userReference(queued.userId) : undefined,
                outcome: "",
                receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
            };
            let wait = false;
            if (!queued) {
                entry.outcome = "poison";
                entry.reason = "the record is not a queued ChangeReport";
            } else {
                const delivery = await deps.deliver(queued.userId, queued.report as ChangeReport);
                entry.outcome = delivery.outcome;
                entry.reason = "reason" in delivery ? delivery.reason : undefined;
                wait = delivery.outcome === "retry";
            }
            if (entry.outcome === "poison") {
                try {
                    await deps.deadLetter(record);
                } catch (err) {
                    entry.reason += `; the dead-letter queue could not take it (${err instanceof Error ? err.name : typeof err}), so it waits`;
                    wait = true;
                }
            }
            deps.log(entry);
            if (wait) {
                return { batchItemFailures: records.slice(i).map((r) => ({ itemIdentifier: r.messageId })) };
            }
        }
        return { batchItemFailures: [] };
    };
}

/** The environment variables the stack sets on the consumer. */
const CONSUMER_ENVIRONMENT = {
    grantsTable: "EVENTS_GRANTS_TABLE",
    alexaClientId: "EVENTS_ALEXA_CLIENT_ID",
    alexaSecretParameter: "EVENTS_ALEXA_SECRET_PARAMETER",
    deadLetterQueueUrl: "EVENTS_DEAD_LETTER_QUEUE_URL",
    /** Unset in AWS; tests point them at their stand-ins. */
    lwaTokenUrl: "EVENTS_LWA_TOKEN_URL",
    gatewayUrl: "EVENTS_GATEWAY_URL",
} as const;

const required = (env: NodeJS.ProcessEnv, name: string) => requiredVariable(env, name, "The ChangeReport consumer");

/** Sends a record to the dead-letter queue as it is, in its user's group. */
export function deadLetterTo(queueUrl: string, sqs: () => AwsJsonCall): (record: SqsRecord) => Promise<void> {
    return async (record) => {
        const queued = readQueued(record.body);
        await sqs()("SendMessage", {
            QueueUrl: queueUrl,
            MessageBody: record.body,
            MessageGroupId: queued ? messageGroupOf(queued.userId) : "unreadable",
            MessageDeduplicationId: record.messageId,
        });
    };
}

export function createConsumerFromEnvironment(env: NodeJS.ProcessEnv = process.env): ChangeReportConsumer {
    const gatewayOverride = env[CONSUMER_ENVIRONMENT.gatewayUrl];
    const deadLetterQueueUrl = required(env, CONSUMER_ENVIRONMENT.deadLetterQueueUrl);
    let sqs: AwsJsonCall | undefined;
    const deliver = createEventSender({
        grants: createGrantStore({ tableName: required(env, CONSUMER_ENVIRONMENT.grantsTable) }),
        lwa: createLwaClient({
            tokenUrl: env[CONSUMER_ENVIRONMENT.lwaTokenUrl] || undefined,
            credentials: lwaCredentials(required(env, CONSUMER_ENVIRONMENT.alexaClientId), required(env, CONSUMER_ENVIRONMENT.alexaSecretParameter)),
        }),
        gatewayUrl: gatewayOverride ? () => gatewayOverride : undefined,
    });
    return createChangeReportConsumer({
        deliver,
        deadLetter: deadLetterTo(deadLetterQueueUrl, () => (sqs ??= createAwsJsonClient(SQS_PROTOCOL, { region: env.AWS_REGION ?? "us-east-1" }))),
        log: (entry) => writeLogLine({ level: entry.outcome === "accepted" || entry.outcome === "dropped" ? "info" : entry.outcome === "retry" ? "warn" : "error", kind: "ChangeReport", ...entry }),
    });
}

// Exported here rather than at their declarations (see handler/lamp.ts).
export { CONSUMER_ENVIRONMENT, DELIVERY_RESERVE_MS };
