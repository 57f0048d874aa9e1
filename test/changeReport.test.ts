import { strict as assert } from "assert";
import { randomUUID } from "crypto";
import { changeReport, stillCurrent } from "../handler/changeReport";
import { consumerLogLevel, createChangeReportConsumer, deadLetterTo } from "../handler/changeReportConsumer";
import { createAwsJsonClient, createDynamoDb } from "../handler/awsJson";
import { createEventSender, gatewayUrl } from "../handler/eventGateway";
import { createEventQueue, messageGroupOf, SQS_PROTOCOL } from "../handler/eventQueue";
import { createGrantStore, GrantStore } from "../handler/grantStore";
import { LampState } from "../handler/lamp";
import { createLampStore, LampStore } from "../handler/lampStore";
import { createLwaClient, LwaClient, LwaCredentials } from "../handler/lwa";
import { alexaDataPresent, assertValidAlexaMessage, sampleDirective, skipWithoutAlexaData } from "./support/alexaSchema";
import { AlexaGateway, startAlexaGateway } from "../local/alexaGateway";
import { LocalDynamo, LOCAL_CREDENTIALS, startDynalite } from "../local/dynalite";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, LwaEndpoint, startLwaEndpoint } from "../local/lwaEndpoint";
import { eventSourceMapping, LocalQueue, LocalSqs, startLocalSqs } from "../local/sqsQueue";
import { KmsEndpoint, startKmsEndpoint } from "../local/kmsEndpoint";

const OFF: LampState = { powerState: "OFF", brightness: 100 };
const ON: LampState = { powerState: "ON", brightness: 100 };

describe("ChangeReport events", () => {
    it("put the changed property in payload.change and every other one, EndpointHealth included, in context", () => {
        // (Brightness alone: issue 10 makes an off lamp report brightness 0, so switching changes both.)
        const report = changeReport("user-1", ON, { powerState: "ON", brightness: 40 }, "APP_INTERACTION", new Date())!;
        assert.equal(report.event.header.name, "ChangeReport");
        assert.deepEqual((report.event.payload.change as any).cause, { type: "APP_INTERACTION" });
        assert.deepEqual((report.event.payload.change as any).properties.map((p: any) => `${p.namespace}.${p.name}=${p.value}`), ["Alexa.BrightnessController.brightness=40"]);
        assert.deepEqual(report.context!.properties.map((p) => `${p.namespace}.${p.name}`), ["Alexa.PowerController.powerState", "Alexa.EndpointHealth.connectivity"]);
        const both = changeReport("user-1", OFF, { powerState: "ON", brightness: 40 }, "PHYSICAL_INTERACTION", new Date())!;
        assert.deepEqual((both.event.payload.change as any).properties.map((p: any) => p.name), ["powerState", "brightness"]);
        assert.deepEqual(both.context!.properties.map((p) => p.name), ["connectivity"]);
    });

    it("tell the whole state but EndpointHealth as changed when what the change replaced is not known (a repeated change)", () => {
        const report = changeReport("user-1", undefined, ON, "APP_INTERACTION", new Date())!;
        assert.deepEqual((report.event.payload.change as any).properties.map((p: any) => `${p.namespace}.${p.name}`), ["Alexa.PowerController.powerState", "Alexa.BrightnessController.brightness"]);
        assert.deepEqual(report.context!.properties.map((p) => `${p.namespace}.${p.name}`), ["Alexa.EndpointHealth.connectivity"]);
    });

    it("are current only while every property they tell, by namespace and name, has the lamp's value", () => {
        const report = changeReport("user-1", OFF, ON, "APP_INTERACTION", new Date())!;
        assert.equal(stillCurrent(report, ON), true);
        assert.equal(stillCurrent(report, OFF), false);
        const telling = (properties: object[]) => ({ ...report, event: { ...report.event, payload: { change: { cause: { type: "APP_INTERACTION" }, properties } } }, context: { properties: [] } }) as typeof report;
        // Nothing told is nothing current.
        assert.equal(stillCurrent(telling([]), ON), false);
        // A property the lamp does not have, though its value is one the lamp reports.
        assert.equal(stillCurrent(telling([{ namespace: "Alexa.Unknown", name: "other", value: "ON" }]), ON), false);
        // The right namespace, another name, the value of the namespace's own property.
        assert.equal(stillCurrent(telling([{ namespace: "Alexa.PowerController", name: "connectivity", value: "ON" }]), ON), false);
        assert.equal(stillCurrent(telling([{ namespace: "Alexa.PowerController", name: "powerState", value: "ON" }]), ON), true);
    });

    it("are not sent for a change that changed nothing", () => {
        assert.equal(changeReport("user-1", ON, ON, "APP_INTERACTION", new Date()), undefined);
    });

    it("validate against Amazon's schema with either cause, as Amazon's own sample does", function () {
        skipWithoutAlexaData(this);
        assertValidAlexaMessage(sampleDirective("ChangeReport/ChangeReport.json"));
        for (const cause of ["APP_INTERACTION", "PHYSICAL_INTERACTION"] as const) {
            const report = changeReport("user-1", OFF, { powerState: "ON", brightness: 7 }, cause, new Date())!;
            assertValidAlexaMessage({ ...report, event: { ...report.event, endpoint: { ...report.event.endpoint, scope: { type: "BearerToken", token: "Atza|x" } } } });
        }
    });

    it("go to the gateway of the region whose function received the grant", () => {
        assert.equal(gatewayUrl("us-east-1"), "https://api.amazonalexa.com/v3/events");
        assert.equal(gatewayUrl("eu-west-1"), "https://api.eu.amazonalexa.com/v3/events");
        assert.equal(gatewayUrl("us-west-2"), "https://api.fe.amazonalexa.com/v3/events");
        assert.equal(gatewayUrl("ap-south-1"), undefined, "a region without a gateway");
    });
});

describe("ChangeReport delivery through the queue", function () {
    this.timeout(30000);
    let dynamo: LocalDynamo;
    let lwa: LwaEndpoint;
    let gateway: AlexaGateway;
    let sqs: LocalSqs;
    let kms: KmsEndpoint;
    let queue: LocalQueue;
    let dlq: LocalQueue;
    let grants: GrantStore;
    let lamps: LampStore;
    let lwaClient: LwaClient;
    let logs: string[];
    let mapping: ReturnType<typeof eventSourceMapping>;
    let enqueue: ReturnType<typeof createEventQueue>;
    let lwaRefreshes: () => number;

    /** A user who linked with Alexa: their grant is stored as AcceptGrant stores it. */
    async function grantedUser(): Promise<{ sub: string; refreshToken: string }> {
        const sub = randomUUID();
        const tokens = await lwaClient.exchangeCode(lwa.issueCode());
        await grants.put(sub, { ...tokens, region: "us-east-1", grantedAt: Date.now() });
        return { sub, refreshToken: tokens.refreshToken };
    }

    /** Puts `sub`'s lamp in `state`, as a change through the companion app would leave it. */
    async function setLamp(sub: string, state: LampState) {
        await lamps.change(sub, { kind: "setBrightness", brightness: state.brightness });
        if (state.powerState === "OFF") {
            await lamps.change(sub, { kind: "power", powerState: "OFF" });
        }
    }

    /** Changes `sub`'s lamp from `before` to `after` and queues its report, as the companion API does. */
    async function change(sub: string, before: LampState, after: LampState) {
        await setLamp(sub, after);
        const report = changeReport(sub, before, after, "APP_INTERACTION", new Date())!;
        await enqueue(sub, report);
        return report;
    }

    /** The consumer as a container has it, its LWA client given `credentials`. */
    function consumerWith(credentials: () => Promise<LwaCredentials>) {
        const sqsClient = createAwsJsonClient(SQS_PROTOCOL, { endpoint: sqs.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS });
        return createChangeReportConsumer({
            deliver: createEventSender({
                grants,
                lwa: createLwaClient({ tokenUrl: lwa.tokenUrl, credentials, attemptTimeoutMs: 5000 }),
                gatewayUrl: () => gateway.url,
                attemptTimeoutMs: 1000,
                retryBaseMs: 20,
                stillCurrent: async (userId, report) => stillCurrent(report, await lamps.read(userId)),
            }),
            deadLetter: deadLetterTo(dlq.url, () => sqsClient),
            log: (entry) => logs.push(JSON.stringify({ level: consumerLogLevel(entry), ...entry })),
        });
    }

    const receivedBy = (refreshToken: string) => gateway.accepted.filter((e) => e.grant === refreshToken).map((e) => e.body);

    before(async () => {
        dynamo = await startDynalite();
        lwa = await startLwaEndpoint();
        gateway = await startAlexaGateway(lwa);
        sqs = await startLocalSqs();
        kms = await startKmsEndpoint();
        const tableName = "grants-" + randomUUID();
        await dynamo.createLampTable(tableName); // the same key schema: userId
        await dynamo.createLampTable("delivery-lamps");
        const dynamoDb = createDynamoDb({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS, maxAttempts: 2 });
        grants = createGrantStore({ tableName, seal: kms.seal(kms.createKey()), dynamoDb });
        lamps = createLampStore({ tableName: "delivery-lamps", dynamoDb });
        lwaClient = createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }), attemptTimeoutMs: 5000 });
        lwaRefreshes = () => lwa.requests.refresh_token ?? 0;
    });
    after(async () => {
        await Promise.all([dynamo.stop(), lwa.stop(), gateway.stop(), sqs.stop(), kms.stop()]);
    });
    beforeEach(() => {
        // A fresh container (its token cache), queue and dead-letter queue for every test.
        queue = sqs.createFifoQueue(`changes-${randomUUID()}.fifo`);
        dlq = sqs.createFifoQueue(`changes-dlq-${randomUUID()}.fifo`);
        const sqsClient = createAwsJsonClient(SQS_PROTOCOL, { endpoint: sqs.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS });
        enqueue = createEventQueue({ queueUrl: queue.url, sqs: sqsClient });
        logs = [];
        const consumer = consumerWith(async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }));
        mapping = eventSourceMapping(queue, dlq, consumer as any, { batchSize: 10, maxReceiveCount: 5 });
    });
    afterEach(async () => {
        gateway.setMode("up");
        lwa.setMode("up");
        await Promise.all([gateway.outage.bringUp(), lwa.outage.bringUp()]);
        await dynamo.setMode("up");
        // No token or secret in any line the consumer logged.
        const text = logs.join("\n");
        assert.ok(!text.includes(LWA_CLIENT_SECRET) && !/Atz[ar]\|/.test(text), "a log line holds a token or the secret");
    });

    it("queues each change in its user's FIFO group, deduplicated by the event's messageId", async () => {
        const { sub } = await grantedUser();
        const report = await change(sub, OFF, ON);
        await enqueue(sub, report); // a retried SendMessage
        assert.equal(queue.messages.length, 1);
        const [message] = queue.messages;
        assert.equal(message.deduplicationId, report.event.header.messageId);
        assert.match(message.groupId, /^[0-9a-f]{32}$/);
        assert.ok(!message.body.includes("Atza|"), "a token waits in the queue");
        assert.equal(JSON.parse(message.body).report.event.endpoint.scope.token, "", "the scope's token is filled in at sending");
        assert.equal(message.groupId, messageGroupOf(sub));
        assert.deepEqual(JSON.parse(message.body).report, report);
    });

    it("delivers a queued ChangeReport with the user's LWA token in the header and the scope (202)", async () => {
        const user = await grantedUser();
        const report = await change(user.sub, OFF, ON);
        await mapping.drain();
        assert.equal(queue.messages.length, 0);
        const [received, ...more] = receivedBy(user.refreshToken);
        assert.equal(more.length, 0);
        assert.equal(received.event.header.messageId, report.event.header.messageId);
        assert.match(received.event.endpoint.scope.token, /^Atza\|/);
        if (alexaDataPresent) {
            assertValidAlexaMessage(received);
        }
        assert.match(logs[0], /"outcome":"accepted"/);
    });

    it("refreshes an expired LWA token before sending, stores it, and reuses it within the container", async () => {
        const user = await grantedUser();
        const stored = (await grants.get(user.sub))!;
        await grants.put(user.sub, { ...stored, accessTokenExpiresAt: Date.now() - 1000 });
        const refreshes = lwaRefreshes();
        await change(user.sub, OFF, ON);
        await mapping.drain();
        await change(user.sub, ON, OFF);
        await mapping.drain();
        assert.equal(receivedBy(user.refreshToken).length, 2);
        assert.equal(lwaRefreshes() - refreshes, 1, "one refresh for both events");
        const after = (await grants.get(user.sub))!;
        assert.notEqual(after.accessToken, stored.accessToken);
        assert.ok(after.accessTokenExpiresAt > Date.now());
    });

    it("on 401 refreshes the token once and sends again", async () => {
        const user = await grantedUser();
        await change(user.sub, OFF, ON);
        await mapping.drain(); // the container now holds the token
        lwa.expireAccessTokens(); // the gateway no longer takes it, though its expiry is ahead
        const refreshes = lwaRefreshes();
        await change(user.sub, ON, OFF);
        await mapping.drain();
        assert.equal(receivedBy(user.refreshToken).length, 2);
        assert.equal(lwaRefreshes() - refreshes, 1);
        assert.deepEqual(gateway.answers.slice(-2), [401, 202]);
    });

    it("forgets the grant of a user who disabled the skill (401, then LWA refuses the refresh token) and sends their events nowhere", async () => {
        const user = await grantedUser();
        lwa.disableSkill(user.refreshToken);
        await change(user.sub, OFF, ON);
        await mapping.drain();
        assert.equal(await grants.get(user.sub), undefined);
        const requests = gateway.answers.length;
        await change(user.sub, ON, OFF);
        await mapping.drain();
        assert.equal(gateway.answers.length, requests, "the gateway was asked again");
        assert.equal(queue.messages.length + dlq.messages.length, 0);
        assert.match(logs[0], /"level":"warn".*"outcome":"forgotten".*invalid_grant/);
        assert.match(logs[1], /"outcome":"dropped"/);
    });

    it("keeps every grant and event while the Alexa Client Secret is wrong (invalid_client), says what to fix, and delivers the same events once it is right", async () => {
        const users = [await grantedUser(), await grantedUser(), await grantedUser()];
        const before = await Promise.all(users.map((u) => grants.get(u.sub)));
        for (const user of users) {
            await grants.put(user.sub, { ...(await grants.get(user.sub))!, accessTokenExpiresAt: 0 }); // each needs a refresh
        }
        const reports = await Promise.all(users.map((u) => change(u.sub, OFF, ON)));
        // A mistyped or rotated secret: every refresh is refused as invalid_client.
        const wrong = eventSourceMapping(queue, dlq, consumerWith(async () => ({ clientId: LWA_CLIENT_ID, clientSecret: "mistyped-secret" })) as any, { batchSize: 10, maxReceiveCount: 5 });
        for (let i = 0; i < 3; i++) {
            await wrong.poll();
        }
        assert.equal(queue.messages.length, 3, "events were lost");
        assert.equal(dlq.messages.length, 0);
        for (const [i, user] of users.entries()) {
            const kept = (await grants.get(user.sub))!;
            assert.equal(kept.refreshToken, before[i]!.refreshToken, "a grant was forgotten for our configuration's fault");
        }
        assert.equal(gateway.accepted.filter((e) => users.some((u) => u.refreshToken === e.grant)).length, 0);
        const line = JSON.parse(logs[0]);
        assert.deepEqual([line.level, line.outcome, line.cause], ["error", "wait", "configuration"]);
        assert.match(line.reason, /LWA refused the request: 401 \(invalid_client\)/);
        assert.match(line.fix, /alexaClientId and alexaClientSecret/);
        assert.ok(!logs.join("\n").includes("mistyped-secret"), "the secret was logged");
        // The operator sets the right secret and redeploys: new containers read it.
        const fixed = eventSourceMapping(queue, dlq, consumerWith(async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET })) as any, { batchSize: 10, maxReceiveCount: 5 });
        await fixed.drain();
        assert.equal(queue.messages.length + dlq.messages.length, 0);
        for (const [i, user] of users.entries()) {
            assert.deepEqual(receivedBy(user.refreshToken).map((b) => b.event.header.messageId), [reports[i].event.header.messageId]);
        }
    });

    it("keeps every grant while the skill lacks the Send Alexa Events permission, and delivers the events once it has it again", async () => {
        const user = await grantedUser();
        gateway.withdrawPermission();
        const report = await change(user.sub, OFF, ON);
        await mapping.poll();
        await mapping.poll();
        assert.equal(queue.messages.length, 1);
        assert.ok(await grants.get(user.sub));
        assert.match(logs[0], /"level":"error".*"cause":"configuration".*INSUFFICIENT_PERMISSION_EXCEPTION/);
        gateway.restorePermission();
        await mapping.drain();
        assert.deepEqual(receivedBy(user.refreshToken).map((b) => b.event.header.messageId), [report.event.header.messageId]);
    });

    it("never rolls the Alexa app back: a report delivered after a newer change is not sent, the newer one is", async () => {
        const user = await grantedUser();
        gateway.setMode("unavailable503");
        const on = await change(user.sub, OFF, ON);
        await mapping.poll(); // the report waits through an outage
        // Meanwhile Alexa switches the lamp off by voice (its answer tells Alexa), then the page dims it on.
        await setLamp(user.sub, { powerState: "OFF", brightness: 100 });
        const dimmed = await change(user.sub, OFF, { powerState: "ON", brightness: 40 });
        gateway.setMode("up");
        await mapping.drain();
        assert.deepEqual(receivedBy(user.refreshToken).map((b) => b.event.header.messageId), [dimmed.event.header.messageId]);
        assert.ok(logs.some((l) => l.includes(on.event.header.messageId) && /"outcome":"superseded"/.test(l)));
    });

    it("retries 429 and 5xx with backoff within one delivery, and delivers once", async () => {
        for (const failure of ["throttle429", "error500", "unavailable503"] as const) {
            const user = await grantedUser();
            gateway.failNext(2, failure);
            await change(user.sub, OFF, ON);
            assert.equal(await mapping.poll(), 1);
            assert.equal(queue.messages.length, 0, failure);
            assert.equal(receivedBy(user.refreshToken).length, 1, failure);
        }
    });

    it("keeps every event while the gateway is down; when it is back, each user's events go in order, those the lamp has moved on from left out", async () => {
        const alice = await grantedUser();
        const bob = await grantedUser();
        gateway.setMode("unavailable503");
        const sent: Record<string, string[]> = { [alice.sub]: [], [bob.sub]: [] };
        let state = OFF;
        for (let level = 1; level <= 6; level++) {
            const next: LampState = { powerState: "ON", brightness: level * 10 };
            for (const user of [alice, bob]) {
                sent[user.sub].push((await change(user.sub, state, next)).event.header.messageId);
            }
            state = next;
        }
        for (let i = 0; i < 3; i++) {
            await mapping.poll(); // the outage lasts three polls
        }
        // Each user's latest report waits; the older ones, which the lamp has moved on from, are left out.
        assert.deepEqual(queue.messages.map((m) => JSON.parse(m.body).report.event.header.messageId).sort(), [sent[alice.sub][5], sent[bob.sub][5]].sort());
        assert.equal(receivedBy(alice.refreshToken).length + receivedBy(bob.refreshToken).length, 0);
        gateway.setMode("up");
        await mapping.drain();
        assert.equal(queue.messages.length + dlq.messages.length, 0);
        for (const user of [alice, bob]) {
            // Only the last report still says what the lamp is: the older five would roll it back.
            assert.deepEqual(receivedBy(user.refreshToken).map((b) => b.event.header.messageId), sent[user.sub].slice(-1));
            const superseded = logs.filter((l) => /"outcome":"superseded"/.test(l) && sent[user.sub].some((id) => l.includes(id)));
            assert.equal(superseded.length, 5);
        }
    });

    it("delivers each of a user's events in order when each still says what the lamp is", async () => {
        const alice = await grantedUser();
        gateway.setMode("unavailable503");
        const sent = [(await change(alice.sub, OFF, ON)).event.header.messageId];
        await mapping.poll();
        gateway.setMode("up");
        await mapping.drain();
        // One change at a time now, each delivered before the next is made.
        for (const [before, after] of [[ON, OFF], [OFF, ON], [ON, { powerState: "ON", brightness: 30 }]] as const) {
            sent.push((await change(alice.sub, before, after)).event.header.messageId);
            await mapping.drain();
        }
        assert.deepEqual(receivedBy(alice.refreshToken).map((b) => b.event.header.messageId), sent);
    });

    it("keeps the event when LWA is down at refresh, and delivers it once LWA is back", async () => {
        const user = await grantedUser();
        const stored = (await grants.get(user.sub))!;
        await grants.put(user.sub, { ...stored, accessTokenExpiresAt: 0 });
        await lwa.outage.takeDown();
        await change(user.sub, OFF, ON);
        await mapping.poll();
        assert.equal(queue.messages.length, 1);
        assert.match(logs[0], /"outcome":"wait".*"cause":"transient".*LWA could not be reached/);
        await lwa.outage.bringUp();
        await mapping.drain();
        assert.equal(receivedBy(user.refreshToken).length, 1);
    });

    it("drops the event and forgets the grant when LWA refuses the refresh token (revoked)", async () => {
        const user = await grantedUser();
        const stored = (await grants.get(user.sub))!;
        await grants.put(user.sub, { ...stored, accessTokenExpiresAt: 0 });
        lwa.revokeRefreshToken(user.refreshToken);
        await change(user.sub, OFF, ON);
        await mapping.drain();
        assert.equal(await grants.get(user.sub), undefined);
        assert.equal(queue.messages.length + dlq.messages.length, 0);
    });

    it("keeps the event while DynamoDB is down, and delivers it once DynamoDB is back", async () => {
        const user = await grantedUser();
        await change(user.sub, OFF, ON);
        await dynamo.setMode("down");
        await mapping.poll();
        assert.equal(queue.messages.length, 1);
        await dynamo.setMode("up");
        await mapping.drain();
        assert.equal(receivedBy(user.refreshToken).length, 1);
    });

    it("moves an event the gateway refuses for good (400) to the dead-letter queue at once, and goes on with the next", async () => {
        const user = await grantedUser();
        await setLamp(user.sub, ON);
        const bad = changeReport(user.sub, OFF, ON, "APP_INTERACTION", new Date())!;
        bad.event.header.name = "";
        await enqueue(user.sub, bad);
        await mapping.drain();
        await change(user.sub, ON, OFF);
        await mapping.drain();
        assert.equal(dlq.messages.length, 1);
        assert.equal(JSON.parse(dlq.messages[0].body).report.event.header.messageId, bad.event.header.messageId);
        assert.equal(receivedBy(user.refreshToken).length, 1);
        assert.equal(queue.messages.length, 0);
    });

    it("moves an event to the dead-letter queue after maxReceiveCount failed deliveries, where it is kept", async () => {
        const user = await grantedUser();
        gateway.setMode("unavailable503");
        const report = await change(user.sub, OFF, ON);
        for (let i = 0; i < 6; i++) {
            await mapping.poll();
        }
        assert.equal(queue.messages.length, 0);
        assert.equal(dlq.messages.length, 1);
        assert.equal(JSON.parse(dlq.messages[0].body).report.event.header.messageId, report.event.header.messageId);
    });

    it("starts no delivery it might not finish before the function's timeout, and hands those records back in order", async () => {
        const user = await grantedUser();
        const reports = [await change(user.sub, OFF, ON), await change(user.sub, ON, OFF), await change(user.sub, OFF, ON)];
        const consumer = createChangeReportConsumer({
            deliver: createEventSender({ grants, lwa: lwaClient, gatewayUrl: () => gateway.url, stillCurrent: async (userId, report) => stillCurrent(report, await lamps.read(userId)) }),
            deadLetter: async () => undefined,
            log: (entry) => logs.push(JSON.stringify(entry)),
        });
        // Lambda's clock: 25 s left at the start and for the first record, 19 s once it is done.
        const left = [25_000, 25_000, 19_000];
        const records = queue.messages.map((m) => ({ messageId: m.messageId, body: m.body }));
        const answer = await consumer({ Records: records }, { getRemainingTimeInMillis: () => left.shift() ?? 0 });
        assert.deepEqual(answer.batchItemFailures.map((f) => f.itemIdentifier), records.slice(1).map((r) => r.messageId));
        assert.deepEqual(receivedBy(user.refreshToken).map((b) => b.event.header.messageId), [reports[0].event.header.messageId]);
        assert.match(logs.at(-1)!, /"outcome":"deferred"/);
    });

    it("drops, without asking the gateway, the events of a user who never granted", async () => {
        const requests = gateway.answers.length;
        await change(randomUUID(), OFF, ON);
        await mapping.drain();
        assert.equal(gateway.answers.length, requests);
        assert.match(logs[0], /"outcome":"dropped".*no grant/);
    });
});
