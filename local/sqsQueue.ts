// A stand-in for Amazon SQS on 127.0.0.1 (AWS JSON 1.0 protocol), holding FIFO queues, and a model
// of Lambda's SQS event source mapping that feeds a queue's messages to a consumer as Lambda would.
// There is no SQS implementation on this machine; the behaviour modeled, and where it comes from:
// - SendMessage (X-Amz-Target AmazonSQS.SendMessage) answers 200 {MD5OfMessageBody, MessageId,
//   SequenceNumber}; a FIFO queue requires MessageGroupId (400 MissingParameter without) and, without
//   content-based deduplication, MessageDeduplicationId; a message whose deduplication id was seen
//   in the last 5 minutes is accepted and not queued again (same MessageId):
//   docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html, and the
//   Developer Guide's "Exactly-once processing" for FIFO queues
// - 400 QueueDoesNotExist for an unknown QueueUrl (API reference, Common Errors); a request whose
//   Host header or Signature V4 does not hold is refused as AWS refuses it (local/sigv4.ts)
// - 400 for a request that is not `Content-Type: application/x-amz-json-1.0`, the header the AWS
//   JSON protocol's requests carry (SQS Developer Guide, "Making query API requests using AWS JSON
//   protocol"); the error type it answers with is this stand-in's own
// - the event source mapping (docs.aws.amazon.com/lambda/latest/dg/with-sqs.html and
//   services-sqs-errorhandling.html): a batch holds messages in queue order, each group's in order;
//   records carry messageId, receiptHandle, body, attributes (ApproximateReceiveCount,
//   MessageGroupId, MessageDeduplicationId, SequenceNumber, SentTimestamp...), eventSource
//   "aws:sqs"; with ReportBatchItemFailures the records named in batchItemFailures stay in the
//   queue and every other one is deleted; a message received more than maxReceiveCount times is
//   moved to the dead-letter queue (the redrive policy, Developer Guide "Using dead-letter queues").
import { createHash, randomUUID } from "crypto";
import { createServer } from "http";
import { interruptible, Interruptible } from "./interruptible";
import { signatureRefusal } from "./sigv4";
import { requestBody } from "./requestBody";

export interface QueuedMessage {
    messageId: string;
    body: string;
    groupId: string;
    deduplicationId: string;
    sequenceNumber: string;
    sentTimestamp: number;
    receiveCount: number;
    /** Until when (Date.now()) a received message stays invisible; 0: visible. */
    invisibleUntil?: number;
}

export interface LocalQueue {
    url: string;
    arn: string;
    messages: QueuedMessage[];
}

export interface LocalSqs {
    endpoint: string;
    outage: Interruptible;
    /** `url`: the QueueUrl clients send to (default: one on this stand-in). */
    createFifoQueue(name: string, url?: string): LocalQueue;
    /** SendMessage requests received (accepted or not). */
    sends: number;
    stop(): Promise<void>;
}

const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;

export async function startLocalSqs(): Promise<LocalSqs> {
    const queues = new Map<string, LocalQueue & { seen: Map<string, { messageId: string; at: number }> }>();
    let sequence = 0;
    const state = { sends: 0 };
    let base = "";
    let listening = "";

    const server = createServer((req, res) => {
        void requestBody(req).then(async (text): Promise<void> => {
            const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/x-amz-json-1.0" }).end(JSON.stringify(body));
            const error = (type: string, message: string) => json(400, { __type: `com.amazonaws.sqs#${type}`, message });
            const unsigned = await signatureRefusal(req, text, "sqs", listening);
            if (unsigned) {
                return void json(unsigned.status, { __type: `com.amazonaws.sqs#${unsigned.type}`, message: unsigned.message });
            }
            if (req.headers["x-amz-target"] !== "AmazonSQS.SendMessage") {
                return void error("InvalidAction", "The action or operation requested is invalid.");
            }
            if (req.headers["content-type"] !== "application/x-amz-json-1.0") {
                return void error("UnsupportedContentType", "The request is not AWS JSON 1.0.");
            }
            state.sends++;
            const input = JSON.parse(text);
            const queue = queues.get(input.QueueUrl);
            if (!queue) {
                return void error("QueueDoesNotExist", "The specified queue does not exist.");
            }
            if (!input.MessageGroupId) {
                return void error("MissingParameter", "The request must contain the parameter MessageGroupId.");
            }
            if (!input.MessageDeduplicationId) {
                return void error("InvalidParameterValue", "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly");
            }
            const md5 = createHash("md5").update(input.MessageBody).digest("hex");
            const seen = queue.seen.get(input.MessageDeduplicationId);
            if (seen && Date.now() - seen.at < DEDUPLICATION_WINDOW_MS) {
                return void json(200, { MD5OfMessageBody: md5, MessageId: seen.messageId, SequenceNumber: String(sequence) });
            }
            const message: QueuedMessage = {
                messageId: randomUUID(),
                body: input.MessageBody,
                groupId: input.MessageGroupId,
                deduplicationId: input.MessageDeduplicationId,
                sequenceNumber: String(++sequence).padStart(20, "0"),
                sentTimestamp: Date.now(),
                receiveCount: 0,
            };
            queue.messages.push(message);
            queue.seen.set(input.MessageDeduplicationId, { messageId: message.messageId, at: Date.now() });
            json(200, { MD5OfMessageBody: md5, MessageId: message.messageId, SequenceNumber: message.sequenceNumber });
        });
    });
    const outage = await interruptible(server);
    base = `http://127.0.0.1:${outage.port}`;
    listening = `127.0.0.1:${outage.port}`;
    return Object.assign(state, {
        endpoint: base,
        outage,
        createFifoQueue(name: string, url = `${base}/123456789012/${name}`) {
            const queue = { url, arn: `arn:aws:sqs:us-east-1:123456789012:${name}`, messages: [], seen: new Map() };
            queues.set(queue.url, queue);
            return queue;
        },
        async stop() {
            await outage.takeDown();
        },
    });
}

export interface SqsBatchResponse {
    batchItemFailures: { itemIdentifier: string }[];
}

/**
 * Lambda's SQS event source mapping for one FIFO queue, polled by the caller. A message the consumer
 * failed stays invisible for `visibilityTimeoutMs` (default 0: the tests' next poll sees it again),
 * and holds back the later messages of its group meanwhile, as a FIFO queue does.
 */
export function eventSourceMapping(queue: LocalQueue, deadLetter: LocalQueue, consumer: (event: unknown) => Promise<SqsBatchResponse>,
    options: { batchSize?: number; maxReceiveCount: number; visibilityTimeoutMs?: number }) {
    const batchSize = options.batchSize ?? 10;
    return {
        /** One poll: receives a batch, invokes the consumer, settles the batch. Resolves with the batch size. */
        async poll(): Promise<number> {
            // Redrive first: a message already received maxReceiveCount times goes to the DLQ.
            for (const message of [...queue.messages]) {
                if (message.receiveCount >= options.maxReceiveCount) {
                    queue.messages.splice(queue.messages.indexOf(message), 1);
                    deadLetter.messages.push(message);
                }
            }
            const held = new Set(queue.messages.filter((m) => (m.invisibleUntil ?? 0) > Date.now()).map((m) => m.groupId));
            const batch = queue.messages.filter((m) => !held.has(m.groupId)).slice(0, batchSize);
            if (batch.length === 0) {
                return 0;
            }
            batch.forEach((message) => message.receiveCount++);
            const event = {
                Records: batch.map((message) => ({
                    messageId: message.messageId,
                    receiptHandle: randomUUID(),
                    body: message.body,
                    attributes: {
                        ApproximateReceiveCount: String(message.receiveCount),
                        SentTimestamp: String(message.sentTimestamp),
                        SequenceNumber: message.sequenceNumber,
                        MessageGroupId: message.groupId,
                        SenderId: "AROAEXAMPLE:changes",
                        MessageDeduplicationId: message.deduplicationId,
                        ApproximateFirstReceiveTimestamp: String(Date.now()),
                    },
                    messageAttributes: {},
                    md5OfBody: createHash("md5").update(message.body).digest("hex"),
                    eventSource: "aws:sqs",
                    eventSourceARN: queue.arn,
                    awsRegion: "us-east-1",
                })),
            };
            let failed: string[];
            try {
                failed = (await consumer(event)).batchItemFailures.map((f) => f.itemIdentifier);
            } catch {
                failed = batch.map((m) => m.messageId); // a function error fails the whole batch
            }
            for (const message of batch) {
                if (!failed.includes(message.messageId)) {
                    queue.messages.splice(queue.messages.indexOf(message), 1);
                } else {
                    message.invisibleUntil = Date.now() + (options.visibilityTimeoutMs ?? 0);
                }
            }
            return batch.length;
        },
        /** Polls until the queue is empty or `maxPolls` polls were made. */
        async drain(maxPolls = 50): Promise<void> {
            for (let i = 0; i < maxPolls && queue.messages.length > 0; i++) {
                await this.poll();
            }
        },
    };
}
