// The retry consumer's batch answer and log, record by record, as Lambda's SQS event source mapping
// hands it batches: which records it hands back (each user's in order, no other user's), what goes
// to the dead-letter queue, which reports are no longer sent (the lamp changed since), and its
// entry built from the environment the stack sets. Delivery itself is test/eventGateway.test.ts.
import { strict as assert } from "assert";
import { randomUUID } from "crypto";
import { ChangeReport, changeReport, stillCurrent } from "../handler/changeReport";
import { ChangeReportConsumer, ConsumerLog, consumerLogLevel, createChangeReportConsumer, createConsumerFromEnvironment, deadLetterTo, DELIVERY_RESERVE_MS, SEAL_STORED_GRANTS, SqsBatchResponse, SqsRecord } from "../handler/changeReportConsumer";
import { createAwsJsonClient, createDynamoDb } from "../handler/awsJson";
import { createEventSender } from "../handler/eventGateway";
import { messageGroupOf, SQS_PROTOCOL } from "../handler/eventQueue";
import { createGrantStore, GrantStore } from "../handler/grantStore";
import { LampState } from "../handler/lamp";
import { createLampStore, LampStore } from "../handler/lampStore";
import { createLwaClient, LwaClient } from "../handler/lwa";
import { userReference } from "../handler/log";
import { AlexaGateway, startAlexaGateway } from "../local/alexaGateway";
import { LocalDynamo, LOCAL_CREDENTIALS, startDynalite } from "../local/dynalite";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, LwaEndpoint, startLwaEndpoint } from "../local/lwaEndpoint";
import { SsmEndpoint, startSsmEndpoint } from "../local/ssmEndpoint";
import { KmsEndpoint, startKmsEndpoint } from "../local/kmsEndpoint";
import { LocalQueue, LocalSqs, startLocalSqs } from "../local/sqsQueue";
import { setEnvironment } from "./support/lambdaEnvironment";
import { capturingStdout } from "./support/stdout";

const SECRET_PARAMETER = "/alexa-grants-client-secret";
const GRANTS_TABLE = "consumer-grants";
const LAMP_TABLE = "consumer-lamps";
const OFF: LampState = { powerState: "OFF", brightness: 100 };
const ON: LampState = { powerState: "ON", brightness: 100 };

describe("the ChangeReport consumer, batch by batch", function () {
    this.timeout(20000);
    let dynamo: LocalDynamo;
    let lwa: LwaEndpoint;
    let gateway: AlexaGateway;
    let sqs: LocalSqs;
    let ssm: SsmEndpoint;
    let kms: KmsEndpoint;
    let grantsKey: string;
    let dlq: LocalQueue;
    let grants: GrantStore;
    let lamps: LampStore;
    let lwaClient: LwaClient;
    let logs: ConsumerLog[];
    let consume: ChangeReportConsumer;
    /** The sender the consumer of each test delivers with. */
    let consumeDeliver: ReturnType<typeof createEventSender>;

    /**
     * A linked user whose lamp was just switched on through the companion app, and the queued
     * ChangeReport of that change as Lambda hands it over, with SQS's record attributes.
     */
    async function recordOfNewUser(receiveCount?: string): Promise<SqsRecord & { userId: string }> {
        const userId = randomUUID();
        const tokens = await lwaClient.exchangeCode(lwa.issueCode());
        await grants.put(userId, { ...tokens, region: "us-east-1", grantedAt: Date.now() });
        await lamps.change(userId, { kind: "power", powerState: "ON" });
        return recordFor(userId, receiveCount);
    }
    function recordFor(userId: string, receiveCount?: string, before: LampState = OFF, after: LampState = ON): SqsRecord & { userId: string } {
        const report = changeReport(userId, before, after, "APP_INTERACTION", new Date())!;
        return {
            userId,
            messageId: randomUUID(),
            body: JSON.stringify({ userId, report }),
            attributes: { ApproximateReceiveCount: receiveCount ?? "1", MessageGroupId: messageGroupOf(userId) },
        };
    }
    const failures = (answer: { batchItemFailures: { itemIdentifier: string }[] }) => answer.batchItemFailures.map((f) => f.itemIdentifier);
    /** A log entry as the JSON line it becomes (undefined fields drop out). */
    const asLine = (entry: ConsumerLog) => JSON.parse(JSON.stringify(entry));
    const timeLeft = (...values: number[]) => ({ getRemainingTimeInMillis: () => values.shift() ?? 0 });
    /** Whether a report still says what the user's lamp is, as the deployed consumer asks. */
    const lampSays = async (userId: string, report: ChangeReport) => stillCurrent(report, await lamps.read(userId));
    /** The refresh token an accepted event's token was issued under, to tell users apart at the gateway. */
    const grantOf = (userId: string) => grants.get(userId).then((g) => g!.refreshToken);

    before(async () => {
        dynamo = await startDynalite();
        lwa = await startLwaEndpoint();
        gateway = await startAlexaGateway(lwa);
        sqs = await startLocalSqs();
        ssm = await startSsmEndpoint({ [SECRET_PARAMETER]: LWA_CLIENT_SECRET });
        kms = await startKmsEndpoint();
        grantsKey = kms.createKey();
        await dynamo.createLampTable(GRANTS_TABLE);
        await dynamo.createLampTable(LAMP_TABLE);
        const dynamoDb = createDynamoDb({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS });
        grants = createGrantStore({ tableName: GRANTS_TABLE, seal: kms.seal(grantsKey), dynamoDb });
        lamps = createLampStore({ tableName: LAMP_TABLE, dynamoDb });
        lwaClient = createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }) });
    });
    after(async () => {
        await Promise.all([dynamo.stop(), lwa.stop(), gateway.stop(), sqs.stop(), ssm.stop(), kms.stop()]);
    });
    beforeEach(() => {
        logs = [];
        dlq = sqs.createFifoQueue(`changes-dlq-${randomUUID()}.fifo`);
        const sqsClient = createAwsJsonClient(SQS_PROTOCOL, { endpoint: sqs.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS, maxAttempts: 1 });
        consumeDeliver = createEventSender({ grants, lwa: lwaClient, gatewayUrl: () => gateway.url, maxAttempts: 1, stillCurrent: lampSays });
        consume = createChangeReportConsumer({
            deliver: consumeDeliver,
            deadLetter: deadLetterTo(dlq.url, () => sqsClient),
            log: (entry) => logs.push(entry),
        });
    });
    afterEach(async () => {
        assert.equal(gateway.scriptedLeft(), 0, "a test left scripted answers for the next");
        gateway.setMode("up");
        await sqs.outage.bringUp();
        await dynamo.setMode("up");
    });

    it("delivers a whole batch, hands nothing back, and logs each record with its messageId, user reference and receive count", async () => {
        const records = [await recordOfNewUser("1"), await recordOfNewUser("4"), await recordOfNewUser()];
        const answer = await consume({ Records: records }, timeLeft(60_000, 59_000, 58_000, 57_000));
        assert.deepEqual(answer, { batchItemFailures: [] });
        assert.deepEqual(logs.map(asLine).sort((a, b) => a.messageId.localeCompare(b.messageId)), records.map((r, i) => ({
            messageId: JSON.parse(r.body).report.event.header.messageId,
            user: userReference(r.userId),
            outcome: "accepted",
            receiveCount: [1, 4, 1][i],
        })).sort((a, b) => a.messageId.localeCompare(b.messageId)));
    });

    it("hands back a record that must wait and its user's later records, and delivers every other user's records now", async () => {
        const [a, b, c] = [await recordOfNewUser(), await recordOfNewUser(), await recordOfNewUser()];
        const a2 = recordFor(a.userId, undefined, ON, ON);
        a2.body = JSON.stringify({ userId: a.userId, report: changeReport(a.userId, OFF, ON, "APP_INTERACTION", new Date()) });
        gateway.enabledInAnotherRegion(await grantOf(a.userId)); // A's events cannot go out
        const answer = await consume({ Records: [a, b, a2, c] });
        assert.deepEqual(failures(answer), [a.messageId, a2.messageId]);
        const delivered = gateway.accepted.map((e) => e.grant);
        assert.ok(delivered.includes(await grantOf(b.userId)) && delivered.includes(await grantOf(c.userId)), "another user's event was held");
        assert.ok(!delivered.includes(await grantOf(a.userId)));
        const ofA = logs.filter((l) => l.user === userReference(a.userId) || l.outcome === "held");
        assert.deepEqual(ofA.map((l) => [l.outcome, l.cause, l.reason]), [
            ["wait", "configuration", "the gateway answered 403 SKILL_NEVER_ENABLED_EXCEPTION"],
            ["held", undefined, "1 later records of the same user wait behind this one"],
        ]);
    });

    it("does not delay another user's event while one user's event is being retried (one user's 500s, measured at the gateway)", async function () {
        this.timeout(30000);
        const [slow, quick] = [await recordOfNewUser(), await recordOfNewUser()];
        const retrying = createChangeReportConsumer({
            // As deployed: three tries, at least 1 s apart.
            deliver: createEventSender({ grants, lwa: lwaClient, gatewayUrl: () => gateway.url, stillCurrent: lampSays }),
            deadLetter: async () => undefined,
            log: (entry) => logs.push(entry),
        });
        const [slowGrant, quickGrant] = [await grantOf(slow.userId), await grantOf(quick.userId)];
        gateway.answerNextFor(slowGrant, 2, 500, "INTERNAL_SERVICE_EXCEPTION");
        const asked = gateway.requests.length;
        const answer = await retrying({ Records: [slow, quick] });
        assert.deepEqual(failures(answer), [], "both went out in the end");
        const requests = gateway.requests.slice(asked);
        const tokenOf = (grant: string) => gateway.accepted.find((e) => e.grant === grant)!.token;
        const ofSlow = requests.filter((r) => lwa.grantOf(r.authorization.slice(7)) === slowGrant);
        const ofQuick = requests.filter((r) => r.authorization === `Bearer ${tokenOf(quickGrant)}`);
        assert.deepEqual([ofSlow.length, ofQuick.length], [3, 1]);
        assert.ok(ofQuick[0].at < ofSlow[1].at, "the other user's event waited for the first retry");
        assert.ok(ofSlow[1].at - ofSlow[0].at >= 1000 && ofSlow[2].at - ofSlow[1].at >= 2000, "the retries came sooner than Amazon asks");
    });

    it("does not send a report that the lamp has moved on from, and goes on with the user's next", async () => {
        const first = await recordOfNewUser(); // says ON
        await lamps.change(first.userId, { kind: "power", powerState: "OFF" }); // Alexa turned it off since
        const second = recordFor(first.userId, undefined, ON, OFF);
        const asked = gateway.requests.length;
        assert.deepEqual(await consume({ Records: [first, second] }), { batchItemFailures: [] });
        assert.equal(gateway.requests.length - asked, 1, "the superseded report was sent");
        assert.equal(JSON.parse(gateway.requests.at(-1)!.body).event.payload.change.properties[0].value, "OFF");
        assert.deepEqual(logs.map((l) => [l.outcome, l.reason]), [
            ["superseded", "the lamp has changed since: a later report, or the answer to Alexa's own directive, says what it is now"],
            ["accepted", undefined],
        ]);
    });

    it("makes a record wait, sending nothing, when the lamp's state cannot be read", async () => {
        const record = await recordOfNewUser();
        const asked = gateway.requests.length;
        await dynamo.setMode("down");
        const answer = await consume({ Records: [record] });
        assert.deepEqual(failures(answer), [record.messageId]);
        assert.equal(gateway.requests.length, asked);
        assert.deepEqual(logs.map((l) => [l.outcome, l.cause, l.reason]), [["wait", "transient", "the grant or the lamp could not be read or written (Error)"]]);
    });

    it("sends a refused event to the dead-letter queue as it came, in its user's group, and goes on", async () => {
        const [refused, next] = [await recordOfNewUser("2"), await recordOfNewUser()];
        gateway.answerNext(1, 400, "INVALID_REQUEST_EXCEPTION");
        // The refused one first, then the other: their groups differ, so each goes its own way.
        assert.deepEqual(await consume({ Records: [refused] }), { batchItemFailures: [] });
        assert.deepEqual(await consume({ Records: [next] }), { batchItemFailures: [] });
        assert.equal(dlq.messages.length, 1);
        const [kept] = dlq.messages;
        assert.deepEqual([kept.body, kept.groupId, kept.deduplicationId], [refused.body, messageGroupOf(refused.userId), refused.messageId]);
        assert.deepEqual(logs.map((l) => [l.outcome, l.cause, l.reason, l.receiveCount]), [
            ["poison", "ourBug", "the gateway refused the event: 400 INVALID_REQUEST_EXCEPTION", 2],
            ["accepted", undefined, undefined, 1],
        ]);
    });

    it("sends a record that is not a queued ChangeReport to the dead-letter queue in a group of its own, without asking the gateway", async () => {
        const good = await recordOfNewUser();
        // Each a queued report with one part missing or of the wrong kind.
        const whole = JSON.parse(good.body);
        const event = whole.report.event;
        const unreadable = ["not json", "null", "{}",
            JSON.stringify({ ...whole, userId: 7 }),
            JSON.stringify({ userId: whole.userId }),
            JSON.stringify({ ...whole, report: { event: { ...event, header: {} } } }),
            JSON.stringify({ ...whole, report: { event: { ...event, payload: null } } }),
            JSON.stringify({ ...whole, report: { event: { ...event, payload: "ON" } } }),
            JSON.stringify({ ...whole, report: { event: { ...event, endpoint: null } } }),
            JSON.stringify({ ...whole, report: { event: { ...event, endpoint: undefined } } }),
        ];
        const asked = gateway.requests.length;
        const records = [...unreadable.map((body) => ({ messageId: randomUUID(), body })), good];
        assert.deepEqual(await consume({ Records: records }), { batchItemFailures: [] });
        assert.equal(gateway.requests.length - asked, 1);
        assert.deepEqual(dlq.messages.map((m) => [m.body, m.groupId, m.deduplicationId]), records.slice(0, unreadable.length).map((r) => [r.body, "unreadable", r.messageId]));
        assert.deepEqual(logs.filter((l) => l.outcome === "poison").map(asLine), unreadable.map(() => ({ outcome: "poison", cause: "ourBug", reason: "the record is not a queued ChangeReport", receiveCount: 1 })));
    });

    it("handles each unreadable record on its own: one the dead-letter queue cannot take holds back no other", async () => {
        const records = ["not json", "{}"].map((body) => ({ messageId: randomUUID(), body }));
        await sqs.outage.takeDown();
        const answer = await consume({ Records: records });
        assert.deepEqual(failures(answer).sort(), records.map((r) => r.messageId).sort());
        assert.deepEqual(logs.map((l) => l.outcome), ["poison", "poison"], "a record was held behind another's");
    });

    it("hands back, of a user's records, the one that must wait and those after it, not those before", async () => {
        const first = await recordOfNewUser();
        const [second, third] = [recordFor(first.userId, undefined, OFF, ON), recordFor(first.userId, undefined, OFF, ON)];
        gateway.answerNext(1, 202);
        gateway.answerNext(1, 503, "SERVICE_UNAVAILABLE_EXCEPTION"); // one try each here
        const answer = await consume({ Records: [first, second, third] });
        assert.deepEqual(failures(answer), [second.messageId, third.messageId]);
        assert.deepEqual(logs.filter((l) => l.outcome === "held").map((l) => l.reason), ["1 later records of the same user wait behind this one"]);
    });

    it("keeps a refused event and its user's later ones when the dead-letter queue cannot take it, saying so", async () => {
        const refused = await recordOfNewUser();
        const next = recordFor(refused.userId);
        gateway.answerNext(1, 413, "REQUEST_ENTITY_TOO_LARGE_EXCEPTION");
        await sqs.outage.takeDown();
        const answer = await consume({ Records: [refused, next] });
        assert.deepEqual(failures(answer), [refused.messageId, next.messageId]);
        assert.deepEqual(logs.map((l) => [l.outcome, l.reason]), [
            ["poison", "the gateway refused the event: 413 REQUEST_ENTITY_TOO_LARGE_EXCEPTION; the dead-letter queue could not take it (Error), so it waits"],
            ["held", "1 later records of the same user wait behind this one"],
        ]);
    });

    it(`starts a record only with ${DELIVERY_RESERVE_MS / 1000} s left, and hands back the user's rest in order, saying how many`, async () => {
        const first = await recordOfNewUser();
        const records = [first, recordFor(first.userId), recordFor(first.userId)];
        const asked = gateway.requests.length;
        const answer = await consume({ Records: records }, timeLeft(60_000, 60_000, DELIVERY_RESERVE_MS, DELIVERY_RESERVE_MS - 1));
        assert.deepEqual(failures(answer), records.slice(2).map((r) => r.messageId));
        assert.equal(gateway.requests.length - asked, 2);
        assert.deepEqual(asLine(logs[2]), { outcome: "deferred", reason: "1 of this user's records left for the next delivery: too little time left in this one" });
    });

    it("gives each delivery the function's end, less 5 s to answer, as its deadline", async () => {
        const record = await recordOfNewUser();
        const deadlines: (number | undefined)[] = [];
        const recording = createChangeReportConsumer({
            deliver: async (_user, _report, deadline) => (deadlines.push(deadline), { outcome: "accepted" }),
            deadLetter: async () => undefined,
            log: () => undefined,
            now: () => 1_000_000,
        });
        await recording({ Records: [record] }, timeLeft(40_000, 40_000));
        await recording({ Records: [record] });
        assert.deepEqual(deadlines, [1_035_000, undefined]);
    });

    it("sets aside, as its own bug, a record it cannot handle, and delivers the rest of the batch", async () => {
        const good = await recordOfNewUser();
        const odd = recordFor(randomUUID());
        const throwing = createChangeReportConsumer({
            deliver: async (userId, report, deadline) => {
                if (userId === odd.userId) {
                    throw new TypeError("Cannot read properties of undefined");
                }
                return consumeDeliver(userId, report, deadline);
            },
            deadLetter: deadLetterTo(dlq.url, () => createAwsJsonClient(SQS_PROTOCOL, { endpoint: sqs.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS })),
            log: (entry) => logs.push(entry),
        });
        assert.deepEqual(await throwing({ Records: [odd, good] }), { batchItemFailures: [] });
        assert.deepEqual(dlq.messages.map((m) => m.body), [odd.body]);
        assert.deepEqual(logs.map((l) => [l.outcome, l.cause, l.reason]).sort(), [
            ["accepted", undefined, undefined],
            ["poison", "ourBug", "the record could not be handled (TypeError)"],
        ]);
    });

    it("reads a record without the report's payload or endpoint as no ChangeReport", async () => {
        const userId = randomUUID();
        const report = changeReport(userId, OFF, ON, "APP_INTERACTION", new Date())!;
        const records = [{ ...report, event: { ...report.event, payload: undefined } }, { ...report, event: { ...report.event, endpoint: null } }]
            .map((r) => ({ messageId: randomUUID(), body: JSON.stringify({ userId, report: r }) }));
        assert.deepEqual(await consume({ Records: records }), { batchItemFailures: [] });
        assert.deepEqual(logs.map((l) => l.reason), ["the record is not a queued ChangeReport", "the record is not a queued ChangeReport"]);
    });

    it("logs, besides the event's line, renewed tokens that could not be stored", async () => {
        const record = await recordOfNewUser();
        const unstored = createChangeReportConsumer({
            deliver: async () => ({ outcome: "accepted", unstoredTokens: { cause: "configuration", code: "AccessDeniedException", fix: "run pulumi up again" } }),
            deadLetter: async () => undefined,
            log: (entry) => logs.push(entry),
        });
        await unstored({ Records: [record] });
        assert.deepEqual(logs.map(asLine), [
            { messageId: JSON.parse(record.body).report.event.header.messageId, user: userReference(record.userId), outcome: "tokensNotStored", cause: "configuration",
                reason: "LWA renewed the user's tokens, which could not be stored (AccessDeniedException): kept in this container, stored at the user's next event", fix: "run pulumi up again" },
            { messageId: JSON.parse(record.body).report.event.header.messageId, user: userReference(record.userId), outcome: "accepted", receiveCount: 1 },
        ]);
    });

    it("answers an event without records with nothing to hand back", async () => {
        for (const event of [{ Records: [] }, {}, { Records: "x" }, null]) {
            assert.deepEqual(await consume(event as never), { batchItemFailures: [] }, JSON.stringify(event));
        }
        assert.deepEqual(logs, []);
    });

    it("logs at error what needs the operator, at warn a forgotten grant or a service's failure, at info the rest", () => {
        const level = (entry: Partial<ConsumerLog>) => consumerLogLevel({ outcome: "", ...entry });
        assert.deepEqual([
            level({ outcome: "accepted" }), level({ outcome: "superseded" }), level({ outcome: "held" }),
            level({ outcome: "dropped" }), level({ outcome: "forgotten" }), level({ outcome: "wait", cause: "transient" }), level({ outcome: "deferred" }),
            level({ outcome: "tokensNotStored", cause: "transient" }),
            level({ outcome: "wait", cause: "configuration" }), level({ outcome: "wait", cause: "ourBug" }), level({ outcome: "poison", cause: "ourBug" }),
            level({ outcome: "tokensNotStored", cause: "configuration" }),
            level({ outcome: "poison" }), level({ outcome: "sealed" }), level({ outcome: "unsealed", cause: "transient" }),
        ], ["info", "info", "info", "warn", "warn", "warn", "warn", "warn", "error", "error", "error", "error", "error", "info", "warn"]);
    });

    describe("its entry, built from the environment the stack sets", () => {
        let restoreEnvironment: () => void;
        const ENV = () => ({
            EVENTS_GRANTS_TABLE: GRANTS_TABLE,
            EVENTS_GRANTS_KEY: grantsKey,
            EVENTS_ALEXA_CLIENT_ID: LWA_CLIENT_ID,
            EVENTS_ALEXA_SECRET_PARAMETER: SECRET_PARAMETER,
            EVENTS_DEAD_LETTER_QUEUE_URL: dlq.url,
            EVENTS_LAMP_TABLE: LAMP_TABLE,
        });
        /** The stand-ins' addresses, as the tests set them on top of what the stack sets. */
        const LOCAL = () => ({ EVENTS_LWA_TOKEN_URL: lwa.tokenUrl, EVENTS_GATEWAY_URL: gateway.url });

        before(() => {
            restoreEnvironment = setEnvironment({
                AWS_REGION: "us-east-1",
                AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
                AWS_ENDPOINT_URL_SQS: sqs.endpoint,
                AWS_ENDPOINT_URL_SSM: ssm.endpoint,
                AWS_ENDPOINT_URL_KMS: kms.endpoint,
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
            const dropped = recordFor(randomUUID(), undefined, ON, OFF); // never granted (an off lamp: the report holds)
            const refreshes = lwa.requests.refresh_token ?? 0;
            const reads = ssm.reads;
            let answer: Awaited<ReturnType<ChangeReportConsumer>> | undefined;
            const { fd1 } = await capturingStdout(async () => {
                // One batch at a time each: the four users' deliveries would otherwise run at once.
                for (const [record, script] of [[expired, () => gateway.answerNext(1, 202)], [dropped, () => undefined],
                    [refused, () => gateway.answerNext(1, 400, "INVALID_REQUEST_EXCEPTION")], [waiting, () => gateway.answerNext(3, 429, "THROTTLING_EXCEPTION")]] as const) {
                    script();
                    const one = (await fromEnvironment({ Records: [record] })) as SqsBatchResponse;
                    answer = { batchItemFailures: [...(answer?.batchItemFailures ?? []), ...one.batchItemFailures] };
                }
            });
            assert.equal((lwa.requests.refresh_token ?? 0) - refreshes, 1);
            assert.equal(ssm.reads - reads, 1);
            assert.deepEqual(failures(answer!), [waiting.messageId]);
            assert.deepEqual(dlq.messages.map((m) => m.body), [refused.body]);
            assert.deepEqual(fd1.map((line) => JSON.parse(line)).map((l) => [l.level, l.kind, l.outcome, l.cause, l.needs]), [
                ["info", "ChangeReport", "accepted", undefined, undefined],
                ["warn", "ChangeReport", "dropped", undefined, undefined],
                // What the operator alarm counts: our bug, not the gateway's slowness.
                ["error", "ChangeReport", "poison", "ourBug", "operator"],
                ["warn", "ChangeReport", "wait", "transient", undefined],
            ]);
            assert.ok(fd1.every((line) => !line.includes(LWA_CLIENT_SECRET) && !line.includes("Atza|") && !line.includes("Atzr|")));
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

        describe("sealing, when pulumi up asks, the grants an earlier version stored in the clear", () => {
            /** A grant as an earlier version stored it: both tokens in the clear. */
            async function clearGrant(): Promise<{ userId: string; accessToken: string; refreshToken: string }> {
                const userId = randomUUID();
                const { accessToken, refreshToken } = await lwaClient.exchangeCode(lwa.issueCode());
                await dynamo.dynamoDb("PutItem", { TableName: GRANTS_TABLE, Item: { userId: { S: userId }, accessToken: { S: accessToken }, refreshToken: { S: refreshToken },
                    region: { S: "us-east-1" }, accessTokenExpiresAt: { N: String(Date.now() + 3_600_000) }, grantedAt: { N: "1" } } });
                return { userId, accessToken, refreshToken };
            }
            const clearItems = async () => ((await dynamo.dynamoDb<{ Items: Record<string, { S?: string }>[] }>("Scan", { TableName: GRANTS_TABLE })).Items)
                .filter((item) => item.refreshToken !== undefined || item.accessToken !== undefined);
            const seal = async (context = timeLeft(60_000)) => {
                let result: unknown;
                const { fd1 } = await capturingStdout(async () => void (result = await createConsumerFromEnvironment(ENV())({ ...SEAL_STORED_GRANTS }, context)));
                return { result, fd1 };
            };

            it("seals every one (the table then holds no token in the clear), each still the user's grant, and none the second time", async () => {
                const earlier = [await clearGrant(), await clearGrant(), await clearGrant()];
                const { result, fd1 } = await seal();
                assert.ok((result as { sealed: number }).sealed >= 3);
                assert.deepEqual(await clearItems(), []);
                for (const { userId, accessToken, refreshToken } of earlier) {
                    const grant = (await grants.get(userId))!;
                    assert.deepEqual([grant.accessToken, grant.refreshToken], [accessToken, refreshToken]);
                }
                const line = JSON.parse(fd1.at(-1)!);
                assert.deepEqual([line.level, line.outcome, line.reason], ["info", "sealed", `${(result as { sealed: number }).sealed} grant(s) stored in the clear sealed, none left`]);
                assert.deepEqual((await seal()).result, { sealed: 0 });
            });

            it("fails the up's request, saying what to do, and keeps every grant readable, when one cannot be sealed (the key disabled)", async () => {
                const earlier = await clearGrant();
                kms.disableKey(grantsKey);
                try {
                    let failed: unknown;
                    const { fd1 } = await capturingStdout(async () => void (failed = await createConsumerFromEnvironment(ENV())({ ...SEAL_STORED_GRANTS }, timeLeft(60_000))
                        .then(() => undefined, (err: Error) => err)));
                    assert.match(String(failed), /^Error: The grants an earlier version stored in the clear could not all be sealed: DisabledException \(configuration\); the stack's KMS key .* Every grant is kept as it was; run pulumi up again once it is fixed\.$/);
                    const line = JSON.parse(fd1.at(-1)!);
                    assert.deepEqual([line.level, line.outcome, line.cause, line.needs, line.reason], ["error", "unsealed", "configuration", "operator", "a grant stored in the clear could not be sealed (DisabledException)"]);
                } finally {
                    kms.enableKey(grantsKey);
                }
                assert.equal((await grants.get(earlier.userId))!.refreshToken, earlier.refreshToken);
                await seal();
                assert.deepEqual(await clearItems(), []);
            });

            it("fails the up's request when its time runs out with grants left, so that the next up goes on", async () => {
                await clearGrant();
                let failed: unknown;
                const { fd1 } = await capturingStdout(async () => void (failed = await createConsumerFromEnvironment(ENV())({ ...SEAL_STORED_GRANTS }, timeLeft(1_000))
                    .then(() => undefined, (err: Error) => err)));
                assert.match(String(failed), /^Error: 0 grant\(s\) stored in the clear were sealed, and more are left than one run could seal: run pulumi up again to go on\.$/);
                const line = JSON.parse(fd1.at(-1)!);
                assert.deepEqual([line.outcome, line.reason], ["unsealed", "0 grant(s) stored in the clear sealed, more left"]);
                assert.equal((await clearItems()).length, 1);
                await seal();
            });
        });

        it("refuses to start without a variable it needs, naming it and what to do", () => {
            for (const name of Object.keys(ENV())) {
                assert.throws(() => createConsumerFromEnvironment({ ...ENV(), [name]: "" }), new RegExp(`^Error: The ChangeReport consumer needs the environment variable ${name}; redeploy the stack to set it\\.$`), name);
            }
        });
    });
});
