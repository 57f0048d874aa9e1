// One ChangeReport's delivery to the event gateway, cause by cause (handler/causes.ts): what each
// documented answer of the gateway and of LWA makes of the event (accepted, dropped, forgotten,
// poison, wait), of the user's grant and of the LWA token, and the exact reason logged. Only an
// answer that proves the user's own grant dead forgets it. The queue around it is
// test/changeReport.test.ts; the batch, test/changeReportConsumer.test.ts.
import { strict as assert } from "assert";
import { randomUUID } from "crypto";
import { changeReport } from "../handler/changeReport";
import { createDynamoDb } from "../handler/awsJson";
import { createEventSender, DeliverChangeReport, EventSenderSettings, gatewayUrl, GATEWAYS } from "../handler/eventGateway";
import { createGrantStore, Grant, GrantStore } from "../handler/grantStore";
import { createLwaClient, LwaClient } from "../handler/lwa";
import { AlexaGateway, startAlexaGateway } from "../local/alexaGateway";
import { LocalDynamo, LOCAL_CREDENTIALS, startDynalite } from "../local/dynalite";
import { KmsEndpoint, startKmsEndpoint } from "../local/kmsEndpoint";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, LwaEndpoint, startLwaEndpoint } from "../local/lwaEndpoint";

const report = (sub: string) => changeReport(sub, { powerState: "OFF", brightness: 100 }, { powerState: "ON", brightness: 100 }, "APP_INTERACTION", new Date())!;

describe("delivering one ChangeReport to the event gateway", function () {
    this.timeout(20000);
    let dynamo: LocalDynamo;
    let kms: KmsEndpoint;
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

    /** Gateway requests made while `run` runs. */
    async function requestsDuring<T>(run: () => Promise<T>): Promise<{ result: T; requests: typeof gateway.requests }> {
        const before = gateway.requests.length;
        const result = await run();
        return { result, requests: gateway.requests.slice(before) };
    }

    before(async () => {
        dynamo = await startDynalite();
        kms = await startKmsEndpoint();
        lwa = await startLwaEndpoint();
        gateway = await startAlexaGateway(lwa);
        const tableName = "grants-" + randomUUID();
        await dynamo.createLampTable(tableName);
        grants = createGrantStore({ tableName, seal: kms.seal(kms.createKey()), dynamoDb: createDynamoDb({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS, maxAttempts: 1 }) });
        lwaClient = createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }), attemptTimeoutMs: 2000 });
    });
    after(async () => {
        await Promise.all([dynamo.stop(), kms.stop(), lwa.stop(), gateway.stop()]);
    });
    beforeEach(() => {
        waits = [];
    });
    afterEach(async () => {
        assert.deepEqual([gateway.scriptedLeft(), lwa.scriptedLeft()], [0, 0], "a test left scripted answers for the next");
        gateway.setMode("up");
        gateway.restorePermission();
        lwa.setMode("up");
        await Promise.all([gateway.outage.bringUp(), lwa.outage.bringUp()]);
        await dynamo.setMode("up");
    });

    it("posts the event as JSON with the user's access token as bearer and in the event's scope (202: accepted)", async () => {
        const { sub, grant } = await grantedUser();
        const event = report(sub);
        const { result, requests } = await requestsDuring(() => sender()(sub, event));
        assert.deepEqual(result, { outcome: "accepted" });
        assert.equal(requests.length, 1);
        const [request] = requests;
        assert.equal(request.contentType, "application/json");
        assert.equal(request.authorization, `Bearer ${grant.accessToken}`);
        const body = JSON.parse(request.body);
        assert.equal(body.event.endpoint.scope.token, grant.accessToken);
        assert.equal(body.event.header.messageId, event.event.header.messageId);
    });

    describe("our configuration's faults keep the grant and the event", () => {
        it("403 INSUFFICIENT_PERMISSION_EXCEPTION (Send Alexa Events off): the event waits, the grant stays, the fix names the permission", async () => {
            const { sub, grant } = await grantedUser();
            gateway.withdrawPermission();
            const before = refreshes();
            const { result, requests } = await requestsDuring(() => sender()(sub, report(sub)));
            assert.equal(refreshes(), before, "LWA was asked about a code in Amazon's table");
            assert.deepEqual(result, {
                outcome: "wait",
                cause: "configuration",
                reason: "the gateway answered 403 INSUFFICIENT_PERMISSION_EXCEPTION",
                fix: "turn on Send Alexa Events on the skill's Permissions page in the Alexa developer console, and check that alexaClientId is that skill's",
            });
            assert.equal(requests.length, 1, "a configuration fault is not retried at once");
            assert.deepEqual(await grants.get(sub), grant);
            gateway.restorePermission();
            assert.deepEqual(await sender()(sub, report(sub)), { outcome: "accepted" }, "delivered once the permission is back");
        });

        it("403 SKILL_NEVER_ENABLED_EXCEPTION (the wrong region's gateway): the event waits, the grant stays, the fix names the region stacks", async () => {
            const { sub, grant } = await grantedUser();
            gateway.enabledInAnotherRegion(grant.refreshToken);
            const delivery = await sender()(sub, report(sub));
            assert.deepEqual([delivery.outcome, (delivery as { cause: string }).cause, (delivery as { reason: string }).reason],
                ["wait", "configuration", "the gateway answered 403 SKILL_NEVER_ENABLED_EXCEPTION"]);
            assert.match((delivery as { fix: string }).fix, /deploy a stack in every region the skill serves/);
            assert.deepEqual(await grants.get(sub), grant);
        });

        for (const [status, code, named] of [[403, "FORBIDDEN", "403 FORBIDDEN"], [404, undefined, "404"], [302, undefined, "302"], [403, "<b>x</b>", "403"]] as const) {
            it(`${status} ${code ?? "without a body"} (an answer outside Amazon's table): the event waits as a configuration fault, the grant stays`, async () => {
                const { sub, grant } = await grantedUser();
                // A 403 outside the table asks LWA first (a user who disabled the skill can get one), then sends again.
                const asksLwa = status === 403;
                gateway.answerNext(asksLwa ? 2 : 1, status, code);
                const before = refreshes();
                const { result, requests } = await requestsDuring(() => sender()(sub, report(sub)));
                assert.deepEqual([result.outcome, (result as { cause: string }).cause, (result as { reason: string }).reason],
                    ["wait", "configuration", `the gateway answered ${named}`]);
                assert.deepEqual([requests.length, refreshes() - before], asksLwa ? [2, 1] : [1, 0]);
                assert.equal((await grants.get(sub))!.refreshToken, grant.refreshToken);
            });
        }

        it("refreshes from LWA when the stored token is the one refused, or is one minute or less from its expiry; takes another container's fresher one", async () => {
            const T = 1_900_000_000_000;
            const { sub, grant } = await grantedUser({ accessTokenExpiresAt: T + 3_600_000 });
            // The gateway refuses the token sent; meanwhile another container stored a new one.
            const other = await lwaClient.refresh(grant.refreshToken, Date.now() + 5000);
            for (const [expiresIn, refreshed] of [[60_001, 0], [60_000, 1]] as const) {
                await grants.put(sub, { ...grant, accessToken: other.accessToken, accessTokenExpiresAt: T + expiresIn });
                // The first read gives the token this container sent (the old one), which the
                // gateway refuses; the read after the refusal finds the other container's.
                let first = true;
                const racing: GrantStore = { ...grants, get: async (userId) => {
                    const stored = await grants.get(userId);
                    return first && stored ? ((first = false), { ...stored, accessToken: grant.accessToken, accessTokenExpiresAt: T + 3_600_000 }) : stored;
                } };
                gateway.answerNext(1, 401, "INVALID_ACCESS_TOKEN_EXCEPTION");
                const before = refreshes();
                const result = await sender({ now: () => T, grants: racing })(sub, report(sub));
                assert.equal(result.outcome, "accepted", JSON.stringify(result));
                assert.equal(refreshes() - before, refreshed, `a stored token ${expiresIn} ms from its expiry`);
            }
        });

        it("401 again for a token LWA has just issued: the event waits as a configuration fault, the grant stays", async () => {
            const { sub, grant } = await grantedUser();
            gateway.answerNext(2, 401, "INVALID_ACCESS_TOKEN_EXCEPTION");
            const before = refreshes();
            const { result, requests } = await requestsDuring(() => sender()(sub, report(sub)));
            assert.equal(result.outcome, "wait");
            assert.deepEqual([(result as { cause: string }).cause, (result as { reason: string }).reason, (result as { fix: string }).fix],
                ["configuration", "the gateway answered 401 INVALID_ACCESS_TOKEN_EXCEPTION for a token LWA had just issued",
                    "the gateway refuses the tokens LWA issues for this skill: check that alexaClientId and alexaClientSecret are this skill's " +
                    "(Permissions page, Send Alexa Events) and that events go to the gateway of the user's region"]);
            assert.equal(refreshes() - before, 1);
            assert.equal(requests.length, 2);
            const stored = (await grants.get(sub))!;
            assert.equal(stored.refreshToken, grant.refreshToken);
            assert.notEqual(stored.accessToken, grant.accessToken, "the refreshed token was not kept");
        });

        for (const [what, answer] of [
            ["invalid_client (a wrong Alexa Client Secret)", { status: 401, body: { error: "invalid_client" } }],
            ["unauthorized_client", { status: 400, body: { error: "unauthorized_client" } }],
            ["a proxy's HTML page", { status: 400, body: "<html>blocked</html>" }],
            ["a 200 without tokens", { status: 200, body: { token_type: "bearer" } }],
        ] as const) {
            it(`LWA answering a refresh with ${what}: the event waits as a configuration fault, the grant stays`, async () => {
                const { sub, grant } = await grantedUser({ accessTokenExpiresAt: 0 });
                lwa.answerNext(1, answer.status, answer.body);
                const { result, requests } = await requestsDuring(() => sender()(sub, report(sub)));
                assert.deepEqual([result.outcome, (result as { cause: string }).cause], ["wait", "configuration"]);
                assert.match((result as { reason: string }).reason, /^the token could not be refreshed: LWA /);
                assert.ok((result as { fix?: string }).fix, "no fix said");
                assert.equal(requests.length, 0, "an event went out without a token");
                assert.deepEqual(await grants.get(sub), grant);
            });
        }

        it("LWA refusing the request's form (invalid_request): the event waits, our bug, the grant stays", async () => {
            const { sub, grant } = await grantedUser({ accessTokenExpiresAt: 0 });
            lwa.answerNext(1, 400, { error: "invalid_request" });
            const delivery = await sender()(sub, report(sub));
            assert.deepEqual([delivery.outcome, (delivery as { cause: string }).cause, (delivery as { reason: string }).reason],
                ["wait", "ourBug", "the token could not be refreshed: LWA refused the request: 400 (invalid_request)"]);
            assert.deepEqual(await grants.get(sub), grant);
        });
    });

    describe("only a dead grant is forgotten, and only the grant that died", () => {
        it("LWA refusing the refresh token (invalid_grant: the user disabled the skill): the grant is forgotten, the event dropped", async () => {
            const { sub, grant } = await grantedUser();
            lwa.disableSkill(grant.refreshToken);
            const { result, requests } = await requestsDuring(() => sender()(sub, report(sub)));
            assert.deepEqual(result, { outcome: "forgotten", reason: "LWA refused the grant's refresh token (invalid_grant): the grant was forgotten" });
            // The gateway's 401 for the revoked token, then the refresh that proved the grant dead.
            assert.deepEqual(requests.map((r) => r.authorization), [`Bearer ${grant.accessToken}`]);
            assert.equal(await grants.get(sub), undefined);
            const asked = gateway.requests.length;
            assert.deepEqual(await sender()(sub, report(sub)), { outcome: "dropped", reason: "the user has no grant (events not permitted)" });
            assert.equal(gateway.requests.length, asked, "the gateway was asked again");
        });

        for (const code of ["ACCOUNT_NOT_FOUND_EXCEPTION", "SKILL_NOT_FOUND_EXCEPTION", "SKILL_DISABLED_EXCEPTION"]) {
            it(`${code}: LWA is asked with a refresh and the event sent again; said again of LWA's new token, the event is dropped and the grant kept`, async () => {
                const { sub, grant } = await grantedUser();
                const status = code === "SKILL_DISABLED_EXCEPTION" ? 403 : 404;
                gateway.answerNext(2, status, code);
                const before = refreshes();
                const { result, requests } = await requestsDuring(() => sender()(sub, report(sub)));
                assert.deepEqual(result, { outcome: "dropped", reason: `the gateway answered ${status} ${code} for a token LWA had just issued: this event cannot reach the user; the grant is kept` });
                assert.equal(refreshes() - before, 1);
                assert.equal(requests.length, 2);
                assert.notEqual(requests[1].authorization, `Bearer ${grant.accessToken}`);
                const kept = (await grants.get(sub))!;
                assert.equal(kept.refreshToken, grant.refreshToken, "the grant was forgotten on the gateway's word");
            });
        }

        it("ACCOUNT_NOT_FOUND_EXCEPTION once, then accepted with the refreshed token: the grant stays", async () => {
            const { sub, grant } = await grantedUser();
            gateway.answerNext(1, 404, "ACCOUNT_NOT_FOUND_EXCEPTION");
            assert.deepEqual(await sender()(sub, report(sub)), { outcome: "accepted" });
            assert.equal((await grants.get(sub))!.refreshToken, grant.refreshToken);
        });

        it("an account Alexa no longer knows, whose refresh token LWA still takes: each event dropped, the grant kept", async () => {
            const { sub, grant } = await grantedUser();
            gateway.forgetAccount(grant.refreshToken);
            assert.equal((await sender()(sub, report(sub))).outcome, "dropped");
            assert.ok(await grants.get(sub));
        });

        it("asks LWA when the gateway's answer says it is the gateway's, not LWA's: a token refresh found in the table is not LWA's word", async () => {
            const { sub, grant } = await grantedUser();
            const deliver = sender();
            assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" }); // this container keeps the token
            // Another container refreshed meanwhile; its token is in the table.
            const other = await lwaClient.refresh(grant.refreshToken);
            await grants.updateTokens(sub, grant.refreshToken, other);
            gateway.answerNext(2, 404, "ACCOUNT_NOT_FOUND_EXCEPTION");
            gateway.answerNext(1, 202);
            const before = refreshes();
            assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" });
            // The table's token was tried (not LWA's), so LWA was asked before the third try.
            assert.equal(refreshes() - before, 1);
        });

        it("a 403 outside Amazon's table asks LWA first: a user who disabled the skill is forgotten, anyone else's event waits as a configuration fault", async () => {
            const gone = await grantedUser();
            gateway.answerNext(1, 403, "FORBIDDEN");
            lwa.disableSkill(gone.grant.refreshToken);
            assert.deepEqual(await sender()(gone.sub, report(gone.sub)), { outcome: "forgotten", reason: "LWA refused the grant's refresh token (invalid_grant): the grant was forgotten" });
            const { sub, grant } = await grantedUser();
            gateway.answerNext(2, 403, "FORBIDDEN");
            const delivery = await sender()(sub, report(sub));
            assert.deepEqual([delivery.outcome, (delivery as { cause: string }).cause, (delivery as { reason: string }).reason], ["wait", "configuration", "the gateway answered 403 FORBIDDEN"]);
            assert.equal((await grants.get(sub))!.refreshToken, grant.refreshToken);
        });

        it("keeps a grant made with another Alexa Client Id than the one in use: LWA's invalid_grant is then our configuration's (RFC 6749: issued to another client)", async () => {
            const { sub, grant } = await grantedUser({ accessTokenExpiresAt: 0, clientId: "amzn1.application-oa2-client.ffffffffffffffffffffffffffffffff" });
            lwa.revokeRefreshToken(grant.refreshToken);
            const delivery = await sender()(sub, report(sub));
            assert.deepEqual([delivery.outcome, (delivery as { cause: string }).cause], ["wait", "configuration"]);
            assert.equal((delivery as { reason: string }).reason, `LWA refused the grant's refresh token (invalid_grant), which was issued to the Alexa Client Id amzn1.application-oa2-client.ffffffffffffffffffffffffffffffff; the functions now use ${LWA_CLIENT_ID}`);
            assert.equal((delivery as { fix: string }).fix, "a refresh token works only with the client it was issued to: set alexaClientId and alexaClientSecret back to the skill's own (Permissions page) and run pulumi up; the grant is kept");
            assert.deepEqual(await grants.get(sub), grant);
        });

        it("keeps a grant that does not say its client while these credentials have had no token from LWA in this container; forgets it once they have", async () => {
            const { sub, grant } = await grantedUser({ accessTokenExpiresAt: 0 });
            const older = { ...grant };
            delete older.clientId;
            await grants.put(sub, older); // stored before grants recorded their client
            lwa.revokeRefreshToken(grant.refreshToken);
            const fresh = createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }) });
            const first = await sender({ lwa: fresh })(sub, report(sub));
            assert.deepEqual([first.outcome, (first as { cause: string }).cause], ["wait", "configuration"]);
            assert.equal((first as { reason: string }).reason, "LWA refused the grant's refresh token (invalid_grant); the grant does not say which client it was issued to, " +
                "and these credentials have had no token from LWA in this container yet");
            assert.equal((first as { fix: string }).fix, "either the user disabled the skill (the grant is forgotten once another refresh proves the credentials), or alexaClientId and " +
                "alexaClientSecret are another skill's: check them on the skill's Permissions page; the grant is kept");
            assert.ok(await grants.get(sub));
            await fresh.exchangeCode(lwa.issueCode()); // another user's grant: the credentials are proven
            assert.equal((await sender({ lwa: fresh })(sub, report(sub))).outcome, "forgotten");
        });

        it("a code that says the user is gone, on a 5xx answer, is a failure of the gateway: the grant stays", async () => {
            const { sub, grant } = await grantedUser();
            gateway.answerNext(3, 500, "ACCOUNT_NOT_FOUND_EXCEPTION");
            assert.deepEqual(await sender()(sub, report(sub)), { outcome: "wait", cause: "transient", reason: "the gateway answered 500 ACCOUNT_NOT_FOUND_EXCEPTION (3 tries)" });
            assert.deepEqual(await grants.get(sub), grant);
        });

        it("keeps a grant that a new AcceptGrant stored while the old refresh token was being refused", async () => {
            const { sub, grant } = await grantedUser({ accessTokenExpiresAt: 0 });
            lwa.revokeRefreshToken(grant.refreshToken);
            const renewed = { ...(await lwaClient.exchangeCode(lwa.issueCode())), region: "us-east-1", grantedAt: Date.now() };
            // The new grant lands between LWA's refusal and the forgetting.
            const racing: GrantStore = { ...grants, forget: async (userId, dead) => (await grants.put(userId, renewed), grants.forget(userId, dead)) };
            const delivery = await sender({ grants: racing })(sub, report(sub));
            assert.deepEqual([delivery.outcome, (delivery as { cause: string }).cause], ["wait", "transient"]);
            assert.match((delivery as { reason: string }).reason, /a new grant was stored meanwhile: it is kept/);
            assert.deepEqual(await grants.get(sub), renewed);
            assert.deepEqual(await sender()(sub, report(sub)), { outcome: "accepted" }, "the waiting event goes out with the new grant");
        });
    });

    describe("our bugs go to the dead-letter queue, the grant stays", () => {
        for (const [status, code] of [[400, "INVALID_REQUEST_EXCEPTION"], [413, "REQUEST_ENTITY_TOO_LARGE_EXCEPTION"], [400, undefined]] as const) {
            it(`${status} ${code ?? "without a body"}: poison at once, one try`, async () => {
                const { sub, grant } = await grantedUser();
                gateway.answerNext(1, status, code);
                const { result, requests } = await requestsDuring(() => sender()(sub, report(sub)));
                assert.deepEqual([result.outcome, (result as { reason: string }).reason], ["poison", `the gateway refused the event: ${status}${code ? ` ${code}` : ""}`]);
                assert.equal(requests.length, 1);
                assert.deepEqual(await grants.get(sub), grant);
            });
        }

        it("calls the event poison, asking no gateway, when the grant's region has none", async () => {
            const { sub } = await grantedUser({ region: "ap-south-1" });
            const { result, requests } = await requestsDuring(() => sender({ gatewayUrl })(sub, report(sub)));
            assert.deepEqual(result, { outcome: "poison", cause: "ourBug", reason: "no Alexa event gateway for the grant's region ap-south-1" });
            assert.equal(requests.length, 0);
            assert.deepEqual([gatewayUrl("constructor"), gatewayUrl("toString"), gatewayUrl("")], [undefined, undefined, undefined]);
            assert.deepEqual(Object.keys(GATEWAYS).sort(), ["eu-west-1", "us-east-1", "us-west-2"]);
        });
    });

    describe("transient failures: up to 3 tries, at least 1 s apart, within the deadline", () => {
        it("tries a throttled event 3 times in all, waiting 1 to 2 s, then 2 to 4 s", async () => {
            const { sub } = await grantedUser();
            gateway.setMode("throttle429");
            for (const [jitter, expected] of [[0, [1000, 2000]], [0.5, [1500, 3000]]] as const) {
                waits = [];
                const { result, requests } = await requestsDuring(() => sender({ random: () => jitter })(sub, report(sub)));
                assert.deepEqual(result, { outcome: "wait", cause: "transient", reason: "the gateway answered 429 THROTTLING_EXCEPTION (3 tries)" });
                assert.equal(requests.length, 3);
                assert.deepEqual(waits, expected);
            }
        });

        it("counts every try toward the 3, a resend after a refresh too", async () => {
            const { sub } = await grantedUser();
            gateway.answerNext(1, 401, "INVALID_ACCESS_TOKEN_EXCEPTION");
            gateway.answerNext(2, 503, "SERVICE_UNAVAILABLE_EXCEPTION");
            const { result, requests } = await requestsDuring(() => sender()(sub, report(sub)));
            assert.deepEqual(result, { outcome: "wait", cause: "transient", reason: "the gateway answered 503 SERVICE_UNAVAILABLE_EXCEPTION (3 tries)" });
            assert.equal(requests.length, 3);
            assert.equal(waits.length, 2);
        });

        it("sends the tries at least 1 s apart as sent, by default (measured at the gateway)", async function () {
            this.timeout(30000);
            const { sub } = await grantedUser();
            gateway.answerNext(2, 500, "INTERNAL_SERVICE_EXCEPTION");
            const { result, requests } = await requestsDuring(() => createEventSender({ grants, lwa: lwaClient, gatewayUrl: () => gateway.url, random: () => 0 })(sub, report(sub)));
            assert.deepEqual(result, { outcome: "accepted" });
            assert.equal(requests.length, 3);
            const gaps = requests.slice(1).map((r, i) => r.at - requests[i].at);
            assert.ok(gaps[0] >= 1000 && gaps[1] >= 2000, `gaps ${gaps.map(Math.round).join(", ")} ms`);
        });

        it("leaves the event to the queue rather than start a try that the deadline would cut", async () => {
            const { sub } = await grantedUser();
            gateway.setMode("error500");
            let clock = 1_000_000;
            const timed = sender({ now: () => clock, sleep: async (ms) => void (waits.push(ms), (clock += ms)), random: () => 0 });
            const { result, requests } = await requestsDuring(() => timed(sub, report(sub), clock + 2500));
            // A try at 0, a wait of 1 s, a try at 1 s; a second wait of 2 s would end past the deadline.
            assert.deepEqual(result, { outcome: "wait", cause: "transient", reason: "the gateway answered 500 INTERNAL_SERVICE_EXCEPTION; no time left for another try" });
            assert.equal(requests.length, 2);
            const none = await requestsDuring(() => timed(sub, report(sub), clock + 199));
            assert.deepEqual(none.result, { outcome: "wait", cause: "transient", reason: "no time left to send the event" });
            assert.equal(none.requests.length, 0);
            // 200 ms left is enough to start a try.
            assert.equal((await requestsDuring(() => timed(sub, report(sub), clock + 200))).requests.length, 1);
        });

        it("starts another try only with its pause and 200 ms left before the deadline, to the millisecond", async () => {
            const { sub } = await grantedUser();
            gateway.setMode("error500");
            let clock = 5_000_000;
            const timed = sender({ now: () => clock, sleep: async (ms) => void (waits.push(ms), (clock += ms)), random: () => 0, maxAttempts: 2 });
            // A try at 0, a pause of 1 s, then 200 ms left: a second try.
            assert.equal((await requestsDuring(() => timed(sub, report(sub), clock + 1200))).requests.length, 2);
            // One millisecond less: no second try, no pause either.
            waits = [];
            const short = await requestsDuring(() => timed(sub, report(sub), clock + 1199));
            assert.equal(short.requests.length, 1);
            assert.deepEqual(waits, []);
            assert.deepEqual(short.result, { outcome: "wait", cause: "transient", reason: "the gateway answered 500 INTERNAL_SERVICE_EXCEPTION; no time left for another try" });
        });

        it("says a later try found no time left when the pause took longer than asked", async () => {
            const { sub } = await grantedUser();
            gateway.setMode("error500");
            let clock = 9_000_000;
            const slow = sender({ now: () => clock, sleep: async (ms) => void (clock += ms + 300), random: () => 0 });
            const { result, requests } = await requestsDuring(() => slow(sub, report(sub), clock + 1300));
            assert.equal(requests.length, 1);
            assert.deepEqual(result, { outcome: "wait", cause: "transient", reason: "the gateway answered 500 INTERNAL_SERVICE_EXCEPTION; no time left for another try" });
        });

        it("gives a try no more than the time left before the deadline", async function () {
            const { sub } = await grantedUser();
            gateway.setMode("hang");
            const started = Date.now();
            const { result } = await requestsDuring(() => sender({ attemptTimeoutMs: 5000, maxAttempts: 1 })(sub, report(sub), started + 400));
            assert.match((result as { reason: string }).reason, /^the gateway gave no answer within (3\d\d|400) ms/);
            assert.ok(Date.now() - started < 2000, "the try outlived the deadline");
        });

        it("names a gateway that does not answer within the attempt's time, or cannot be reached", async () => {
            const { sub } = await grantedUser();
            gateway.setMode("hang");
            assert.deepEqual(await sender({ maxAttempts: 1, attemptTimeoutMs: 150 })(sub, report(sub)), { outcome: "wait", cause: "transient", reason: "the gateway gave no answer within 150 ms (1 try)" });
            gateway.setMode("up");
            await gateway.outage.takeDown();
            assert.deepEqual(await sender({ maxAttempts: 2 })(sub, report(sub)), { outcome: "wait", cause: "transient", reason: "the gateway could not be reached (2 tries)" });
            assert.equal(waits.length, 1);
        });

        it("names an exception code only when it is one (not markup, too long, not a string)", async () => {
            const { sub } = await grantedUser();
            for (const code of ["<b>bad</b>", "A".repeat(65), ["THROTTLING_EXCEPTION"], 429]) {
                gateway.answerNext(1, 500, code);
                assert.deepEqual(await sender({ maxAttempts: 1 })(sub, report(sub)), { outcome: "wait", cause: "transient", reason: "the gateway answered 500 (1 try)" }, String(code));
            }
            gateway.answerNext(1, 503, "A".repeat(64));
            assert.deepEqual(await sender({ maxAttempts: 1 })(sub, report(sub)), { outcome: "wait", cause: "transient", reason: `the gateway answered 503 ${"A".repeat(64)} (1 try)` });
        });

        it("leaves the event to the queue, naming the cause, when DynamoDB or LWA fails, and keeps the grant", async () => {
            const { sub, grant } = await grantedUser({ accessTokenExpiresAt: 0 });
            await dynamo.setMode("down");
            assert.deepEqual(await sender()(sub, report(sub)), { outcome: "wait", cause: "transient", reason: "the grant or the lamp could not be read or written (Error)" });
            await dynamo.setMode("up");
            lwa.setMode("unavailable503");
            assert.deepEqual(await sender()(sub, report(sub)), { outcome: "wait", cause: "transient", reason: "the token could not be refreshed: LWA answered 503 (TemporarilyUnavailable)" });
            assert.deepEqual(await grants.get(sub), grant);
        });
    });

    describe("the report's freshness, checked before every try", () => {
        it("stops a delivery whose report the lamp moved on from during its retries, sending it no more", async () => {
            const { sub } = await grantedUser();
            let current = true;
            gateway.answerNext(1, 503, "SERVICE_UNAVAILABLE_EXCEPTION");
            const checks: number[] = [];
            const deliver = sender({
                stillCurrent: async () => (checks.push(gateway.requests.length), current),
                sleep: async (ms) => void (waits.push(ms), (current = false)), // Alexa changed the lamp during the pause
            });
            const { result, requests } = await requestsDuring(() => deliver(sub, report(sub)));
            assert.deepEqual(result, { outcome: "superseded", reason: "the lamp has changed since: a later report, or the answer to Alexa's own directive, says what it is now" });
            assert.equal(requests.length, 1);
            assert.equal(checks.length, 2, "checked before each try");
        });

        it("sends nothing, and says why, when the report is stale before the first try", async () => {
            const { sub } = await grantedUser();
            const { result, requests } = await requestsDuring(() => sender({ stillCurrent: async () => false })(sub, report(sub)));
            assert.equal(result.outcome, "superseded");
            assert.equal(requests.length, 0);
        });
    });

    describe("the tokens a container keeps", () => {
        it("keeps tokens LWA renewed when storing them fails, says so, and stores them at the user's next event", async () => {
            const { sub, grant } = await grantedUser({ accessTokenExpiresAt: 0 });
            let failing = true;
            const flaky: GrantStore = { ...grants, updateTokens: async (...args) => {
                if (failing) {
                    throw Object.assign(new Error("unreachable"), { name: "NetworkingError" });
                }
                return grants.updateTokens(...args);
            } };
            const deliver = sender({ grants: flaky });
            const first = await deliver(sub, report(sub));
            assert.deepEqual(first, { outcome: "accepted", unstoredTokens: { cause: "transient", code: "NetworkingError" } });
            const sent = gateway.requests.at(-1)!.authorization;
            assert.notEqual(sent, `Bearer ${grant.accessToken}`, "the renewed token was not used");
            assert.equal((await grants.get(sub))!.accessToken, grant.accessToken, "stored although the store failed");
            failing = false;
            assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" });
            assert.equal(gateway.requests.at(-1)!.authorization, sent, "the kept token was not used");
            assert.equal(`Bearer ${(await grants.get(sub))!.accessToken}`, sent, "not stored at the next event");
        });

        it("refreshes with the refresh token it keeps, not the stored one LWA rotated away, and forgets nothing", async () => {
            const { sub, grant } = await grantedUser({ accessTokenExpiresAt: 0 });
            lwa.rotateRefreshTokens = true;
            try {
                let failing = true;
                const flaky: GrantStore = { ...grants, updateTokens: async (...args) => {
                    if (failing) {
                        throw Object.assign(new Error("throttled"), { name: "ThrottlingException" });
                    }
                    return grants.updateTokens(...args);
                } };
                const deliver = sender({ grants: flaky });
                assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted", unstoredTokens: { cause: "transient", code: "ThrottlingException" } });
                // The stored refresh token is dead now; the container holds the new one. Its access
                // token stops working before the next event (the gateway answers 401).
                lwa.expireAccessTokens();
                const second = await deliver(sub, report(sub));
                assert.deepEqual(second, { outcome: "accepted", unstoredTokens: { cause: "transient", code: "ThrottlingException" } });
                assert.equal((await grants.get(sub))!.refreshToken, grant.refreshToken, "the grant was forgotten or changed");
                failing = false;
                assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" });
                const stored = (await grants.get(sub))!;
                assert.notEqual(stored.refreshToken, grant.refreshToken);
                assert.equal(`Bearer ${stored.accessToken}`, gateway.requests.at(-1)!.authorization);
            } finally {
                lwa.rotateRefreshTokens = false;
            }
        });

        it("records on the grant the client LWA issued its tokens to, at each refresh", async () => {
            const { sub, grant } = await grantedUser({ accessTokenExpiresAt: 0 });
            const older = { ...grant };
            delete older.clientId;
            await grants.put(sub, older);
            assert.deepEqual(await sender()(sub, report(sub)), { outcome: "accepted" });
            assert.equal((await grants.get(sub))!.clientId, LWA_CLIENT_ID);
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

        it("takes the token another container refreshed meanwhile rather than refreshing again, and keeps it", async () => {
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
            await dynamo.setMode("down");
            assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" }, "the next event needed a read");
        });

        it("on 401 takes a token another container stored meanwhile, without asking LWA", async () => {
            const { sub, grant } = await grantedUser();
            const deliver = sender();
            assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" });
            const refreshed = await lwaClient.refresh(grant.refreshToken);
            await grants.updateTokens(sub, grant.refreshToken, refreshed);
            gateway.answerNext(1, 401, "INVALID_ACCESS_TOKEN_EXCEPTION");
            const before = refreshes();
            assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" });
            assert.equal(refreshes(), before);
            assert.equal(gateway.requests.at(-1)!.authorization, `Bearer ${refreshed.accessToken}`);
        });

        it("drops the event of a user whose grant is gone, whatever this container kept", async () => {
            const { sub, grant } = await grantedUser();
            let clock = Date.now();
            const deliver = sender({ now: () => clock });
            assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" });
            await grants.forget(sub, grant.refreshToken);
            clock = grant.accessTokenExpiresAt;
            const before = refreshes();
            assert.deepEqual(await deliver(sub, report(sub)), { outcome: "dropped", reason: "the user has no grant (it was removed meanwhile)" });
            assert.equal(refreshes(), before);
        });

        it("keeps at most tokensKept users' tokens (1000 by default), the longest unused dropped first", async () => {
            const users = [await grantedUser(), await grantedUser(), await grantedUser()];
            const deliver = sender({ tokensKept: 2 });
            const reads = () => dynamo.bodies.filter((b) => b.operation === "GetItem").length;
            for (const { sub } of users) {
                assert.deepEqual(await deliver(sub, report(sub)), { outcome: "accepted" });
            }
            let before = reads();
            await deliver(users[2].sub, report(users[2].sub));
            await deliver(users[1].sub, report(users[1].sub));
            assert.equal(reads(), before, "a kept user's token was read again");
            before = reads();
            await deliver(users[0].sub, report(users[0].sub));
            assert.equal(reads() - before, 1, "the first user's token was still kept");
            // users[0] went in, users[2] (now the longest unused) went out.
            before = reads();
            await deliver(users[1].sub, report(users[1].sub));
            await deliver(users[0].sub, report(users[0].sub));
            assert.equal(reads(), before);
            await deliver(users[2].sub, report(users[2].sub));
            assert.equal(reads() - before, 1);
        });
    });
});
