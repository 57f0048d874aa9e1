// The retry consumer's entry: Lambda hands it batches of queued ChangeReports from the FIFO queue
// (an SQS event source mapping with ReportBatchItemFailures), and it delivers them, each user's in
// order. A FIFO queue orders messages within a message group only (one group per user here), and
// holds back a group's later messages while one of it is in flight, never another group's (SQS
// Developer Guide, "FIFO queue logic", "Using the message group ID"). So the consumer works on each
// user's records in order and on different users' records at once, and a record that must wait
// holds back only the later records of its own group: the batch answer names them, and SQS
// redelivers them after the visibility timeout; the others are delivered now and deleted. (Lambda's
// guide asks a FIFO consumer to stop at the first failure and hand back all the rest,
// services-sqs-errorhandling.html, "Implementing partial batch responses": that keeps every group's
// order, and so does handing back each group's rest, without holding other users' events.)
// SQS moves a record that failed maxReceiveCount times to the dead-letter queue, whose alarm fires.
import { ChangeReport, stillCurrent } from "./changeReport";
import { AwsJsonCall, createAwsJsonClient } from "./awsJson";
import { createEventSender, DeliverChangeReport } from "./eventGateway";
import { messageGroupOf, QueuedChangeReport, SQS_PROTOCOL } from "./eventQueue";
import { classifyAwsFailure } from "./causes";
import { createGrantStore, GrantStore } from "./grantStore";
import { createLampStore } from "./lampStore";
import { createLwaClient } from "./lwa";
import { operatorField, userReference, writeLogLine } from "./log";
import { lwaCredentials } from "./secret";
import { createTokenSeal } from "./tokenSeal";
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
    /** accepted, superseded, dropped, forgotten, poison, wait, held, deferred, tokensNotStored; sealed, unsealed. */
    outcome: string;
    /** Whose problem it was, when the event did not go out (handler/causes.ts). */
    cause?: string;
    reason?: string;
    /** What the operator should do. */
    fix?: string;
    receiveCount?: number;
}

export interface ConsumerDependencies {
    deliver: DeliverChangeReport;
    /** Keeps a poison event in the dead-letter queue at once (it would fail every retry). */
    deadLetter: (record: SqsRecord) => Promise<void>;
    log: (entry: ConsumerLog) => void;
    now?: () => number;
}

/** The part of Lambda's context this consumer reads. */
export interface LambdaContext {
    getRemainingTimeInMillis(): number;
}

export type ChangeReportConsumer = (event: SqsEvent, context?: LambdaContext) => Promise<SqsBatchResponse>;

/**
 * A record is started only with this much of the function's time left: its reads, a token refresh
 * and the gateway's tries all fit (the delivery itself keeps to the deadline below). A function that
 * timed out mid-batch would see its whole batch again, and Alexa would get the events it had
 * already accepted a second time.
 */
const DELIVERY_RESERVE_MS = 20_000;
/** Deliveries end this long before the function's own limit: time to log and answer. */
const ANSWER_MARGIN_MS = 5_000;

/** The queued ChangeReport a record holds, as handler/eventQueue.ts queues it, or undefined. */
function readQueued(body: string): QueuedChangeReport | undefined {
    try {
        const queued = JSON.parse(body);
        const event = queued?.report?.event;
        const ok = typeof queued?.userId === "string" && typeof event?.header?.messageId === "string" &&
            typeof event.payload === "object" && event.payload !== null && typeof event.endpoint === "object" && event.endpoint !== null;
        return ok ? queued : undefined;
    } catch {
        return undefined;
    }
}

export function createChangeReportConsumer(deps: ConsumerDependencies): ChangeReportConsumer {
    const now = deps.now ?? Date.now;

    /** One record, start to end; true when it must wait (and hold back its group's later records). */
    async function consume(record: SqsRecord, deadline: number | undefined): Promise<boolean> {
        const queued = readQueued(record.body);
        const entry: ConsumerLog = {
            messageId: queued?.report.event.header.messageId,
            user: queued ? userReference(queued.userId) : undefined,
            outcome: "",
            receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
        };
        if (!queued) {
            Object.assign(entry, { outcome: "poison", cause: "ourBug", reason: "the record is not a queued ChangeReport" });
        } else {
            try {
                const { outcome, unstoredTokens, ...rest } = await deps.deliver(queued.userId, queued.report as ChangeReport, deadline);
                Object.assign(entry, { outcome, ...rest });
                if (unstoredTokens) {
                    // The event's own fate is logged below; this is about the user's grant.
                    deps.log({ messageId: entry.messageId, user: entry.user, outcome: "tokensNotStored", cause: unstoredTokens.cause,
                        reason: `LWA renewed the user's tokens, which could not be stored (${unstoredTokens.code}): kept in this container, stored at the user's next event`,
                        ...(unstoredTokens.fix ? { fix: unstoredTokens.fix } : {}) });
                }
            } catch (err) {
                // A record the consumer cannot handle is its bug: kept aside, and the batch goes on.
                Object.assign(entry, { outcome: "poison", cause: "ourBug", reason: `the record could not be handled (${err instanceof Error ? err.name : typeof err})` });
            }
        }
        let wait = entry.outcome === "wait";
        if (entry.outcome === "poison") {
            try {
                await deps.deadLetter(record);
            } catch (err) {
                entry.reason += `; the dead-letter queue could not take it (${err instanceof Error ? err.name : typeof err}), so it waits`;
                wait = true;
            }
        }
        deps.log(entry);
        return wait;
    }

    return async (event, context) => {
        const records = Array.isArray(event?.Records) ? event.Records : [];
        const deadline = context ? now() + context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS : undefined;
        // Each user's records, in the batch's order.
        const groups = new Map<string, SqsRecord[]>();
        for (const record of records) {
            const queued = readQueued(record.body);
            const group = record.attributes?.MessageGroupId ?? (queued ? messageGroupOf(queued.userId) : `unreadable ${record.messageId}`);
            groups.set(group, [...(groups.get(group) ?? []), record]);
        }
        const handedBack = new Set<string>();
        await Promise.all([...groups.values()].map(async (group) => {
            for (let i = 0; i < group.length; i++) {
                if (context && context.getRemainingTimeInMillis() < DELIVERY_RESERVE_MS) {
                    // Out of time: this record and the user's later ones come back after the visibility timeout, in order.
                    deps.log({ outcome: "deferred", reason: `${group.length - i} of this user's records left for the next delivery: too little time left in this one` });
                    group.slice(i).forEach((r) => handedBack.add(r.messageId));
                    return;
                }
                if (await consume(group[i], deadline)) {
                    group.slice(i).forEach((r) => handedBack.add(r.messageId));
                    if (i + 1 < group.length) {
                        deps.log({ outcome: "held", reason: `${group.length - i - 1} later records of the same user wait behind this one` });
                    }
                    return;
                }
            }
        }));
        return { batchItemFailures: records.filter((r) => handedBack.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId })) };
    };
}

/** The environment variables the stack sets on the consumer. */
const CONSUMER_ENVIRONMENT = {
    grantsTable: "EVENTS_GRANTS_TABLE",
    /** The KMS key the grants' tokens are sealed with (handler/tokenSeal.ts). */
    grantsKey: "EVENTS_GRANTS_KEY",
    alexaClientId: "EVENTS_ALEXA_CLIENT_ID",
    alexaSecretParameter: "EVENTS_ALEXA_SECRET_PARAMETER",
    deadLetterQueueUrl: "EVENTS_DEAD_LETTER_QUEUE_URL",
    /** The skill's lamp table: a report is sent only while it still says what the lamp is. */
    lampTable: "EVENTS_LAMP_TABLE",
    /** Unset in AWS; tests point them at their stand-ins. */
    lwaTokenUrl: "EVENTS_LWA_TOKEN_URL",
    gatewayUrl: "EVENTS_GATEWAY_URL",
} as const;

const required = (env: NodeJS.ProcessEnv, name: string) => requiredVariable(env, name, "The ChangeReport consumer");

/**
 * error: the operator must act (our configuration, our bug, an event in the dead-letter queue);
 * warn: an event that could not reach a user (no grant, a forgotten one), or a service failed for
 * a while; info: all went as it should.
 */
export function consumerLogLevel(entry: ConsumerLog): "info" | "warn" | "error" {
    if (entry.outcome === "poison" || entry.cause === "configuration" || entry.cause === "ourBug") {
        return "error";
    }
    return ["accepted", "superseded", "held", "sealed"].includes(entry.outcome) ? "info" : "warn";
}

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

/**
 * What `pulumi up` sends the consumer once (an aws.lambda.Invocation: infra/changeReportDelivery.ts)
 * instead of a batch: seal the grants an earlier version stored in the clear.
 */
const SEAL_STORED_GRANTS = { smartlamp: "seal-stored-grants" } as const;

function isSealRequest(event: unknown): boolean {
    return (event as { smartlamp?: unknown } | undefined)?.smartlamp === SEAL_STORED_GRANTS.smartlamp;
}

/**
 * Seals every grant stored in the clear before the function's time runs out. Fails (and so fails
 * the `up` that asked) when one cannot be sealed, or when some are left: the error says what to
 * do, and every grant stays as it was, readable.
 */
export async function sealStoredGrants(grants: GrantStore, deadline: number, log: (entry: ConsumerLog) => void): Promise<{ sealed: number }> {
    let result: { sealed: number; done: boolean };
    try {
        result = await grants.sealStoredInTheClear(deadline);
    } catch (err) {
        const answer = classifyAwsFailure(err);
        log({ outcome: "unsealed", cause: answer.cause, reason: `a grant stored in the clear could not be sealed (${answer.code})`, fix: answer.fix });
        throw new Error(`The grants an earlier version stored in the clear could not all be sealed: ${answer.code} (${answer.cause})` +
            `${answer.fix ? `; ${answer.fix}` : ""}. Every grant is kept as it was; run pulumi up again once it is fixed.`);
    }
    log({ outcome: result.done ? "sealed" : "unsealed", reason: `${result.sealed} grant(s) stored in the clear sealed${result.done ? ", none left" : ", more left"}` });
    if (!result.done) {
        throw new Error(`${result.sealed} grant(s) stored in the clear were sealed, and more are left than one run could seal: run pulumi up again to go on.`);
    }
    return { sealed: result.sealed };
}

export function createConsumerFromEnvironment(env: NodeJS.ProcessEnv = process.env): (event: SqsEvent | typeof SEAL_STORED_GRANTS, context?: LambdaContext) => Promise<SqsBatchResponse | { sealed: number }> {
    const gatewayOverride = env[CONSUMER_ENVIRONMENT.gatewayUrl];
    const deadLetterQueueUrl = required(env, CONSUMER_ENVIRONMENT.deadLetterQueueUrl);
    let sqs: AwsJsonCall | undefined;
    const lamps = createLampStore({ tableName: required(env, CONSUMER_ENVIRONMENT.lampTable) });
    const log = (entry: ConsumerLog) => writeLogLine({ level: consumerLogLevel(entry), kind: "ChangeReport", ...entry, ...operatorField(entry.cause) });
    const grants = createGrantStore({
        tableName: required(env, CONSUMER_ENVIRONMENT.grantsTable),
        seal: createTokenSeal({ keyId: required(env, CONSUMER_ENVIRONMENT.grantsKey) }),
        onUnsealed: (err) => {
            const answer = classifyAwsFailure(err);
            log({ outcome: "unsealed", cause: answer.cause, reason: `a grant read in the clear could not be sealed in place (${answer.code}); it was read all the same`, fix: answer.fix });
        },
    });
    const deliver = createEventSender({
        grants,
        stillCurrent: async (userId, report) => stillCurrent(report, await lamps.read(userId)),
        lwa: createLwaClient({
            tokenUrl: env[CONSUMER_ENVIRONMENT.lwaTokenUrl] || undefined,
            credentials: lwaCredentials(required(env, CONSUMER_ENVIRONMENT.alexaClientId), required(env, CONSUMER_ENVIRONMENT.alexaSecretParameter)),
        }),
        gatewayUrl: gatewayOverride ? () => gatewayOverride : undefined,
    });
    const consume = createChangeReportConsumer({
        deliver,
        deadLetter: deadLetterTo(deadLetterQueueUrl, () => (sqs ??= createAwsJsonClient(SQS_PROTOCOL, { region: env.AWS_REGION ?? "us-east-1" }))),
        log,
    });
    return async (event, context) => isSealRequest(event)
        ? sealStoredGrants(grants, Date.now() + (context?.getRemainingTimeInMillis() ?? 60_000) - ANSWER_MARGIN_MS, log)
        : consume(event as SqsEvent, context);
}

// Exported here rather than at their declarations (see handler/lamp.ts).
export { CONSUMER_ENVIRONMENT, DELIVERY_RESERVE_MS, ANSWER_MARGIN_MS, SEAL_STORED_GRANTS };
