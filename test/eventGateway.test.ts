// One ChangeReport's delivery to the event gateway, answer by answer: what each documented answer
// makes of the event (accepted, dropped, poison, retry), of the user's grant and of the LWA token,
// and the exact reason logged. The queue around it is test/changeReport.test.ts.
import { strict as assert } from "assert";
import { randomUUID } from "crypto";
import { changeReport } from "../handler/changeReport";
import { createDynamoDb } from "../handler/awsJson";
import { createEventSender, DeliverChangeReport, EventSenderSettings, gatewayUrl, GATEWAYS } from "../handler/eventGateway";
import { createGrantStore, Grant, GrantStore } from "../handler/grantStore";
import { createLwaClient, LwaClient } from "../handler/lwa";
import { AlexaGateway, startAlexaGateway } from "./support/alexaGateway";
import { LocalDynamo, LOCAL_CREDENTIALS, startDynalite } from "./support/dynalite";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, LwaEndpoint, startLwaEndpoint } from "./support/lwaEndpoint";

const report = (sub: string) => changeReport(sub, { powerState: "OFF", brightness: 100 }, { powerState: "ON", brightness: 100 }, "APP_INTERACTION", new Date())!;

describe("delivering one ChangeReport to the event gateway", function () {
    this.timeout(20000);
    let dynamo: LocalDynamo;
    let lwa: LwaEndpoint;
    let gateway: AlexaGateway;
    let grants: GrantStore;
    let lwaClient: LwaClient;
    /** The waits the sender asked for between tries, in order. */
    let waits: number[];

    const refreshes = () => lwa.requests.refresh_token ?? 0;

    /** A sender as a fresh container has it: no tokens kept yet, waits recorded rather than waited. */
    function sender(settings: Partial<EventSenderSettings> = {}): DeliverChangeReport {
        return createEventSender({
            grants,
            lwa: lwaClient,
            gatewayUrl: () => gateway.url,
            attemptTimeoutMs: 1000,
            sleep: async (ms) => void waits.push(ms),
            ...settings,
        });
    }

    /** A user whose grant AcceptGrant stored, with the LWA tokens it got for a fresh code. */
    async function grantedUser(changes: Partial<Grant> = {}): Promise<{ sub: string; grant: Grant }> {
        const sub = randomUUID();
        const tokens = await lwaClient.exchangeCode(lwa.issueCode());
        const grant = { ...tokens, region: "us-east-1", grantedAt: Date.now(), ...changes };
        await grants.put(sub, grant);
        return { sub, grant };
    }

    before(async () => {
        dynamo = await startDynalite();
        lwa = await startLwaEndpoint();
        gateway = await startAlexaGateway(lwa);
        const tableName = "grants-" + randomUUID();
        await dynamo.createLampTable(tableName);
        grants = createGrantStore({ tableName, dynamoDb: createDynamoDb({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS, maxAttempts: 1 }) });
        lwaClient = createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }), attemptTimeoutMs: 2000 });
    });
    after(async () => {
        await Promise.all([dynamo.stop(), lwa.stop(), gateway.stop()]);
    });
    beforeEach(() => {
        waits = [];
    });
    afterEach(async () => {
        gateway.setMode("up");
        lwa.setMode("up");
        await Promise.all([gateway.outage.bringUp(), lwa.outage.bringUp()]);
        await dynamo.setMode("up");
    });

    it("posts the event as JSON with the user's access token as bearer and in the event's scope (202: accepted)", async () => {
        const { sub, grant } = await grantedUser();
        const event = report(sub);
        assert.deepEqual(await sender()(sub, event), { outcome: "accepted" });
        const [request, ...more] = gateway.requests.slice(-1);
        assert.equal(more.length, 0);
        assert.equal(request.contentType, "application/json");
        assert.equal(request.authorization, `Bearer ${grant.accessToken}`);
        const body = JSON.parse(request.body);
        assert.equal(body.event.endpoint.scope.token, grant.accessToken);
        assert.equal(body.event.header.messageId, event.event.header.messageId);
    });

    for (const [status, code] of [[403, "SKILL_DISABLED_EXCEPTION"], [403, "SKILL_NEVER_ENABLED_EXCEPTION"], [403, "INSUFFICIENT_PERMISSION_EXCEPTION"], [404, "ACCOUNT_NOT_FOUND_EXCEPTION"]] as const) {
        it(`on ${status} ${code} drops the event, deletes the grant and sends that user's next events nowhere`, async () => {
            const { sub } = await grantedUser();
            const deliver = sender();
            gateway.answerNext(1, status, code);
            assert.deepEqual(await deliver(sub, report(sub)), { outcome: "dropped", reason: `the gateway answered ${status} ${code}: the grant was deleted` });
            assert.equal(await grants.get(sub), undefined);
            const asked = gateway.requests.length;
            assert.deepEqual(await deliver(sub, report(sub)), { outcome: "dropped", reason: "the user has no grant (events not permitted)" });
            assert.equal(gateway.requests.length, asked, "the gateway was asked again");
        });
    }

    for (const [status, code, reason] of [
        [400, "INVALID_REQUEST_EXCEPTION", "400 INVALID_REQUEST_EXCEPTION"],
        [413, "REQUEST_ENTITY_TOO_LARGE_EXCEPTION", "413 REQUEST_ENTITY_TOO_LARGE_EXCEPTION"],
        [403, "FORBIDDEN", "403 FORBIDDEN"],
        [404, undefined, "404 "],
    ] as const) {
        it(`on ${status} ${code ?? "without a body"} calls the event poison at once and keeps the grant`, async () => {
            const { sub, grant } = await grantedUser();
            gateway.answerNext(1, status, code);
            const asked = gateway.requests.length;
            assert.deepEqual(await sender()(sub, report(sub)), { outcome: "poison", reason: `the gateway refused the event: ${reason}` });
            assert.equal(gateway.requests.length - asked, 1, "a refused event was sent again");
            assert.deepEqual(await grants.get(sub), grant);
        });
    }

    it("on 401 refreshes the token once and sends again with the new one; a second 401 leaves the event to the queue", async () => {
        const { sub, grant } = await grantedUser();
        const before = refreshes();
        gateway.answerNext(2, 401, "INVALID_ACCESS_TOKEN_EXCEPTION");
        const asked = gateway.requests.length;
        assert.deepEqual(await sender()(sub, report(sub)), { outcome: "retry", reason: "the gateway answered 401 INVALID_ACCESS_TOKEN_EXCEPTION" });
        assert.equal(refreshes() - before, 1);
        const [first, second] = gateway.requests.slice(asked);
        assert.equal(gateway.requests.length - asked, 2);
        const stored = (await grants.get(sub))!;
        assert.notEqual(stored.accessToken, grant.accessToken, "the refreshed token was not stored");
        assert.equal(first.authorization, `Bearer ${grant.accessToken}`);
        assert.equal(second.authorization, `Bearer ${stored.accessToken}`);
        assert.equal(JSON.parse(second.body).event.endpoint.scope.token, stored.accessToken);
        assert.deepEqual(waits, [], "a 401 is not a reason to wait");
    });

    it("on 401 after the grant was deleted meanwhile drops the event without refreshing", async () => {
        const { sub } = await grantedUser();
        const deliver = sender();
        assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" }); // the container keeps the token
        await grants.delete(sub);
        const before = refreshes();
        gateway.answerNext(1, 401, "INVALID_ACCESS_TOKEN_EXCEPTION");
        assert.deepEqual(await deliver(sub, report(sub)), { outcome: "dropped", reason: "the grant was deleted meanwhile" });
        assert.equal(refreshes(), before);
    });

    for (const [maxAttempts, expected] of [[undefined, 3], [1, 1], [5, 5]] as const) {
        it(`tries a throttled event ${expected === 1 ? "once" : `${expected} times`}${maxAttempts ? ` with maxAttempts ${maxAttempts}` : " by default"}, waiting with full jitter up to base * 2^(n-1) between tries`, async () => {
            const { sub } = await grantedUser();
            gateway.setMode("throttle429");
            const asked = gateway.requests.length;
            const delivery = await sender({ maxAttempts, backoffBaseMs: 100, random: () => 0.5 })(sub, report(sub));
            assert.deepEqual(delivery, { outcome: "retry", reason: "the gateway answered 429 THROTTLING_EXCEPTION" });
            assert.equal(gateway.requests.length - asked, expected);
            assert.deepEqual(waits, [50, 100, 200, 400].slice(0, expected - 1));
        });
    }

    it("waits 200 ms * 2^(n-1) at most by default, and no more than the jitter says", async () => {
        const { sub } = await grantedUser();
        gateway.failNext(2, "error500");
        assert.deepEqual(await sender({ random: () => 0.999 })(sub, report(sub)), { outcome: "accepted" });
        assert.deepEqual(waits.map(Math.round), [200, 400]);
        waits = [];
        gateway.failNext(1, "unavailable503");
        assert.deepEqual(await sender({ random: () => 0 })(sub, report(sub)), { outcome: "accepted" });
        assert.deepEqual(waits, [0]);
    });

    it("names a gateway that does not answer within the attempt's time, or cannot be reached", async () => {
        const { sub } = await grantedUser();
        gateway.setMode("hang");
        assert.deepEqual(await sender({ maxAttempts: 1, attemptTimeoutMs: 150 })(sub, report(sub)), { outcome: "retry", reason: "the gateway: no answer within 150 ms" });
        gateway.setMode("up");
        await gateway.outage.takeDown();
        assert.deepEqual(await sender({ maxAttempts: 2 })(sub, report(sub)), { outcome: "retry", reason: "the gateway: unreachable" });
        assert.equal(waits.length, 1);
    });

    it("keeps out of its reasons an exception code that is not one (markup, too long, lowercase, not a string)", async () => {
        const { sub } = await grantedUser();
        for (const code of ["<b>bad</b>", "A".repeat(65), "lower_case", ["THROTTLING_EXCEPTION"], 429]) {
            gateway.answerNext(1, 500, code);
            assert.deepEqual(await sender({ maxAttempts: 1 })(sub, report(sub)), { outcome: "retry", reason: "the gateway answered 500" }, String(code));
        }
        gateway.answerNext(1, 503, "A".repeat(64));
        assert.deepEqual(await sender({ maxAttempts: 1 })(sub, report(sub)), { outcome: "retry", reason: `the gateway answered 503 ${"A".repeat(64)}` });
    });

    it("refreshes a token within a minute of its expiry before sending, and keeps one further from it", async () => {
        const { sub, grant } = await grantedUser();
        const before = refreshes();
        const at = (ms: number) => sender({ now: () => grant.accessTokenExpiresAt - ms });
        assert.deepEqual(await at(60_001)(sub, report(sub)), { outcome: "accepted" });
        assert.equal(refreshes(), before, "refreshed a token with more than a minute left");
        assert.equal(gateway.requests.at(-1)!.authorization, `Bearer ${grant.accessToken}`);
        assert.deepEqual(await at(60_000)(sub, report(sub)), { outcome: "accepted" });
        assert.equal(refreshes() - before, 1);
        const stored = (await grants.get(sub))!;
        assert.notEqual(stored.accessToken, grant.accessToken);
        assert.equal(gateway.requests.at(-1)!.authorization, `Bearer ${stored.accessToken}`);
    });

    it("takes the token another container refreshed meanwhile rather than refreshing again", async () => {
        const { sub, grant } = await grantedUser();
        let clock = Date.now();
        const deliver = sender({ now: () => clock });
        assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" }); // kept in this container
        // Another container refreshes; this container's copy is now close to its expiry.
        const refreshed = await lwaClient.refresh(grant.refreshToken);
        await grants.updateTokens(sub, grant.refreshToken, { ...refreshed, accessTokenExpiresAt: grant.accessTokenExpiresAt + 3_600_000 });
        clock = grant.accessTokenExpiresAt - 30_000;
        const before = refreshes();
        assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" });
        assert.equal(refreshes(), before);
        assert.equal(gateway.requests.at(-1)!.authorization, `Bearer ${refreshed.accessToken}`);
        // and keeps it: the next event reads nothing and refreshes nothing
        await dynamo.setMode("down");
        assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" });
    });

    it("drops the event of a user whose grant was deleted while this container kept an expiring token", async () => {
        const { sub, grant } = await grantedUser();
        let clock = Date.now();
        const deliver = sender({ now: () => clock });
        assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" });
        await grants.delete(sub);
        clock = grant.accessTokenExpiresAt;
        const before = refreshes();
        assert.deepEqual(await deliver(sub, report(sub)), { outcome: "dropped", reason: "the user has no grant (events not permitted)" });
        assert.equal(refreshes(), before);
    });

    it("leaves the event to the queue, naming the cause, when DynamoDB or LWA fails; deletes the grant when LWA refuses it", async () => {
        const { sub } = await grantedUser({ accessTokenExpiresAt: 0 });
        await dynamo.setMode("down");
        assert.deepEqual(await sender()(sub, report(sub)), { outcome: "retry", reason: "the grant could not be read or updated (Error)" });
        await dynamo.setMode("up");
        lwa.setMode("unavailable503");
        assert.deepEqual(await sender()(sub, report(sub)), { outcome: "retry", reason: "LWA answered 503 (TemporarilyUnavailable)" });
        assert.ok(await grants.get(sub), "a failed refresh deleted the grant");
        lwa.setMode("up");
        lwa.revokeRefreshToken((await grants.get(sub))!.refreshToken);
        assert.deepEqual(await sender()(sub, report(sub)), { outcome: "dropped", reason: "LWA refused the request: 400 (invalid_grant): the grant was deleted" });
        assert.equal(await grants.get(sub), undefined);
    });

    it("goes on trying after a 401's refresh as many times as a first send would", async () => {
        const { sub } = await grantedUser();
        gateway.answerNext(1, 401, "INVALID_ACCESS_TOKEN_EXCEPTION");
        gateway.answerNext(3, 429, "THROTTLING_EXCEPTION");
        const asked = gateway.requests.length;
        assert.deepEqual(await sender()(sub, report(sub)), { outcome: "retry", reason: "the gateway answered 429 THROTTLING_EXCEPTION" });
        assert.equal(gateway.requests.length - asked, 4);
        assert.equal(waits.length, 2);
    });

    it("deletes the grant only for a 403 or 404: the same code with another status is a refused event", async () => {
        const { sub, grant } = await grantedUser();
        gateway.answerNext(1, 400, "SKILL_DISABLED_EXCEPTION");
        assert.deepEqual(await sender()(sub, report(sub)), { outcome: "poison", reason: "the gateway refused the event: 400 SKILL_DISABLED_EXCEPTION" });
        gateway.answerNext(1, 500, "ACCOUNT_NOT_FOUND_EXCEPTION");
        assert.deepEqual(await sender({ maxAttempts: 1 })(sub, report(sub)), { outcome: "retry", reason: "the gateway answered 500 ACCOUNT_NOT_FOUND_EXCEPTION" });
        assert.deepEqual(await grants.get(sub), grant);
    });

    it("waits between tries by default (a sender given no wait of its own)", async () => {
        const { sub } = await grantedUser();
        gateway.answerNext(2, 429, "THROTTLING_EXCEPTION");
        const started = performance.now();
        assert.deepEqual(await createEventSender({ grants, lwa: lwaClient, gatewayUrl: () => gateway.url, backoffBaseMs: 100, random: () => 0.999 })(sub, report(sub)), { outcome: "accepted" });
        // 99.9 ms, then 199.8 ms: a timer never fires early, so this bound cannot flake.
        assert.ok(performance.now() - started >= 295, `${performance.now() - started} ms`);
    });

    it("calls the event poison, asking no gateway, when the grant's region has none", async () => {
        const { sub } = await grantedUser({ region: "ap-south-1" });
        const asked = gateway.requests.length;
        assert.deepEqual(await sender({ gatewayUrl })(sub, report(sub)), { outcome: "poison", reason: "no Alexa event gateway for the grant's region ap-south-1" });
        assert.equal(gateway.requests.length, asked);
        assert.deepEqual([gatewayUrl("constructor"), gatewayUrl("toString"), gatewayUrl("")], [undefined, undefined, undefined]);
        assert.deepEqual(Object.keys(GATEWAYS).sort(), ["eu-west-1", "us-east-1", "us-west-2"]);
    });
});
