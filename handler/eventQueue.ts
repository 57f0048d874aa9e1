// The durable way to Alexa: every ChangeReport goes into an SQS FIFO queue and the retry consumer
// (handler/changeReportConsumer.ts) delivers it. Why always the queue, not only after a failed
// send: a user's events must reach Alexa in order, and FIFO message groups (one per user) give
// exactly that; a direct send racing ahead of queued ones would let an old state overwrite a new
// one in the Alexa app. The deduplication id is the event's messageId, so a retried SendMessage
// is not doubled within SQS's 5-minute window.
// Protocol: AWS JSON 1.0, X-Amz-Target AmazonSQS.SendMessage
// (docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html). The
// project's own signed client costs well under a millisecond to load; the AWS SDK's clients cost
// about 100 ms of cold start (README "Performance").
import { createHash } from "crypto";
import { ChangeReport } from "./changeReport";
import { AwsJsonCall, AwsJsonProtocol, createAwsJsonClient } from "./awsJson";

const SQS_PROTOCOL: AwsJsonProtocol = {
    service: "sqs",
    targetPrefix: "AmazonSQS",
    contentType: "application/x-amz-json-1.0",
    endpointVariable: "AWS_ENDPOINT_URL_SQS",
    displayName: "SQS",
};

/** A queued event: whose it is, and the report without a token. */
export interface QueuedChangeReport {
    userId: string;
    report: ChangeReport;
}

export type EnqueueChangeReport = (userId: string, report: ChangeReport) => Promise<void>;

export interface EventQueueSettings {
    queueUrl: string;
    sqs?: AwsJsonCall;
}

/** The FIFO group of a user's events: one per user, not the user's id itself. */
export function messageGroupOf(userId: string): string {
    return createHash("sha256").update("events:" + userId).digest("hex").slice(0, 32);
}

export function createEventQueue(settings: EventQueueSettings): EnqueueChangeReport {
    let sqs = settings.sqs;
    return async (userId, report) => {
        sqs ??= createAwsJsonClient(SQS_PROTOCOL, { region: process.env.AWS_REGION ?? "us-east-1" });
        const body: QueuedChangeReport = { userId, report };
        await sqs("SendMessage", {
            QueueUrl: settings.queueUrl,
            MessageBody: JSON.stringify(body),
            MessageGroupId: messageGroupOf(userId),
            MessageDeduplicationId: report.event.header.messageId,
        });
    };
}

// Exported here rather than at its declaration (see handler/lamp.ts).
export { SQS_PROTOCOL };
