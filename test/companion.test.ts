import { strict as assert } from "assert";
import { randomUUID } from "crypto";
import { stillCurrent } from "../handler/changeReport";
import { createChangeReportConsumer, deadLetterTo } from "../handler/changeReportConsumer";
import { CompanionLog, createCompanionHandler, HttpApiEvent, HttpApiResponse } from "../handler/companionApi";
import { createAwsJsonClient, createDynamoDb } from "../handler/awsJson";
import { createEventSender } from "../handler/eventGateway";
import { createEventQueue, SQS_PROTOCOL } from "../handler/eventQueue";
import { createGrantStore, GrantStore } from "../handler/grantStore";
import { createLwaClient } from "../handler/lwa";
import { createAccessTokenVerifier } from "../handler/token";
import { alexaDataPresent, assertValidAlexaMessage } from "./support/alexaSchema";
import { AlexaGateway, startAlexaGateway } from "../local/alexaGateway";
import { browserOrSkip, launchChromium } from "./support/browser";
import { serveLocally } from "../local/companionServer";
import { directives, property } from "../local/directives";
import { LOCAL_CREDENTIALS } from "../local/dynalite";
import { startUserPool, UserPool } from "../local/userPool";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, LwaEndpoint, startLwaEndpoint } from "../local/lwaEndpoint";
import { SkillHarness, startSkillHarness } from "./support/skillHarness";
import { KmsEndpoint, startKmsEndpoint } from "../local/kmsEndpoint";
import { eventSourceMapping, LocalQueue, LocalSqs, startLocalSqs } from "../local/sqsQueue";
import { accessTokenClaims, jwksOf, signToken, USER_POOL_ID } from "../local/tokens";

const COMPANION_CLIENT_ID = "5companion6client7id8abcdef";

describe("the companion app", function () {
    this.timeout(60000);
    let skill: SkillHarness;
    let lwa: LwaEndpoint;
    let gateway: AlexaGateway;
    let sqs: LocalSqs;
    let queue: LocalQueue;
    let dlq: LocalQueue;
    let grants: GrantStore;
    let login: UserPool;
    let api: { url: string; stop(): Promise<void> };
    let logs: CompanionLog[];
    let mapping: ReturnType<typeof eventSourceMapping>;
    let handler: (event: HttpApiEvent) => Promise<HttpApiResponse>;

    let kms: KmsEndpoint;
    const users = [{ email: "ada@example.com", password: "Correct-Horse-9!", sub: randomUUID() }];

    /** A user of the pool who linked the lamp with Alexa (their grant is stored). */
    async function linkedUser() {
        const sub = randomUUID();
        const tokens = await createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }) }).exchangeCode(lwa.issueCode());
        await grants.put(sub, { ...tokens, region: "us-east-1", grantedAt: Date.now() });
        return {
            sub,
            refreshToken: tokens.refreshToken,
            companionToken: signToken(skill.key, accessTokenClaims(sub, { client_id: COMPANION_CLIENT_ID })),
            alexaToken: signToken(skill.key, accessTokenClaims(sub)),
            endpointId: "smartlamp-" + require("crypto").createHash("sha256").update(sub).digest("hex").slice(0, 32),
        };
    }

    const call = (method: string, token?: string, body?: unknown) => fetch(new URL("api/lamp", api.url), {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });

    before(async () => {
        skill = await startSkillHarness();
        lwa = await startLwaEndpoint();
        gateway = await startAlexaGateway(lwa);
        sqs = await startLocalSqs();
        kms = await startKmsEndpoint();
        const grantsTable = "grants-" + randomUUID();
        await skill.dynamo.createLampTable(grantsTable); // the same key schema: userId
        grants = createGrantStore({ tableName: grantsTable, seal: kms.seal(kms.createKey()), dynamoDb: createDynamoDb({ endpoint: skill.dynamo.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS, maxAttempts: 2 }) });
        // The API's URL is the page's, and the login's callback: serve first, then build the handler.
        api = await serveLocally((event) => handler(event));
        login = await startUserPool({
            poolId: USER_POOL_ID,
            key: skill.key,
            clients: [{ clientId: COMPANION_CLIENT_ID, callbackUrls: [api.url], scopes: ["openid"], accessTokenValidityMinutes: 60, refreshTokenValidityDays: 30 }],
            users,
        });
    });
    after(async () => {
        await Promise.all([skill.stop(), lwa.stop(), gateway.stop(), sqs.stop(), kms.stop(), login.stop(), api.stop()]);
    });
    beforeEach(() => {
        queue = sqs.createFifoQueue(`changes-${randomUUID()}.fifo`);
        dlq = sqs.createFifoQueue(`changes-dlq-${randomUUID()}.fifo`);
        const sqsClient = createAwsJsonClient(SQS_PROTOCOL, { endpoint: sqs.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS, maxAttempts: 2 });
        logs = [];
        handler = createCompanionHandler({
            verifyAccessToken: createAccessTokenVerifier({ userPoolId: USER_POOL_ID, clientId: COMPANION_CLIENT_ID, jwks: jwksOf(skill.key) }),
            lampStore: skill.store,
            reportChange: createEventQueue({ queueUrl: queue.url, sqs: sqsClient }),
            page: { authBaseUrl: login.base, clientId: COMPANION_CLIENT_ID, redirectUri: api.url },
            log: (entry) => logs.push(entry),
        });
        const consumer = createChangeReportConsumer({
            deliver: createEventSender({ grants, lwa: createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }) }), gatewayUrl: () => gateway.url, retryBaseMs: 20,
                stillCurrent: async (userId, report) => stillCurrent(report, await skill.store.read(userId)) }),
            deadLetter: deadLetterTo(dlq.url, () => sqsClient),
            log: () => undefined,
        });
        mapping = eventSourceMapping(queue, dlq, consumer as any, { maxReceiveCount: 5 });
    });
    afterEach(async () => {
        await skill.dynamo.setMode("up");
        await sqs.outage.bringUp();
        const text = JSON.stringify(logs);
        assert.ok(!/eyJ[\w-]+\.[\w-]+\.[\w-]+/.test(text) && !text.includes("Atza|"), "a log line holds a token");
    });

    describe("API", () => {
        it("answers 401 with a Bearer challenge without a token, and to a token of the Alexa app client", async () => {
            const user = await linkedUser();
            for (const token of [undefined, "garbage", user.alexaToken]) {
                const response = await call("GET", token);
                assert.equal(response.status, 401, String(token));
                assert.equal(response.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
                assert.deepEqual(await response.json(), { message: "Please sign in again." });
            }
        });

        it("shows the user's own lamp, the same one the skill serves", async () => {
            const user = await linkedUser();
            await skill.handle(directives.setBrightness(user.alexaToken, user.endpointId, 35));
            const response = await call("GET", user.companionToken);
            assert.equal(response.status, 200);
            assert.deepEqual(await response.json(), { powerState: "ON", brightness: 35 });
        });

        it("switches the lamp with the skill's rules, queues a ChangeReport (APP_INTERACTION) that reaches Alexa, and ReportState agrees", async () => {
            const user = await linkedUser();
            const response = await call("POST", user.companionToken, { powerState: "ON" });
            assert.deepEqual(await response.json(), { powerState: "ON", brightness: 100 });
            assert.equal(queue.messages.length, 1);
            await mapping.drain();
            const dimmed = await call("POST", user.companionToken, { brightness: 0 });
            // The lamp rules of handler/lamp.ts: 0 % switches the lamp off.
            assert.equal(((await dimmed.json()) as { powerState: string }).powerState, "OFF");
            assert.equal(queue.messages.length, 1);
            await mapping.drain();
            const received = gateway.accepted.filter((e) => e.grant === user.refreshToken).map((e) => e.body);
            const changes = received.map((r) => r.event.payload.change.properties.map((p: any) => `${p.name}=${p.value}`));
            assert.equal(changes.length, 2);
            assert.ok(changes[0].includes("powerState=ON") && changes[1].includes("powerState=OFF"), JSON.stringify(changes));
            for (const report of received) {
                assert.equal(report.event.payload.change.cause.type, "APP_INTERACTION");
                assert.equal(report.event.endpoint.endpointId, user.endpointId);
                if (alexaDataPresent) {
                    assertValidAlexaMessage(report);
                }
            }
            const state = await skill.handle(directives.reportState(user.alexaToken, user.endpointId));
            assert.equal(property(state, "Alexa.PowerController", "powerState"), "OFF");
        });

        it("queues no ChangeReport for a change that changes nothing", async () => {
            const user = await linkedUser();
            await call("POST", user.companionToken, { powerState: "OFF" });
            assert.equal(queue.messages.length, 0);
        });

        it("refuses a malformed change with 400 and a message that says what to send, changing nothing", async () => {
            const user = await linkedUser();
            const before = await skill.store.read(user.sub);
            for (const body of ["not json", { powerState: "on" }, { brightness: 101 }, { brightness: 2.5 }, { powerState: "ON", brightness: 3 }, []]) {
                const response = await call("POST", user.companionToken, body);
                assert.equal(response.status, 400, JSON.stringify(body));
                assert.match(((await response.json()) as { message: string }).message, /powerState.*brightness|must be JSON/);
            }
            assert.deepEqual(await skill.store.read(user.sub), before);
            assert.equal(queue.messages.length, 0);
        });

        it("answers 503 while DynamoDB is down and queues nothing, and works again once it is back", async () => {
            const user = await linkedUser();
            await skill.dynamo.setMode("down");
            const down = await call("POST", user.companionToken, { powerState: "ON" });
            assert.equal(down.status, 503);
            assert.equal(queue.messages.length, 0);
            await skill.dynamo.setMode("up");
            const back = await call("POST", user.companionToken, { powerState: "ON" });
            assert.equal(back.status, 200);
            assert.equal(queue.messages.length, 1);
        });

        it("keeps the change when the queue cannot be reached, and says so in its log", async () => {
            const user = await linkedUser();
            await sqs.outage.takeDown();
            const response = await call("POST", user.companionToken, { powerState: "ON" });
            assert.equal(response.status, 200);
            assert.equal((await skill.store.read(user.sub)).powerState, "ON");
            assert.match(logs.at(-1)!.reason!, /the ChangeReport was not queued/);
        });

        it("serves the page with a nonce-based Content-Security-Policy that allows only itself and the login's origin", async () => {
            const response = await fetch(api.url);
            assert.equal(response.status, 200);
            const csp = response.headers.get("content-security-policy")!;
            const nonce = /'nonce-([^']+)'/.exec(csp)![1];
            const html = await response.text();
            assert.ok(html.includes(`<script nonce="${nonce}">`));
            assert.match(csp, new RegExp(`connect-src 'self' ${login.base.replace(/[.]/g, "\\.")};`));
            assert.ok(html.includes(COMPANION_CLIENT_ID));
        });

        it("answers 404 with what the API has for any other path", async () => {
            const response = await fetch(new URL("api/lamps", api.url));
            assert.equal(response.status, 404);
            assert.match(((await response.json()) as { message: string }).message, /GET and POST \/api\/lamp/);
        });
    });

    describe("page, in headless Chromium", () => {
        let browserPath: string;
        before(function () {
            browserPath = browserOrSkip(this);
        });

        it("signs in through the hosted login, switches the lamp, and the ChangeReport reaches Alexa; ReportState answers the new state", async () => {
            const [ada] = users;
            const tokens = await createLwaClient({ tokenUrl: lwa.tokenUrl, credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }) }).exchangeCode(lwa.issueCode());
            await grants.put(ada.sub, { ...tokens, region: "us-east-1", grantedAt: Date.now() });
            const { context, version, close } = await launchChromium(browserPath);
            const browserVersion = version;
            try {
                const page = await context.newPage();
                const pageErrors: string[] = [];
                page.on("pageerror", (err) => pageErrors.push(err.message));
                page.on("console", (message) => message.type() === "error" && pageErrors.push(message.text()));
                page.on("response", (response) => response.status() >= 400 && pageErrors.push(`${response.status()} ${response.url()}`));
                await page.goto(api.url);
                await page.click("#sign-in");
                // The hosted login: a wrong password first, then the right one.
                await page.waitForSelector("form[name=cognitoSignInForm]");
                await page.fill("#signInFormUsername", ada.email);
                await page.fill("#signInFormPassword", "wrong-password");
                await page.click("input[name=signInSubmitButton]");
                await page.waitForSelector("#loginErrorMessage");
                await page.fill("#signInFormUsername", ada.email);
                await page.fill("#signInFormPassword", ada.password);
                await page.click("input[name=signInSubmitButton]");
                // Back on the page, signed in: the code was exchanged with the PKCE verifier.
                await page.waitForSelector("body[data-lamp=OFF]");
                assert.equal(new URL(page.url()).search, "", "the code stays in the address bar");
                assert.equal(login.issued.tokens, 1);
                // The page asked with a PKCE challenge (S256), which Cognito checks at the token endpoint.
                const asked = login.issued.authorizeRequests.at(-1)!;
                assert.deepEqual([asked.get("code_challenge_method"), asked.get("code_challenge")?.length], ["S256", 43]);
                await page.click("#toggle");
                await page.waitForSelector("body[data-lamp=ON]");
                assert.equal(await page.textContent("#power"), "ON");
                // Alexa hears of each change before the next (a report the lamp moved on from is not sent).
                assert.equal(queue.messages.length, 1);
                await mapping.drain();
                await page.fill("#level", "40");
                await page.click("#set-level");
                await page.waitForSelector("#brightness:text-is('40')");
                assert.deepEqual(pageErrors, []);
            } finally {
                await close();
            }
            // The ChangeReports the page caused reach the gateway stand-in, in order.
            assert.equal(queue.messages.length, 1);
            await mapping.drain();
            const received = gateway.accepted.filter((e) => e.grant === tokens.refreshToken).map((e) => e.body);
            assert.equal(received.length, 2);
            assert.ok(received[0].event.payload.change.properties.some((p: any) => p.name === "powerState" && p.value === "ON"));
            assert.deepEqual(received[1].event.payload.change.properties.map((p: any) => `${p.name}=${p.value}`), ["brightness=40"]);
            for (const report of received) {
                assert.equal(report.event.payload.change.cause.type, "APP_INTERACTION");
                if (alexaDataPresent) {
                    assertValidAlexaMessage(report);
                }
            }
            // And Alexa, asking the skill with the user's token of the Alexa client, hears the same.
            const alexaToken = signToken(skill.key, accessTokenClaims(ada.sub));
            const endpointId = received[0].event.endpoint.endpointId;
            const state = await skill.handle(directives.reportState(alexaToken, endpointId));
            assert.equal(property(state, "Alexa.PowerController", "powerState"), "ON");
            assert.equal(property(state, "Alexa.BrightnessController", "brightness"), 40);
            console.log(`      (browser run: Chromium ${browserVersion}, ${login.issued.codes} sign-in code, ${received.length} ChangeReports delivered)`);
        });

        /** A browser on the page, signed in as Ada through the hosted login; `run` gets the page. */
        async function signedIn(run: (page: import("playwright-core").Page) => Promise<void>) {
            const [ada] = users;
            const { context, close } = await launchChromium(browserPath);
            try {
                const page = await context.newPage();
                await page.goto(api.url);
                await page.click("#sign-in");
                await page.waitForSelector("form[name=cognitoSignInForm]");
                await page.fill("#signInFormUsername", ada.email);
                await page.fill("#signInFormPassword", ada.password);
                await page.click("input[name=signInSubmitButton]");
                await page.waitForSelector("#signed-in:not([hidden])");
                await run(page);
            } finally {
                await close();
            }
        }

        it("refuses a returning code whose state is not the one it sent, without asking for a token", async () => {
            const { context, close } = await launchChromium(browserPath);
            try {
                const page = await context.newPage();
                await page.goto(api.url);
                // The page's own request: its state is kept in sessionStorage, then a forged answer arrives.
                await page.evaluate(`sessionStorage.setItem("pkce", ${JSON.stringify(JSON.stringify({ verifier: "v".repeat(43), state: "the-state-it-sent" }))})`);
                const before = login.issued.tokenRequests;
                await page.goto(`${api.url}?code=forged-code&state=another-state`);
                await page.waitForSelector("#error:text('did not match')");
                assert.equal(login.issued.tokenRequests, before, "the forged code was sent for a token");
                assert.equal(await page.evaluate(`sessionStorage.getItem("accessToken")`), null);
                assert.ok(await page.isVisible("#sign-in"), "no way to sign in again");
                assert.equal(new URL(page.url()).search, "", "the forged code stays in the address bar");
            } finally {
                await close();
            }
        });

        it("signs out through the hosted login's /logout: no token left in the browser, and the next sign-in asks for the password again", async () => {
            await signedIn(async (page) => {
                const before = login.issued.logouts;
                await page.click("#sign-out");
                await page.waitForURL(api.url);
                await page.waitForSelector("#signed-out:not([hidden])");
                assert.equal(login.issued.logouts - before, 1);
                assert.equal(await page.evaluate(`JSON.stringify(sessionStorage)`), "{}", "something is left in sessionStorage");
                assert.equal(await page.evaluate(`JSON.stringify(localStorage)`), "{}");
                // The hosted login's session is gone: the next person at this computer sees the form.
                await page.click("#sign-in");
                await page.waitForSelector("form[name=cognitoSignInForm]");
            });
        });

        it("offers sign-in again, with a message, when the API refuses the token (expired or revoked): never a dead page", async () => {
            await signedIn(async (page) => {
                // The token stops being accepted (here: its signature no longer holds).
                await page.evaluate(`sessionStorage.setItem("accessToken", sessionStorage.getItem("accessToken").slice(0, -4) + "AAAA")`);
                await page.click("#toggle");
                await page.waitForSelector("#signed-out:not([hidden])");
                assert.match(await page.textContent("#error") ?? "", /sign-in has expired; please sign in again/);
                assert.equal(await page.evaluate(`sessionStorage.getItem("accessToken")`), null);
                assert.ok(await page.isVisible("#sign-in"));
            });
        });
    });
});
