// The retry consumer's batch answer and log, record by record, as Lambda's SQS event source mapping
// hands it batches: which records it keeps (FIFO order), what goes to the dead-letter queue, and
// its entry built from the environment the stack sets. Delivery itself is test/eventGateway.test.ts.
import { strict as assert } from "assert";
import { randomUUID } from "crypto";
import { changeReport } from "../handler/changeReport";
import { ChangeReportConsumer, ConsumerLog, createChangeReportConsumer, createConsumerFromEnvironment, deadLetterTo, DELIVERY_RESERVE_MS, SqsRecord } from "../handler/changeReportConsumer";
import { createAwsJsonClient, createDynamoDb } from "../handler/awsJson";
import { createEventSender } from "../handler/eventGateway";
import { messageGroupOf, SQS_PROTOCOL } from "../handler/eventQueue";
import { createGrantStore, GrantStore } from "../handler/grantStore";
import { createLwaClient, LwaClient } from "../handler/lwa";
import { userReference } from "../handler/log";
import { AlexaGateway, startAlexaGateway } from "./support/alexaGateway";
import { LocalDynamo, LOCAL_CREDENTIALS, startDynalite } from "./support/dynalite";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, LwaEndpoint, startLwaEndpoint } from "./support/lwaEndpoint";
import { SsmEndpoint, startSsmEndpoint } from "./support/ssmEndpoint";
import { LocalQueue, LocalSqs, startLocalSqs } from "./support/sqsQueue";
import { setEnvironment } from "./support/lambdaEnvironment";
import { capturingStdout } from "./support/stdout";

const SECRET_PARAMETER = "/alexa-grants-client-secret";
const GRANTS_TABLE = "consumer-grants";

describe("the ChangeReport consumer, batch by batch", function () {
    this.timeout(20000);
    let dynamo: LocalDynamo;
    let lwa: LwaEndpoint;
    let gateway: AlexaGateway;
    let sqs: LocalSqs;
    let ssm: SsmEndpoint;
    let dlq: LocalQueue;
    let grants: GrantStore;
    let lwaClient: LwaClient;
    let logs: ConsumerLog[];
    let consume: ChangeReportConsumer;

    /** A linked user's queued ChangeReport as Lambda hands it over, with SQS's record attributes. */
    async function recordOfNewUser(receiveCount?: string): Promise<SqsRecord & { userId: string }> {
        const userId = randomUUID();
        const tokens = await lwaClient.exchangeCode(lwa.issueCode());
        await grants.put(userId, { ...tokens, region: "us-east-1", grantedAt: Date.now() });
        return recordFor(userId, receiveCount);
    }
    function recordFor(userId: string, receiveCount?: string): SqsRecord & { userId: string } {
        const report = changeReport(userId, { powerState: "OFF", brightness: 100 }, { powerState: "ON", brightness: 100 }, "APP_INTERACTION", new Date())!;
        return {
            userId,
            messageId: randomUUID(),
            body: JSON.stringify({ userId, report }),
            ...(receiveCount ? { attributes: { ApproximateReceiveCount: receiveCount, MessageGroupId: messageGroupOf(userId) } } : {}),
        };
    }
    const failures = (answer: { batchItemFailures: { itemIdentifier: string }[] }) => answer.batchItemFailures.map((f) => f.itemIdentifier);
    /** A log entry as the JSON line it becomes (undefined fields drop out). */
    const asLine = (entry: ConsumerLog) => JSON.parse(JSON.stringify(entry));
    const timeLeft = (...values: number[]) => ({ getRemainingTimeInMillis: () => values.shift() ?? 0 });

    before(async () => {
        dynamo = await startDynalite();
        lwa = await startLwaEndpoint();
        gateway = await startAlexaGateway(lwa);
        sqs = await startLocalSqs();
        ssm = await startSsmEndpoint({ [SECRET_PARAMETER]: LWA_CLIENT_SECRET });
        await dynamo.createLampTable(GRANTS_TABLE);
        grants = createGrantStore({ tableName: GRANTS_TABLE, dynamoDb: createDynamoDb({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS }) });
        lwaClient = createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }) });
    });
    after(async () => {
        await Promise.all([dynamo.stop(), lwa.stop(), gateway.stop(), sqs.stop(), ssm.stop()]);
    });
    beforeEach(() => {
        logs = [];
        dlq = sqs.createFifoQueue(`changes-dlq-${randomUUID()}.fifo`);
        const sqsClient = createAwsJsonClient(SQS_PROTOCOL, { endpoint: sqs.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS, maxAttempts: 1 });
        consume = createChangeReportConsumer({
            deliver: createEventSender({ grants, lwa: lwaClient, gatewayUrl: () => gateway.url, maxAttempts: 1 }),
            deadLetter: deadLetterTo(dlq.url, () => sqsClient),
            log: (entry) => logs.push(entry),
        });
    });
    afterEach(async () => {
        gateway.setMode("up");
        await sqs.outage.bringUp();
    });

    it("delivers a whole batch, keeps nothing, and logs each record with its messageId, user reference and receive count", async () => {
        const records = [await recordOfNewUser("1"), await recordOfNewUser("4"), await recordOfNewUser()];
        const answer = await consume({ Records: records }, timeLeft(60_000, 59_000, 58_000));
        assert.deepEqual(answer, { batchItemFailures: [] });
        assert.deepEqual(logs.map(asLine), records.map((r, i) => ({
            messageId: JSON.parse(r.body).report.event.header.messageId,
            user: userReference(r.userId),
            outcome: "accepted",
            receiveCount: [1, 4, 1][i],
        })));
    });

    it("keeps the record that must wait and every one after it, and none before it", async () => {
        const records = [await recordOfNewUser(), await recordOfNewUser(), await recordOfNewUser(), await recordOfNewUser()];
        gateway.answerNext(1, 202);
        gateway.answerNext(1, 503, "SERVICE_UNAVAILABLE_EXCEPTION");
        const answer = await consume({ Records: records });
        assert.deepEqual(failures(answer), records.slice(1).map((r) => r.messageId));
        assert.deepEqual(logs.map((l) => [l.outcome, l.reason]), [["accepted", undefined], ["retry", "the gateway answered 503 SERVICE_UNAVAILABLE_EXCEPTION"]]);
    });

    it("sends a refused event to the dead-letter queue as it came, in its user's group, and goes on", async () => {
        const [refused, next] = [await recordOfNewUser("2"), await recordOfNewUser()];
        gateway.answerNext(1, 400, "INVALID_REQUEST_EXCEPTION");
        assert.deepEqual(await consume({ Records: [refused, next] }), { batchItemFailures: [] });
        assert.equal(dlq.messages.length, 1);
        const [kept] = dlq.messages;
        assert.deepEqual([kept.body, kept.groupId, kept.deduplicationId], [refused.body, messageGroupOf(refused.userId), refused.messageId]);
        assert.deepEqual(logs.map((l) => [l.outcome, l.reason, l.receiveCount]), [["poison", "the gateway refused the event: 400 INVALID_REQUEST_EXCEPTION", 2], ["accepted", undefined, 1]]);
    });

    it("sends a record that is not a queued ChangeReport to the dead-letter queue in a group of its own, without asking the gateway", async () => {
        const good = await recordOfNewUser();
        const unreadable = ["not json", "null", JSON.stringify({ userId: 7, report: { event: { header: { messageId: "m" } } } }), JSON.stringify({ userId: "u", report: { event: { header: {} } } })];
        const asked = gateway.requests.length;
        const records = [...unreadable.map((body) => ({ messageId: randomUUID(), body })), good];
        assert.deepEqual(await consume({ Records: records }), { batchItemFailures: [] });
        assert.equal(gateway.requests.length - asked, 1);
        assert.deepEqual(dlq.messages.map((m) => [m.body, m.groupId, m.deduplicationId]), records.slice(0, 4).map((r) => [r.body, "unreadable", r.messageId]));
        assert.deepEqual(logs.slice(0, 4).map(asLine), unreadable.map(() => ({ outcome: "poison", reason: "the record is not a queued ChangeReport", receiveCount: 1 })));
    });

    it("keeps a refused event and what follows when the dead-letter queue cannot take it, saying so", async () => {
        const [refused, next] = [await recordOfNewUser(), await recordOfNewUser()];
        gateway.answerNext(1, 413, "REQUEST_ENTITY_TOO_LARGE_EXCEPTION");
        await sqs.outage.takeDown();
        const answer = await consume({ Records: [refused, next] });
        assert.deepEqual(failures(answer), [refused.messageId, next.messageId]);
        assert.deepEqual(logs.map((l) => [l.outcome, l.reason]), [["poison", "the gateway refused the event: 413 REQUEST_ENTITY_TOO_LARGE_EXCEPTION; the dead-letter queue could not take it (Error), so it waits"]]);
    });

    it(`starts a record only with ${DELIVERY_RESERVE_MS / 1000} s left, and hands back the rest in order, saying how many`, async () => {
        const records = [await recordOfNewUser(), await recordOfNewUser(), await recordOfNewUser()];
        const asked = gateway.requests.length;
        const answer = await consume({ Records: records }, timeLeft(DELIVERY_RESERVE_MS, DELIVERY_RESERVE_MS - 1));
        assert.deepEqual(failures(answer), records.slice(1).map((r) => r.messageId));
        assert.equal(gateway.requests.length - asked, 1);
        assert.deepEqual(asLine(logs[1]), { outcome: "deferred", reason: "2 records left for the next delivery: too little time left in this one" });
    });

    it("answers an event without records with nothing to keep", async () => {
        for (const event of [{ Records: [] }, {}, { Records: "x" }, null]) {
            assert.deepEqual(await consume(event as never), { batchItemFailures: [] }, JSON.stringify(event));
        }
        assert.deepEqual(logs, []);
    });

    describe("its entry, built from the environment the stack sets", () => {
        let restoreEnvironment: () => void;
        const ENV = () => ({
            EVENTS_GRANTS_TABLE: GRANTS_TABLE,
            EVENTS_ALEXA_CLIENT_ID: LWA_CLIENT_ID,
            EVENTS_ALEXA_SECRET_PARAMETER: SECRET_PARAMETER,
            EVENTS_DEAD_LETTER_QUEUE_URL: dlq.url,
        });
        /** The stand-ins' addresses, as the tests set them on top of what the stack sets. */
        const LOCAL = () => ({ EVENTS_LWA_TOKEN_URL: lwa.tokenUrl, EVENTS_GATEWAY_URL: gateway.url });

        before(() => {
            restoreEnvironment = setEnvironment({
                AWS_REGION: "us-east-1",
                AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
                AWS_ENDPOINT_URL_SQS: sqs.endpoint,
                AWS_ENDPOINT_URL_SSM: ssm.endpoint,
                AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
                AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
            });
        });
        after(() => restoreEnvironment());

        it("refreshes with the secret from Parameter Store, delivers, dead-letters, and logs at info, warn and error", async () => {
            const fromEnvironment = createConsumerFromEnvironment({ ...ENV(), ...LOCAL() });
            const expired = await recordOfNewUser();
            await grants.put(expired.userId, { ...(await grants.get(expired.userId))!, accessTokenExpiresAt: 0 });
            const [refused, waiting] = [await recordOfNewUser(), await recordOfNewUser()];
            const dropped = recordFor(randomUUID()); // never granted
            const refreshes = lwa.requests.refresh_token ?? 0;
            const reads = ssm.reads;
            let answer: Awaited<ReturnType<ChangeReportConsumer>> | undefined;
            const { fd1 } = await capturingStdout(async () => {
                gateway.answerNext(1, 202);
                gateway.answerNext(1, 400, "INVALID_REQUEST_EXCEPTION");
                gateway.answerNext(3, 429, "THROTTLING_EXCEPTION");
                answer = await fromEnvironment({ Records: [expired, dropped, refused, waiting] });
            });
            assert.equal((lwa.requests.refresh_token ?? 0) - refreshes, 1);
            assert.equal(ssm.reads - reads, 1);
            assert.deepEqual(failures(answer!), [waiting.messageId]);
            assert.deepEqual(dlq.messages.map((m) => m.body), [refused.body]);
            assert.deepEqual(fd1.map((line) => JSON.parse(line)).map((l) => [l.level, l.kind, l.outcome]), [
                ["info", "ChangeReport", "accepted"],
                ["info", "ChangeReport", "dropped"],
                ["error", "ChangeReport", "poison"],
                ["warn", "ChangeReport", "retry"],
            ]);
            assert.ok(fd1.every((line) => !line.includes(LWA_CLIENT_SECRET) && !line.includes("Atza|")));
        });

        it("sends to the grant's region's own gateway when no address is set (as deployed)", async () => {
            // A region without a gateway shows the choice without reaching out: the deployed
            // sender looks the region up, finds none, and sends nowhere.
            const record = await recordOfNewUser();
            await grants.put(record.userId, { ...(await grants.get(record.userId))!, region: "ap-south-1" });
            const asked = gateway.requests.length;
            const { fd1 } = await capturingStdout(async () => void await createConsumerFromEnvironment(ENV())({ Records: [record] }));
            assert.equal(gateway.requests.length, asked, "the stand-in was asked");
            assert.deepEqual([JSON.parse(fd1[0]).outcome, JSON.parse(fd1[0]).reason], ["poison", "no Alexa event gateway for the grant's region ap-south-1"]);
        });

        it("refuses to start without a variable it needs, naming it and what to do", () => {
            for (const name of Object.keys(ENV())) {
                assert.throws(() => createConsumerFromEnvironment({ ...ENV(), [name]: "" }), new RegExp(`^Error: The ChangeReport consumer needs the environment variable ${name}; redeploy the stack to set it\\.$`), name);
            }
        });
    });
});
