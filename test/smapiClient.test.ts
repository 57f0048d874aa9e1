// The SMAPI client (infra/smapiClient.ts) request by request, against the local LWA and SMAPI
// stand-in: what each request carries, how long it waits before a retry, when it gives up, and
// the sentence each failure ends in. Waits are checked from below only (a sleep never ends early),
// so a loaded machine cannot fail them.
import { strict as assert } from "assert";
import { createServer } from "net";
import {
    applyEndpoint, eTagValue, readAccountLinking, readLiveStage, readManifest, readMessagingCredentials, smapiSession, SmapiSession, SmapiTiming, waitForManifestUpdate, writeAccountLinking,
} from "../infra/smapiClient";
import type { ManagedEndpoint } from "../infra/skillManifest";
import { SmapiStandIn, STACK_LINKING_REQUEST, STAND_IN_CREDENTIALS, startSmapiStandIn } from "./support/smapiStandIn";

const SKILL_ID = "amzn1.ask.skill.5c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5";
const ARN = "arn:aws:lambda:us-east-1:123456789012:function:smartlamp-function-na";
const TIMING: SmapiTiming = { retryDelayMs: 5, retryBudgetMs: 2000, pollIntervalMs: 5, pollBudgetMs: 5000, conflictTries: 3, requestTimeoutMs: 5000 };
const WANTED: ManagedEndpoint = { region: "NA", uri: ARN, isDefault: true };

function manifest(): unknown {
    return { manifest: { apis: { smartHome: { protocolVersion: "3", endpoint: { uri: "arn:aws:lambda:us-east-1:123456789012:function:placeholder" } } } } };
}

/** A port on 127.0.0.1 that cuts every connection at once (kept open, so that no one else takes it). */
async function cuttingPort(): Promise<{ port: number; close(): Promise<unknown> }> {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return { port: (server.address() as { port: number }).port, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function failureOf(promise: Promise<unknown>): Promise<string> {
    try {
        await promise;
    } catch (err) {
        return (err as Error).message;
    }
    throw new Error("expected a failure");
}

async function timed<T>(work: () => Promise<T>): Promise<number> {
    const started = Date.now();
    await work();
    return Date.now() - started;
}

describe("the SMAPI client, request by request", () => {
    let smapi: SmapiStandIn;
    const session = (timing: Partial<SmapiTiming> = {}): SmapiSession => smapiSession(SKILL_ID, STAND_IN_CREDENTIALS, smapi.endpoints, { ...TIMING, ...timing });
    const lwaRequests = () => smapi.requests.filter((r) => r.path === "/auth/o2/token");

    beforeEach(async () => {
        smapi = await startSmapiStandIn();
        smapi.addSkill(SKILL_ID, manifest());
    });
    afterEach(() => smapi.stop());

    it("asks LWA for one access token per session, as a form, and sends it with every SMAPI request", async () => {
        const one = session();
        await readManifest(one);
        await readAccountLinking(one);
        assert.equal(lwaRequests().length, 1);
        assert.equal(lwaRequests()[0].headers["content-type"], "application/x-www-form-urlencoded");
        assert.equal(new URLSearchParams(lwaRequests()[0].body).get("grant_type"), "refresh_token");
        const smapiRequests = smapi.requests.filter((r) => r.path.startsWith("/v1/"));
        assert.equal(smapiRequests.length, 2);
        assert.ok(smapiRequests.every((r) => /^Bearer .+/.test(String(r.headers.authorization))));
    });

    it("asks for JSON, and sends a content type and a JSON body only with a body", async () => {
        const one = session();
        await readManifest(one);
        const request = STACK_LINKING_REQUEST;
        await writeAccountLinking(one, request);
        const [read, write] = smapi.requests.filter((r) => r.path.startsWith("/v1/"));
        assert.equal(read.method, "GET");
        assert.equal(read.headers.accept, "application/json");
        assert.equal(read.headers["content-type"], undefined);
        assert.equal(read.body, "");
        assert.equal(write.method, "PUT");
        assert.equal(write.headers.accept, "application/json");
        assert.equal(write.headers["content-type"], "application/json");
        assert.deepEqual(JSON.parse(write.body), request);
    });

    it("waits as long as Retry-After says before trying a 429 again", async () => {
        smapi.fault({ method: "GET", path: /\/manifest$/, status: 429, body: { message: "Too many requests" }, headers: { "retry-after": "0.3" } });
        const took = await timed(() => readManifest(session({ retryDelayMs: 1 })));
        assert.ok(took >= 290, `retried after ${took} ms`);
        assert.equal(smapi.requests.filter((r) => r.path.endsWith("/manifest")).length, 2);
    });

    it("without Retry-After, retries a 500 after its delay, doubled each time", async () => {
        smapi.fault({ method: "GET", path: /\/manifest$/, status: 500, body: { message: "Internal error" }, times: 3 });
        const took = await timed(() => readManifest(session({ retryDelayMs: 40, retryBudgetMs: 60_000 })));
        // 40 + 80 + 160 ms: halving instead would take 70, no delay 0.
        assert.ok(took >= 275, `three retries took ${took} ms`);
        assert.equal(smapi.requests.filter((r) => r.path.endsWith("/manifest")).length, 4);
    });

    it("retries LWA's server errors too", async () => {
        smapi.fault({ method: "POST", path: /^\/auth\/o2\/token$/, status: 503, body: { error: "server_error" } });
        await readManifest(session());
        assert.equal(lwaRequests().length, 2);
    });

    it("names the host and what it was doing when LWA cannot be reached", async () => {
        const { port, close } = await cuttingPort();
        const message = await failureOf(readManifest(smapiSession(SKILL_ID, STAND_IN_CREDENTIALS,
            { smapiBase: smapi.endpoints.smapiBase, lwaTokenUrl: `http://127.0.0.1:${port}/auth/o2/token` }, { ...TIMING, retryBudgetMs: 30 })));
        await close();
        assert.match(message, new RegExp(`^Could not reach 127\\.0\\.0\\.1:${port} to get an access token for SMAPI \\(.+\\); check the network and run \`npx pulumi up\` again\\.$`));
        assert.doesNotMatch(message, /\(undefined\)/, "the network error's own words");
    });

    it("names SMAPI's host when SMAPI cannot be reached", async () => {
        const { port, close } = await cuttingPort();
        const message = await failureOf(readManifest(smapiSession(SKILL_ID, STAND_IN_CREDENTIALS,
            { smapiBase: `http://127.0.0.1:${port}`, lwaTokenUrl: smapi.endpoints.lwaTokenUrl }, { ...TIMING, retryBudgetMs: 30 })));
        await close();
        assert.match(message, new RegExp(`^Could not reach 127\\.0\\.0\\.1:${port} to read the skill manifest \\(.+\\); check the network`));
    });

    it("refuses an LWA answer without an access token", async () => {
        for (const body of [{}, { access_token: "" }, { access_token: 7 }]) {
            smapi.fault({ method: "POST", path: /^\/auth\/o2\/token$/, status: 200, body });
            assert.equal(await failureOf(readManifest(session())), "Login with Amazon answered without an access token; run `npx pulumi up` again.");
        }
    });

    it("names the operation that failed, each in its own words", async () => {
        const cases: [string, RegExp, (s: SmapiSession) => Promise<unknown>, string][] = [
            ["GET", /\/manifest$/, readManifest, "read the skill manifest"],
            ["GET", /\/status$/, (s) => waitForManifestUpdate(s, TIMING), "read the manifest update's status"],
            ["PUT", /\/manifest$/, (s) => applyEndpoint(s, WANTED, TIMING), "update the skill manifest"],
            ["GET", /\/accountLinkingClient$/, readAccountLinking, "read the account linking"],
            ["PUT", /\/accountLinkingClient$/, (s) => writeAccountLinking(s, {}), "update the account linking"],
            ["GET", /\/credentials$/, readMessagingCredentials, "read the skill's messaging credentials"],
            ["GET", /\/stages\/live\/manifest$/, readLiveStage, "read the live skill's manifest"],
            ["GET", /\/stages\/live\/accountLinkingClient$/, readLiveStage, "read the live skill's account linking"],
        ];
        smapi.publish(SKILL_ID); // the live stage's manifest answers, so that its account linking is read
        for (const [method, path, operation, words] of cases) {
            smapi.fault({ method, path, status: 418, body: undefined });
            // An empty body: nothing to quote, so the sentence ends at the status.
            assert.equal(await failureOf(operation(session())), `SMAPI refused to ${words} of ${SKILL_ID} (HTTP 418).`);
        }
    });

    it("says whether it wrote: false when the manifest already holds the entries, true after a write", async () => {
        assert.equal(await applyEndpoint(session(), WANTED, TIMING), true);
        assert.equal(await applyEndpoint(session(), WANTED, TIMING), false);
        assert.equal(smapi.writes().length, 1);
    });

    it("gives up when the manifest changes under every write, after exactly conflictTries writes", async () => {
        smapi.fault({ method: "PUT", path: /\/manifest$/, status: 412, body: { code: "PRECONDITION_NOT_MET", message: "Precondition failed." }, times: 10 });
        const message = await failureOf(applyEndpoint(session(), WANTED, TIMING));
        assert.equal(message, `The manifest of ${SKILL_ID} changed under every one of 3 writes (HTTP 412, Precondition failed): ` +
            "another stack or the console is writing it right now. Run `npx pulumi up` again when they are done.");
        assert.equal(smapi.writes().length, 3);
    });

    it("after a 409 (an update still being applied), waits a poll interval before reading again", async () => {
        smapi.fault({ method: "PUT", path: /\/manifest$/, status: 409, body: { message: "conflict with the current state of the target resource" } });
        const took = await timed(() => applyEndpoint(session({ pollIntervalMs: 250 }), WANTED, { ...TIMING, pollIntervalMs: 250 }));
        // The wait after the 409, then the one status poll that finds the update still in progress.
        assert.ok(took >= 495, `done after ${took} ms`);
        assert.equal(smapi.writes().length, 2);
    });

    it("gives up on an update that is still IN_PROGRESS when the poll budget runs out", async () => {
        await smapi.stop();
        smapi = await startSmapiStandIn({ pollsBeforeDone: 10_000 });
        smapi.addSkill(SKILL_ID, manifest());
        const message = await failureOf(applyEndpoint(session(), WANTED, { ...TIMING, pollIntervalMs: 50, pollBudgetMs: 1000 }));
        assert.equal(message, `SMAPI was still applying the manifest of ${SKILL_ID} after 1 s (status IN_PROGRESS): ` +
            "check the skill's Build page in the console, then run `npx pulumi refresh` and `npx pulumi up`.");
    });

    it("removes the LWA secrets and the access token from a failure that quotes them", async () => {
        const one = session();
        await readManifest(one);
        const bearer = String(smapi.requests.at(-1)!.headers.authorization).slice("Bearer ".length);
        smapi.fault({ method: "GET", path: /\/manifest$/, status: 400, body: { message: `bad ${bearer} ${STAND_IN_CREDENTIALS.refreshToken} ${STAND_IN_CREDENTIALS.clientSecret}` } });
        const message = await failureOf(readManifest(one));
        assert.ok(!message.includes(bearer), "the access token appears");
        assert.equal(message, `SMAPI refused to read the skill manifest of ${SKILL_ID} (HTTP 400). Amazon says: bad [secret] [secret] [secret]`);
    });

    it("removes what the call sent as a secret (the Cognito client secret of an account-linking request) from a failure that quotes it, and never prints an entry whole", async () => {
        const secret = STACK_LINKING_REQUEST.accountLinkingRequest.clientSecret as string;
        const one = smapiSession(SKILL_ID, STAND_IN_CREDENTIALS, smapi.endpoints, TIMING, [secret]);
        smapi.fault({ method: "PUT", path: /\/accountLinkingClient$/, status: 400, body: {
            message: `Request is not valid: clientSecret ${secret} is refused.`,
            violations: [
                { code: "INVALID_DATA_TYPE", message: `value ${secret} is not allowed`, validationDetails: { originalInstance: { propertyPath: "$.accountLinkingRequest.clientSecret" } } },
                // An entry without a message: told by its code and field, not printed whole (its value quotes the secret).
                { code: "UNEXPECTED_PROPERTY", validationDetails: { originalInstance: { propertyPath: "$.accountLinkingRequest.extra", value: secret } } },
                { value: { clientSecret: secret } },
            ],
        } });
        const message = await failureOf(writeAccountLinking(one, STACK_LINKING_REQUEST));
        assert.ok(!message.includes(secret), message);
        assert.equal(message, `SMAPI refused to update the account linking of ${SKILL_ID} (HTTP 400). Amazon says: Request is not valid: clientSecret [secret] is refused.\n` +
            "    - $.accountLinkingRequest.clientSecret: value [secret] is not allowed (INVALID_DATA_TYPE)\n" +
            "    - $.accountLinkingRequest.extra: (Amazon gave no message) (UNEXPECTED_PROPERTY)\n" +
            "    - (Amazon gave no message)");
    });

    it("takes a status that still shows the previous update's outcome for no answer about this one: a FAILED update after a SUCCEEDED one fails", async () => {
        for (const staleStatusPolls of [1, 2]) {
            await smapi.stop();
            smapi = await startSmapiStandIn({ staleStatusPolls });
            smapi.addSkill(SKILL_ID, manifest());
            smapi.invocable = new Set(); // this update FAILS: the function may not be invoked
            const message = await failureOf(applyEndpoint(session(), WANTED, TIMING));
            assert.match(message, new RegExp(`^SMAPI accepted the manifest of ${SKILL_ID} but its update FAILED:`), `${staleStatusPolls} stale polls`);
            assert.equal(smapi.requests.filter((r) => r.path.includes("/status?")).length, staleStatusPolls + 2, "polled past the stale answers");
        }
    });

    it("counts a success as this update's after its IN_PROGRESS, or by a new manifest version, or after three polls alike", async () => {
        await smapi.stop();
        smapi = await startSmapiStandIn({ staleStatusPolls: 1, pollsBeforeDone: 0 });
        smapi.addSkill(SKILL_ID, manifest());
        assert.equal(await applyEndpoint(session(), WANTED, TIMING), true);
        // The stale answer (the old version), then this update's SUCCEEDED with a new eTag: two polls.
        assert.equal(smapi.requests.filter((r) => r.path.includes("/status?")).length, 2);
        // A status without any eTag: the same SUCCEEDED three times running is taken as this update's.
        smapi.fault({ method: "GET", path: /\/status$/, status: 200, body: { manifest: { lastUpdateRequest: { status: "SUCCEEDED" } } }, times: 3 });
        const before = smapi.requests.filter((r) => r.path.includes("/status?")).length;
        await waitForManifestUpdate(session(), TIMING, "1");
        assert.equal(smapi.requests.filter((r) => r.path.includes("/status?")).length - before, 3);
    });

    it("compares manifest versions by their ETag values, weak or strong, quoted or not", () => {
        assert.deepEqual(['W/"17"', '"17"', "17", '"a7-b"', '""'].map(eTagValue), ["17", "17", "17", "a7-b", ""]);
        // Only a whole quoted value loses its quotes.
        assert.deepEqual(['x"17"', '"17"x', 'W/17', '"17'].map(eTagValue), ['x"17"', '"17"x', "W/17", '"17']);
    });

    it("tells this update's outcome by version only for a SUCCEEDED, and counts only the same outcome running", async () => {
        const status = (status: string, eTag: string) => ({ method: "GET", path: /\/status$/, status: 200, body: { manifest: { lastUpdateRequest: { status, errors: [] }, eTag } } });
        // A SUCCEEDED under the version written over, then a FAILED twice, then a SUCCEEDED of a new
        // version: no outcome shows three times running, and the new version's success is this update's.
        const polls = () => smapi.requests.filter((r) => r.path.includes("/status?")).length;
        for (const [answer, eTag] of [["SUCCEEDED", 'W/"7"'], ["FAILED", '"7"'], ["FAILED", '"7"'], ["SUCCEEDED", '"8"']]) {
            smapi.fault(status(answer, eTag));
        }
        await waitForManifestUpdate(session(), TIMING, '"7"');
        assert.equal(polls(), 4);
        // A FAILED that already shows another version is not taken for this update's by its version.
        smapi.fault(status("FAILED", '"9"'));
        smapi.fault(status("SUCCEEDED", '"9"'));
        await waitForManifestUpdate(session(), TIMING, '"8"');
        assert.equal(polls(), 6);
    });

    it("refuses a credentials answer without both messaging credentials", async () => {
        for (const body of [{}, { skillMessagingCredentials: { clientId: "amzn1.application-oa2-client.x" } }, { skillMessagingCredentials: { clientSecret: "s" } }]) {
            smapi.fault({ method: "GET", path: /\/credentials$/, status: 200, body });
            assert.equal(await failureOf(readMessagingCredentials(session())),
                `SMAPI answered without messaging credentials for ${SKILL_ID}: turn on "Send Alexa Events" on the skill's Permissions page in the console, then run \`npx pulumi up\` again.`);
        }
    });
});
