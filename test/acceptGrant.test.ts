import { strict as assert } from "assert";
import { randomUUID } from "crypto";
import { createGrantAcceptor } from "../handler/acceptGrant";
import { createSkillHandler } from "../handler/skill";
import { directiveLogLevel, logToStdout } from "../handler/log";
import { capturingStdout } from "./support/stdout";
import { createDynamoDb } from "../handler/awsJson";
import { createGrantStore, GrantStore } from "../handler/grantStore";
import { lwaCredentials } from "../handler/secret";
import { createLwaClient } from "../handler/lwa";
import { alexaDataPresent, assertValidAlexaMessage } from "./support/alexaSchema";
import { LOCAL_CREDENTIALS } from "../local/dynalite";
import { setEnvironment } from "./support/lambdaEnvironment";
import { directives } from "../local/directives";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, LwaEndpoint, startLwaEndpoint } from "../local/lwaEndpoint";
import { SkillHarness, startSkillHarness } from "./support/skillHarness";
import { SsmEndpoint, startSsmEndpoint } from "../local/ssmEndpoint";
import { KmsEndpoint, startKmsEndpoint } from "../local/kmsEndpoint";

const SECRET_PARAMETER = "/smartlamp/dev/alexa-client-secret";

const pick = (line: { outcome: string; cause: string; reason: string }) => [line.outcome, line.cause, line.reason];

describe("AcceptGrant with Alexa events on", () => {
    let lwa: LwaEndpoint;
    let ssm: SsmEndpoint;
    let kms: KmsEndpoint;
    let skill: SkillHarness;
    let grants: GrantStore;
    let restoreEnvironment: () => void;

    async function send(event: any): Promise<any> {
        const response = await skill.handle(event);
        if (alexaDataPresent) {
            assertValidAlexaMessage(response);
        }
        return response;
    }

    /** Nothing a user or Amazon handed over appears in any log line. */
    function assertLogsHoldNo(...values: string[]) {
        const text = skill.logLines.join("\n");
        for (const value of [LWA_CLIENT_SECRET, ...values]) {
            assert.ok(!text.includes(value), "a log line holds a secret or token");
        }
    }

    before(async () => {
        lwa = await startLwaEndpoint();
        ssm = await startSsmEndpoint({ [SECRET_PARAMETER]: LWA_CLIENT_SECRET });
        kms = await startKmsEndpoint();
        // The secret's reader as the function builds it, with SSM's client pointed at the stand-in.
        restoreEnvironment = setEnvironment({
            AWS_ENDPOINT_URL_SSM: ssm.endpoint,
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        });
        skill = await startSkillHarness({
            dependencies: async (dynamo) => {
                const tableName = "grants-" + randomUUID();
                await dynamo.createLampTable(tableName); // the same key schema: userId
                grants = createGrantStore({ tableName, seal: kms.seal(kms.createKey()), dynamoDb: createDynamoDb({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS, maxAttempts: 2 }) });
                return {
                    acceptGrant: createGrantAcceptor({
                        lwa: createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: lwaCredentials(LWA_CLIENT_ID, SECRET_PARAMETER), attemptTimeoutMs: 1500 }),
                        grants,
                        region: "eu-west-1",
                        budgetMs: 4000,
                    }),
                };
            },
        });
    });
    after(async () => {
        restoreEnvironment();
        await Promise.all([skill.stop(), lwa.stop(), ssm.stop(), kms.stop()]);
    });
    afterEach(async () => {
        lwa.setMode("up");
        await lwa.outage.bringUp();
        await skill.dynamo.setMode("up");
    });

    it("exchanges the grant's code with LWA and stores the user's tokens with the region that received the grant", async () => {
        const user = skill.newUser();
        const code = lwa.issueCode();
        const response = await send(directives.acceptGrant(user.token, code));
        assert.equal(response.event.header.name, "AcceptGrant.Response");
        const grant = await grants.get(user.sub);
        assert.ok(grant, "no grant stored");
        assert.match(grant.accessToken, /^Atza\|/);
        assert.match(grant.refreshToken, /^Atzr\|/);
        assert.ok(lwa.accessTokenValid(grant.accessToken));
        assert.equal(grant.region, "eu-west-1");
        assert.ok(grant.accessTokenExpiresAt > Date.now() + 3500 * 1000 && grant.accessTokenExpiresAt <= Date.now() + 3600 * 1000);
        const exchange = lwa.forms.at(-1)!;
        assert.equal(exchange.get("grant_type"), "authorization_code");
        assert.equal(exchange.get("client_id"), LWA_CLIENT_ID);
        assertLogsHoldNo(code, grant.accessToken, grant.refreshToken, user.token.split(".")[2]);
    });

    it("reads the client secret from Parameter Store once per container, not once per grant", async () => {
        const before = ssm.reads;
        for (let i = 0; i < 3; i++) {
            const response = await send(directives.acceptGrant(skill.newUser().token, lwa.issueCode()));
            assert.equal(response.event.header.name, "AcceptGrant.Response");
        }
        assert.ok(before <= 1, `the secret was read ${before} times before`);
        assert.equal(ssm.reads, 1);
    });

    it("marks the lamp's properties proactively reported in discovery", async () => {
        const response = await send(directives.discover(skill.newUser().token));
        for (const capability of response.event.payload.endpoints[0].capabilities.slice(1)) {
            assert.equal(capability.properties.proactivelyReported, true, capability.interface);
        }
    });

    it("answers ACCEPT_GRANT_FAILED and stores nothing when LWA refuses the code (used twice)", async () => {
        const user = skill.newUser();
        const code = lwa.issueCode();
        await send(directives.acceptGrant(skill.newUser().token, code));
        const response = await send(directives.acceptGrant(user.token, code));
        assert.equal(response.event.header.namespace, "Alexa.Authorization");
        assert.equal(response.event.payload.type, "ACCEPT_GRANT_FAILED");
        assert.equal(response.event.payload.message, "The permission to send Alexa events could not be stored just now; please try again.");
        assert.equal(await grants.get(user.sub), undefined);
        const line = JSON.parse(skill.logLines.at(-1)!);
        assert.match(line.reason, /400 \(invalid_grant\)/);
        assertLogsHoldNo(code);
    });

    it("answers ACCEPT_GRANT_FAILED and stores nothing when LWA is down, and accepts once it is back", async () => {
        const user = skill.newUser();
        await lwa.outage.takeDown();
        const down = await send(directives.acceptGrant(user.token, lwa.issueCode()));
        assert.equal(down.event.payload.type, "ACCEPT_GRANT_FAILED");
        assert.equal(await grants.get(user.sub), undefined);
        await lwa.outage.bringUp();
        const back = await send(directives.acceptGrant(user.token, lwa.issueCode()));
        assert.equal(back.event.header.name, "AcceptGrant.Response");
        assert.ok(await grants.get(user.sub));
    });

    it("gives up on a silent LWA within its budget and answers ACCEPT_GRANT_FAILED instead of letting Alexa time out", async () => {
        const user = skill.newUser();
        lwa.setMode("hang");
        const response = await send(directives.acceptGrant(user.token, lwa.issueCode()));
        assert.equal(response.event.payload.type, "ACCEPT_GRANT_FAILED");
        const line = JSON.parse(skill.logLines.at(-1)!);
        // The client's own per-try timeout ended the wait (the budget, 6.5 s in the function, bounds the tries).
        assert.match(line.reason, /LWA did not answer within \d+ ms|no time left/);
        assert.equal(await grants.get(user.sub), undefined);
    });

    it("retries LWA's 503 once and stores the grant when the second try succeeds", async () => {
        const user = skill.newUser();
        const code = lwa.issueCode();
        lwa.answerNext(1, 503, { error: "TemporarilyUnavailable", error_description: "The server is temporarily unavailable." });
        const before = lwa.requests.authorization_code ?? 0;
        const response = await send(directives.acceptGrant(user.token, code));
        assert.equal(response.event.header.name, "AcceptGrant.Response", JSON.stringify(response.event.payload));
        assert.equal((lwa.requests.authorization_code ?? 0) - before, 2);
        assert.ok(await grants.get(user.sub));
    });

    it("answers ACCEPT_GRANT_FAILED and leaves no grant when DynamoDB is down after LWA said yes", async () => {
        const user = skill.newUser();
        await skill.dynamo.setMode("down");
        const response = await send(directives.acceptGrant(user.token, lwa.issueCode()));
        assert.equal(response.event.payload.type, "ACCEPT_GRANT_FAILED");
        await skill.dynamo.setMode("up");
        assert.equal(await grants.get(user.sub), undefined);
        assertLogsHoldNo();
    });

    it("refuses a grantee token that does not verify without asking LWA", async () => {
        const before = lwa.requests.authorization_code ?? 0;
        const response = await send(directives.acceptGrant("not-a-token", lwa.issueCode()));
        assert.equal(response.event.payload.type, "ACCEPT_GRANT_FAILED");
        assert.equal(lwa.requests.authorization_code ?? 0, before);
    });

    it("when the grantee token cannot be checked on our side (the pool's keys unreadable), answers ACCEPT_GRANT_FAILED and tells the operator", async () => {
        const handlerChecking = (check: { ok: false; error: "INTERNAL_ERROR" | "INVALID_AUTHORIZATION_CREDENTIAL"; reason: string }) => createSkillHandler({
            verifyAccessToken: async () => check,
            lampStore: skill.store,
            log: logToStdout,
            acceptGrant: async () => assert.fail("asked LWA for an unchecked grantee"),
        });
        let response: Awaited<ReturnType<ReturnType<typeof handlerChecking>>> | undefined;
        const ours = await capturingStdout(async () => void (response = await handlerChecking({ ok: false, error: "INTERNAL_ERROR", reason: "the pool's keys could not be downloaded" })(directives.acceptGrant("token", lwa.issueCode()))));
        assert.equal(response!.event.payload.type, "ACCEPT_GRANT_FAILED");
        const line = JSON.parse(ours.fd1[0]);
        assert.deepEqual([line.level, line.cause, line.needs], ["error", "transient", "operator"]);
        // A token refused for its own sake is the token's problem: no operator.
        const theirs = await capturingStdout(async () => void await handlerChecking({ ok: false, error: "INVALID_AUTHORIZATION_CREDENTIAL", reason: "expired" })(directives.acceptGrant("token", lwa.issueCode())));
        const refused = JSON.parse(theirs.fd1[0]);
        assert.deepEqual([refused.level, refused.cause, refused.needs], ["warn", undefined, undefined]);
    });

    it("on invalid_client answers ACCEPT_GRANT_FAILED, stores nothing, and logs at error our configuration's fault with the keys to fix, never the secret", async () => {
        const logged: string[] = [];
        const wrong = createSkillHandler({
            verifyAccessToken: async (token) => ({ ok: true, userId: String(token) }),
            lampStore: skill.store,
            log: (entry) => logged.push(JSON.stringify({ level: directiveLogLevel(entry), ...entry })),
            acceptGrant: createGrantAcceptor({
                lwa: createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: "wrong-secret-123" }) }),
                grants,
                region: "us-east-1",
            }),
        });
        const user = randomUUID();
        const response = await wrong(directives.acceptGrant(user, lwa.issueCode()));
        assert.equal(response.event.payload.type, "ACCEPT_GRANT_FAILED");
        assert.equal(await grants.get(user), undefined);
        const line = JSON.parse(logged.at(-1)!);
        assert.deepEqual([line.level, line.outcome, line.cause, line.reason], ["error", "ACCEPT_GRANT_FAILED", "configuration", "LWA refused the request: 401 (invalid_client)"]);
        assert.match(line.fix, /alexaClientId and alexaClientSecret/);
        assert.ok(!logged.join("\n").includes("wrong-secret-123"));
    });

    it("logs a grant store's failure by whose problem it is: DynamoDB down is transient, a refused table our configuration", async () => {
        const user = skill.newUser();
        await skill.dynamo.setMode("down");
        await send(directives.acceptGrant(user.token, lwa.issueCode()));
        await skill.dynamo.setMode("up");
        assert.deepEqual(pick(JSON.parse(skill.logLines.at(-1)!)), ["ACCEPT_GRANT_FAILED", "transient", "could not store the grant (Error)"]);
        skill.dynamo.refuseNext(1, { type: "AccessDeniedException", status: 400 });
        await send(directives.acceptGrant(user.token, lwa.issueCode()));
        assert.deepEqual(pick(JSON.parse(skill.logLines.at(-1)!)), ["ACCEPT_GRANT_FAILED", "configuration", "could not store the grant (AccessDeniedException)"]);
    });
});
