// The companion API's handler, request by request, as API Gateway hands them over (HTTP API,
// payload format 2.0): each answer's status, headers and message, and the log line it leaves.
// The same handler behind a real HTTP server and a real browser is test/companion.test.ts.
import { strict as assert } from "assert";
import { randomUUID } from "crypto";
import { CompanionLog, companionLogLevel, createCompanionFromEnvironment, createCompanionHandler, HttpApiEvent, HttpApiResponse } from "../handler/companionApi";
import { createAwsJsonClient, DynamoDbCall } from "../handler/awsJson";
import type { PageSettings } from "../handler/companionPage";
import { createEventQueue, SQS_PROTOCOL } from "../handler/eventQueue";
import { createLampStore, LampStore } from "../handler/lampStore";
import { userReference } from "../handler/log";
import { createAccessTokenVerifier } from "../handler/token";
import { LocalDynamo, LOCAL_CREDENTIALS, startDynalite } from "../local/dynalite";
import { setEnvironment } from "./support/lambdaEnvironment";
import { LocalQueue, LocalSqs, startLocalSqs } from "../local/sqsQueue";
import { capturingStdout } from "./support/stdout";
import { accessTokenClaims, jwksOf, newSigningKey, signToken, USER_POOL_ID } from "../local/tokens";

const CLIENT_ID = "7companion8client9id0abcdef";
const AUTH_BASE = "https://smartlamp-0123.auth.us-east-1.amazoncognito.com";
const PAGE_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/";
// Every answer says nosniff: a browser takes it as the type it says.
const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store", "x-content-type-options": "nosniff" };
const USAGE = 'Send {"powerState":"ON"} or {"powerState":"OFF"} to switch the lamp, or {"brightness":<0 to 100>} to dim it.';

/** An HTTP API (2.0) event as API Gateway builds it. */
function request(method: string, path: string, options: { token?: string; body?: string; base64?: boolean } = {}): HttpApiEvent {
    return {
        rawPath: path,
        headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
        body: options.base64 ? Buffer.from(options.body ?? "").toString("base64") : options.body,
        isBase64Encoded: options.base64 ?? false,
        requestContext: { http: { method }, requestId: "req-" + randomUUID() },
    };
}

describe("the companion API's answers", function () {
    this.timeout(20000);
    const key = newSigningKey();
    let dynamo: LocalDynamo;
    const tableName = "lamps-" + randomUUID();
    let sqs: LocalSqs;
    let queue: LocalQueue;
    let store: LampStore;
    let logs: CompanionLog[];
    let handle: (event: HttpApiEvent) => Promise<HttpApiResponse>;
    /** Whether the verifier's JWKS download (for a key it does not hold) works. */
    let jwksReachable: boolean;

    const user = () => {
        const sub = randomUUID();
        return { sub, token: signToken(key, accessTokenClaims(sub, { client_id: CLIENT_ID })) };
    };
    const body = (response: HttpApiResponse) => JSON.parse(response.body);
    /** A handler without Alexa events (no queue), with its page's settings changed by `page`. */
    const withoutEvents = (page: Partial<PageSettings> = {}) => createCompanionHandler({
        verifyAccessToken: createAccessTokenVerifier({ userPoolId: USER_POOL_ID, clientId: CLIENT_ID, jwks: jwksOf(key) }),
        lampStore: store,
        page: { authBaseUrl: AUTH_BASE, clientId: CLIENT_ID, redirectUri: PAGE_URL, ...page },
        log: (entry) => logs.push(entry),
    });

    before(async () => {
        dynamo = await startDynalite();
        sqs = await startLocalSqs();
        await dynamo.createLampTable(tableName);
        store = createLampStore({ tableName, dynamoDb: dynamo.dynamoDb });
    });
    after(async () => {
        await Promise.all([dynamo.stop(), sqs.stop()]);
    });
    beforeEach(() => {
        logs = [];
        jwksReachable = true;
        queue = sqs.createFifoQueue(`changes-${randomUUID()}.fifo`);
        const sqsClient = createAwsJsonClient(SQS_PROTOCOL, { endpoint: sqs.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS, maxAttempts: 1 });
        handle = createCompanionHandler({
            verifyAccessToken: createAccessTokenVerifier({
                userPoolId: USER_POOL_ID,
                clientId: CLIENT_ID,
                jwks: jwksOf(key),
                fetcher: { fetch: async () => {
                    if (!jwksReachable) {
                        throw new Error("connect ECONNREFUSED");
                    }
                    return new TextEncoder().encode(JSON.stringify(jwksOf(key))).buffer as ArrayBuffer;
                } },
            }),
            lampStore: store,
            reportChange: createEventQueue({ queueUrl: queue.url, sqs: sqsClient }),
            page: { authBaseUrl: AUTH_BASE, clientId: CLIENT_ID, redirectUri: PAGE_URL },
            log: (entry) => logs.push(entry),
        });
    });
    afterEach(async () => {
        await dynamo.setMode("up");
        await sqs.outage.bringUp();
    });

    it("answers GET /api/lamp with the user's lamp as uncached JSON, and logs the request with a reference to the user", async () => {
        const { sub, token } = user();
        await store.change(sub, { kind: "setBrightness", brightness: 42 });
        const event = request("GET", "/api/lamp", { token });
        const started = performance.now();
        const response = await handle(event);
        const took = performance.now() - started;
        assert.deepEqual(response, { statusCode: 200, headers: JSON_HEADERS, body: JSON.stringify({ powerState: "ON", brightness: 42 }) });
        assert.equal(logs.length, 1);
        const { durationMs, ...line } = logs[0];
        assert.deepEqual(line, { kind: "CompanionRequest", method: "GET", path: "/api/lamp", status: 200, requestId: event.requestContext!.requestId, user: userReference(sub) });
        assert.ok(durationMs > 0 && durationMs <= took && durationMs === Math.round(durationMs * 1000) / 1000, `durationMs ${durationMs} of ${took}`);
    });

    it("applies a POST and answers the lamp's new state; a base64 body (as API Gateway may pass it) too", async () => {
        const { sub, token } = user();
        assert.deepEqual(body(await handle(request("POST", "/api/lamp", { token, body: '{"powerState":"ON"}' }))), { powerState: "ON", brightness: 100 });
        assert.deepEqual(body(await handle(request("POST", "/api/lamp", { token, body: '{"powerState":"OFF"}' }))), { powerState: "OFF", brightness: 100 });
        assert.deepEqual(body(await handle(request("POST", "/api/lamp", { token, body: '{"powerState":"ON"}' }))), { powerState: "ON", brightness: 100 });
        const dimmed = await handle(request("POST", "/api/lamp", { token, body: '{"brightness":30}', base64: true }));
        assert.deepEqual(dimmed, { statusCode: 200, headers: JSON_HEADERS, body: JSON.stringify({ powerState: "ON", brightness: 30 }) });
        assert.deepEqual(await store.read(sub), { powerState: "ON", brightness: 30 });
        assert.equal(queue.messages.length, 4);
        const queued = JSON.parse(queue.messages[3].body);
        assert.equal(queued.userId, sub);
        assert.equal(queued.report.event.payload.change.cause.type, "APP_INTERACTION");
    });

    it("takes brightness 0 and 100, and refuses -1, 101, 2.5, a string, a second field and a body that is not an object, with the usage", async () => {
        const { sub, token } = user();
        assert.equal(body(await handle(request("POST", "/api/lamp", { token, body: '{"brightness":100}' }))).brightness, 100);
        assert.equal(body(await handle(request("POST", "/api/lamp", { token, body: '{"brightness":0}' }))).powerState, "OFF");
        const before = await store.read(sub);
        const queued = queue.messages.length;
        for (const text of ['{"brightness":-1}', '{"brightness":101}', '{"brightness":2.5}', '{"brightness":"40"}', '{"powerState":"ON","x":1}', '{"brightness":40,"x":1}', '{"powerState":"on"}', "null", "[]", '"ON"', "{}"]) {
            const response = await handle(request("POST", "/api/lamp", { token, body: text }));
            assert.deepEqual(response, { statusCode: 400, headers: JSON_HEADERS, body: JSON.stringify({ message: USAGE }) }, text);
        }
        for (const text of ["", "not json", undefined]) {
            const response = await handle(request("POST", "/api/lamp", { token, body: text }));
            assert.equal(response.statusCode, 400);
            assert.deepEqual(body(response), { message: 'The body must be JSON: {"powerState":"ON"} or {"brightness":40}.' }, String(text));
        }
        assert.deepEqual(await store.read(sub), before);
        assert.equal(queue.messages.length, queued);
    });

    it("answers 401 with a Bearer challenge for no token, a malformed header or a bad token, logging why", async () => {
        const { token } = user();
        for (const headers of [{}, { authorization: token }, { authorization: `Bearer ${token} x` }, { authorization: `Basic ${token}` }, { authorization: `Token Bearer ${token}` }, { authorization: `Bearer ${token}x` }]) {
            logs = [];
            const response = await handle({ ...request("GET", "/api/lamp"), headers });
            assert.deepEqual(response, {
                statusCode: 401,
                headers: { ...JSON_HEADERS, "www-authenticate": 'Bearer error="invalid_token"' },
                body: JSON.stringify({ message: "Please sign in again." }),
            }, JSON.stringify(headers));
            assert.equal(logs[0].status, 401);
            assert.equal(logs[0].user, undefined);
            assert.ok(logs[0].reason && !logs[0].reason.includes(token), "no reason, or the token in it");
        }
    });

    it("answers 503 asking to try again, without a challenge, when the sign-in cannot be checked (the JWKS cannot be fetched)", async () => {
        const other = newSigningKey();
        jwksReachable = false;
        const response = await handle(request("GET", "/api/lamp", { token: signToken(other, accessTokenClaims(randomUUID(), { client_id: CLIENT_ID })) }));
        assert.deepEqual(response, { statusCode: 503, headers: JSON_HEADERS, body: JSON.stringify({ message: "Your sign-in could not be checked just now; please try again." }) });
        assert.ok(logs[0].reason, "no reason logged");
    });

    it("answers 503 when the lamp's table cannot be reached, logging the cause, and changes nothing", async () => {
        const { sub, token } = user();
        await dynamo.setMode("down");
        for (const event of [request("GET", "/api/lamp", { token }), request("POST", "/api/lamp", { token, body: '{"powerState":"ON"}' })]) {
            logs = [];
            const response = await handle(event);
            assert.deepEqual(response, { statusCode: 503, headers: JSON_HEADERS, body: JSON.stringify({ message: "The lamp could not be reached just now; please try again." }) });
            assert.equal(logs[0].user, userReference(sub));
            assert.match(logs[0].reason!, /./);
        }
        await dynamo.setMode("up");
        assert.deepEqual(await store.read(sub), { powerState: "OFF", brightness: 100 });
        assert.equal(queue.messages.length, 0);
    });

    it("reports what the change itself replaced: a change Alexa made just before it is not lost (Alexa off, then the page on)", async () => {
        const { sub, token } = user();
        await store.change(sub, { kind: "power", powerState: "ON" }); // what the page shows
        // Alexa switches the lamp off by voice, right before the page's write reaches DynamoDB.
        let alexaDone = false;
        const racing = createLampStore({
            tableName,
            dynamoDb: (async (operation: "GetItem" | "UpdateItem", input: object) => {
                if (operation === "UpdateItem" && !alexaDone) {
                    alexaDone = true;
                    await store.change(sub, { kind: "power", powerState: "OFF" }, "alexa-directive");
                }
                return dynamo.dynamoDb(operation, input);
            }) as DynamoDbCall,
        });
        const racingHandle = createCompanionHandler({
            verifyAccessToken: createAccessTokenVerifier({ userPoolId: USER_POOL_ID, clientId: CLIENT_ID, jwks: jwksOf(key) }),
            lampStore: racing,
            reportChange: createEventQueue({ queueUrl: queue.url, sqs: createAwsJsonClient(SQS_PROTOCOL, { endpoint: sqs.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS }) }),
            page: { authBaseUrl: AUTH_BASE, clientId: CLIENT_ID, redirectUri: PAGE_URL },
            log: (entry) => logs.push(entry),
        });
        assert.deepEqual(body(await racingHandle(request("POST", "/api/lamp", { token, body: '{"powerState":"ON"}' }))), { powerState: "ON", brightness: 100 });
        assert.equal(queue.messages.length, 1, "no report: Alexa would believe the lamp off");
        const report = JSON.parse(queue.messages[0].body).report;
        assert.deepEqual(report.event.payload.change.properties.map((p: { name: string; value: unknown }) => `${p.name}=${p.value}`), ["powerState=ON", "brightness=100"]);
    });

    it("keeps a change whose ChangeReport could not be queued, and logs why", async () => {
        const { sub, token } = user();
        await sqs.outage.takeDown();
        const response = await handle(request("POST", "/api/lamp", { token, body: '{"brightness":55}' }));
        assert.equal(response.statusCode, 200);
        assert.deepEqual(await store.read(sub), { powerState: "ON", brightness: 55 });
        assert.deepEqual({ status: logs[0].status, reason: logs[0].reason, cause: logs[0].cause }, { status: 200, reason: "the ChangeReport was not queued (Error)", cause: "transient" });
        assert.equal(companionLogLevel(logs[0]), "error", "a ChangeReport lost is an error, whatever the answer");
    });

    it("queues nothing without Alexa events (no queue given)", async () => {
        const { sub, token } = user();
        const plain = withoutEvents();
        assert.equal((await plain(request("POST", "/api/lamp", { token, body: '{"powerState":"ON"}' }))).statusCode, 200);
        assert.equal((await store.read(sub)).powerState, "ON");
        assert.equal(queue.messages.length, 0);
        assert.equal(logs[0].reason, undefined);
    });

    it("serves the page at / with a fresh nonce, a strict Content-Security-Policy and no referrer", async () => {
        const pages = [await handle(request("GET", "/")), await handle(request("GET", "/"))];
        const nonces = pages.map((page) => /'nonce-([A-Za-z0-9+/=]{24})'/.exec(page.headers["content-security-policy"])![1]);
        assert.notEqual(nonces[0], nonces[1]);
        pages.forEach((page, i) => {
            const n = nonces[i];
            assert.equal(page.statusCode, 200);
            assert.deepEqual(page.headers, {
                "content-type": "text/html; charset=utf-8",
                "cache-control": "no-store",
                "content-security-policy": `default-src 'none'; script-src 'nonce-${n}'; style-src 'nonce-${n}'; connect-src 'self' ${AUTH_BASE}; form-action ${AUTH_BASE}; frame-ancestors 'none'; base-uri 'none'`,
                "referrer-policy": "no-referrer",
                "x-content-type-options": "nosniff",
            });
            assert.ok(page.body.includes(`<script nonce="${n}">`) && page.body.includes(`<style nonce="${n}">`));
            assert.ok(page.body.includes(CLIENT_ID) && page.body.includes("abc123.execute-api.us-east-1.amazonaws.com"));
        });
        assert.deepEqual(logs.map((l) => [l.method, l.path, l.status, l.user]), [["GET", "/", 200, undefined], ["GET", "/", 200, undefined]]);
    });

    it("keeps its settings inside the page's script, however they are spelled", async () => {
        const page = withoutEvents({ clientId: "</script><script>alert(1)</script>" });
        const { body: html } = await page(request("GET", "/"));
        assert.equal(html.split("</script>").length, 2, "a setting closed the page's script");
        assert.ok(!html.includes("<script>alert"));
        assert.ok(html.includes("\\u003c/script>\\u003cscript>alert(1)\\u003c/script>"), "the client id did not reach the page whole");
    });

    it("reads an event without method or path, or none, as GET / (the page)", async () => {
        assert.equal((await handle(null as never)).statusCode, 200, "no event at all");
        logs = [];
        const response = await handle({});
        assert.equal(response.statusCode, 200);
        assert.equal(response.headers["content-type"], "text/html; charset=utf-8");
        assert.deepEqual([logs[0].method, logs[0].path, logs[0].requestId], ["GET", "/", undefined]);
    });

    it("answers the browser's favicon request with an empty, cacheable 204", async () => {
        assert.deepEqual(await handle(request("GET", "/favicon.ico")), { statusCode: 204, headers: { "cache-control": "max-age=86400", "x-content-type-options": "nosniff" }, body: "" });
    });

    it("answers 404 with what the API has for any other path or method, logging at most 64 characters of the path", async () => {
        const { token } = user();
        const long = "/" + "x".repeat(200);
        for (const [method, path] of [["GET", "/api/lamps"], ["PUT", "/api/lamp"], ["DELETE", "/api/lamp"], ["POST", "/"], ["POST", "/favicon.ico"], ["GET", long]]) {
            logs = [];
            const response = await handle(request(method, path, { token }));
            assert.deepEqual(response, { statusCode: 404, headers: JSON_HEADERS, body: JSON.stringify({ message: "Not found: the API has GET and POST /api/lamp, and the page at /." }) }, `${method} ${path}`);
            assert.deepEqual([logs[0].method, logs[0].path, logs[0].status], [method, path.slice(0, 64), 404]);
        }
        assert.equal(logs[0].path.length, 64);
    });

    it("answers 500 without details when something unexpected fails (a login address that is not a URL)", async () => {
        const broken = withoutEvents({ authBaseUrl: "smartlamp.auth" });
        assert.deepEqual(await broken(request("GET", "/")), { statusCode: 500, headers: JSON_HEADERS, body: JSON.stringify({ message: "The request failed unexpectedly; please try again." }) });
        assert.deepEqual([logs[0].status, logs[0].reason], [500, "unexpected failure"]);
    });
});

describe("the companion API's entry, built from the environment the stack sets", function () {
    this.timeout(20000);
    const key = newSigningKey();
    let dynamo: LocalDynamo;
    let sqs: LocalSqs;
    let queue: LocalQueue;
    let restoreEnvironment: () => void;
    const ENV = () => ({
        COMPANION_USER_POOL_ID: USER_POOL_ID,
        COMPANION_CLIENT_ID: CLIENT_ID,
        COMPANION_LAMP_TABLE: "companion-lamps",
        COMPANION_POOL_JWKS: JSON.stringify(jwksOf(key)),
        COMPANION_AUTH_BASE_URL: AUTH_BASE,
        COMPANION_PAGE_URL: PAGE_URL,
    });

    before(async () => {
        dynamo = await startDynalite();
        sqs = await startLocalSqs();
        queue = sqs.createFifoQueue(`changes-${randomUUID()}.fifo`);
        await dynamo.createLampTable("companion-lamps");
        // What Lambda puts in the environment, pointed at the local stand-ins.
        restoreEnvironment = setEnvironment({
            AWS_REGION: "us-east-1",
            AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
            AWS_ENDPOINT_URL_SQS: sqs.endpoint,
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        });
    });
    after(async () => {
        restoreEnvironment();
        await Promise.all([dynamo.stop(), sqs.stop()]);
    });

    it("verifies with the handed-over JWKS, keeps lamps in the named table, queues to the named queue, and logs at info, warn and error", async () => {
        const handle = createCompanionFromEnvironment({ ...ENV(), COMPANION_CHANGE_REPORT_QUEUE_URL: queue.url });
        const sub = randomUUID();
        const token = signToken(key, accessTokenClaims(sub, { client_id: CLIENT_ID }));
        const answers: number[] = [];
        const { fd1 } = await capturingStdout(async () => {
            answers.push((await handle(request("POST", "/api/lamp", { token, body: '{"brightness":61}' }))).statusCode);
            answers.push((await handle(request("GET", "/api/lamp"))).statusCode);
            await dynamo.setMode("down");
            answers.push((await handle(request("GET", "/api/lamp", { token }))).statusCode);
            await dynamo.setMode("up");
        });
        assert.deepEqual(answers, [200, 401, 503]);
        assert.deepEqual(fd1.map((line) => [JSON.parse(line).level, JSON.parse(line).status]), [["info", 200], ["warn", 401], ["error", 503]]);
        // None of these needs the operator (a store that is down is transient): no line counts for the operator alarm.
        assert.deepEqual(fd1.map((line) => JSON.parse(line).needs), [undefined, undefined, undefined]);
        // The boundaries: 400 is a warning, 500 an error.
        const broken = createCompanionFromEnvironment({ ...ENV(), COMPANION_AUTH_BASE_URL: "not a url" });
        const edges = await capturingStdout(async () => {
            await handle(request("POST", "/api/lamp", { token, body: "{}" }));
            await broken(request("GET", "/"));
        });
        assert.deepEqual(edges.fd1.map((line) => [JSON.parse(line).level, JSON.parse(line).status]), [["warn", 400], ["error", 500]]);
        // A queue that is not there (deleted by hand): the operator must act, and the line says so.
        const gone = createCompanionFromEnvironment({ ...ENV(), COMPANION_CHANGE_REPORT_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/gone.fifo" });
        const refused = await capturingStdout(async () => void await gone(request("POST", "/api/lamp", { token, body: '{"brightness":62}' })));
        const line = JSON.parse(refused.fd1[0]);
        assert.deepEqual([line.level, line.status, line.cause, line.needs, line.reason], ["error", 200, "configuration", "operator", "the ChangeReport was not queued (QueueDoesNotExist)"]);
        const item = await dynamo.dynamoDb<{ Item: Record<string, { N?: string }> }>("GetItem", { TableName: "companion-lamps", Key: { userId: { S: sub } } });
        assert.equal(item.Item.brightness.N, "62", "the change stands though its report was not queued");
        assert.equal(queue.messages.length, 1);
        // SQS unreachable after the client's tries (a service's fault): the report is lost all the
        // same, and the operator hears of it too.
        const restore = setEnvironment({ AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:9" });
        let unreachable: { fd1: string[] };
        try {
            unreachable = await capturingStdout(async () => void await createCompanionFromEnvironment({ ...ENV(), COMPANION_CHANGE_REPORT_QUEUE_URL: queue.url })(request("POST", "/api/lamp", { token, body: '{"brightness":63}' })));
        } finally {
            restore();
        }
        const lost = JSON.parse(unreachable.fd1[0]);
        assert.deepEqual([lost.level, lost.status, lost.cause, lost.needs, lost.reportLost], ["error", 200, "transient", "operator", true]);
        assert.ok(fd1.every((line) => !line.includes(token.split(".")[2])));
    });

    it("serves the page with the login, client and page address it was given", async () => {
        const handle = createCompanionFromEnvironment(ENV());
        let page: HttpApiResponse | undefined;
        await capturingStdout(async () => void (page = await handle(request("GET", "/"))));
        assert.match(page!.headers["content-security-policy"], new RegExp(`form-action ${AUTH_BASE.replace(/[.]/g, "\\.")};`));
        for (const value of [CLIENT_ID, "smartlamp-0123.auth", "abc123.execute-api"]) {
            assert.ok(page!.body.includes(value), value);
        }
    });

    it("queues nothing when no queue is named (Alexa events off)", async () => {
        const handle = createCompanionFromEnvironment(ENV());
        const before = queue.messages.length;
        const token = signToken(key, accessTokenClaims(randomUUID(), { client_id: CLIENT_ID }));
        let status = 0;
        const { fd1 } = await capturingStdout(async () => void (status = (await handle(request("POST", "/api/lamp", { token, body: '{"powerState":"ON"}' }))).statusCode));
        assert.equal(status, 200);
        assert.equal(queue.messages.length, before);
        assert.equal(JSON.parse(fd1[0]).reason, undefined);
    });

    it("refuses to start without a variable it needs, naming it and what to do", () => {
        for (const name of Object.keys(ENV()).filter((n) => n !== "COMPANION_POOL_JWKS")) {
            assert.throws(() => createCompanionFromEnvironment({ ...ENV(), [name]: "" }), new RegExp(`^Error: The companion API needs the environment variable ${name}; redeploy the stack to set it\\.$`), name);
        }
    });
});
