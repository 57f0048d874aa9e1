// The Login with Amazon client, answer by answer against the LWA stand-in: what it sends, what it
// makes of each answer (tokens, their expiry, or whose problem the refusal is and the message), how
// often it tries, and the deadline it keeps. AcceptGrant and the event sender use it; the causes
// themselves are handler/causes.ts's, checked whole in test/causes.test.ts.
import { strict as assert } from "assert";
import { createLwaClient, LwaClient, LwaError, LwaSettings } from "../handler/lwa";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, LwaEndpoint, startLwaEndpoint } from "../local/lwaEndpoint";

/** Runs `call` and returns the LwaError it fails with. */
async function lwaError(call: Promise<unknown>): Promise<LwaError> {
    try {
        await call;
    } catch (err) {
        assert.ok(err instanceof LwaError, `not an LwaError: ${err}`);
        return err;
    }
    assert.fail("LWA's answer was taken as tokens");
}

describe("the LWA client", function () {
    this.timeout(20000);
    let lwa: LwaEndpoint;
    const NOW = 1_800_000_000_000;

    const client = (settings: Partial<LwaSettings> = {}): LwaClient => createLwaClient({
        tokenUrl: lwa.tokenUrl,
        credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }),
        now: () => NOW,
        ...settings,
    });
    const tries = () => lwa.forms.length;

    before(async () => {
        lwa = await startLwaEndpoint();
    });
    after(() => lwa.stop());
    afterEach(async () => {
        lwa.setMode("up");
        lwa.expiresInSeconds = 3600;
        await lwa.outage.bringUp();
    });

    it("exchanges a code: the form holds the grant type, the code and the client's id and secret; the tokens expire when LWA says", async () => {
        lwa.expiresInSeconds = 120;
        const code = lwa.issueCode();
        const tokens = await client().exchangeCode(code);
        const form = lwa.forms.at(-1)!;
        assert.deepEqual(Object.fromEntries(form), { grant_type: "authorization_code", code, client_id: LWA_CLIENT_ID, client_secret: LWA_CLIENT_SECRET });
        assert.match(tokens.accessToken, /^Atza\|/);
        assert.match(tokens.refreshToken, /^Atzr\|/);
        assert.equal(tokens.accessTokenExpiresAt, NOW + 120_000);
    });

    it("refreshes with the refresh token, and keeps that refresh token when LWA leaves it out of the answer", async () => {
        const { refreshToken } = await client().exchangeCode(lwa.issueCode());
        const refreshed = await client().refresh(refreshToken);
        assert.deepEqual(Object.fromEntries(lwa.forms.at(-1)!), { grant_type: "refresh_token", refresh_token: refreshToken, client_id: LWA_CLIENT_ID, client_secret: LWA_CLIENT_SECRET });
        assert.equal(refreshed.refreshToken, refreshToken);
        lwa.answerNext(1, 200, { access_token: "Atza|new", token_type: "bearer", expires_in: 3600 });
        assert.deepEqual(await client().refresh(refreshToken), { accessToken: "Atza|new", refreshToken, accessTokenExpiresAt: NOW + 3_600_000, clientId: LWA_CLIENT_ID });
        lwa.answerNext(1, 200, { access_token: "Atza|rotated", refresh_token: "Atzr|rotated", expires_in: 60 });
        assert.deepEqual(await client().refresh(refreshToken), { accessToken: "Atza|rotated", refreshToken: "Atzr|rotated", accessTokenExpiresAt: NOW + 60_000, clientId: LWA_CLIENT_ID });
    });

    it("reads a missing, zero, negative or unreadable expires_in as LWA's documented hour", async () => {
        for (const expiresIn of [undefined, 0, -5, "soon", null]) {
            lwa.answerNext(1, 200, { access_token: "Atza|x", refresh_token: "Atzr|x", ...(expiresIn === undefined ? {} : { expires_in: expiresIn }) });
            assert.equal((await client().exchangeCode("c")).accessTokenExpiresAt, NOW + 3_600_000, String(expiresIn));
        }
    });

    it("takes a 200 without an access token, or without a refresh token for a code, for our configuration's problem, not the grant's", async () => {
        for (const body of [{ refresh_token: "Atzr|x" }, { access_token: "Atza|x" }, { access_token: 7, refresh_token: "Atzr|x" }]) {
            lwa.answerNext(1, 200, body);
            const err = await lwaError(client().exchangeCode("c"));
            assert.deepEqual([err.answer.cause, err.message], ["configuration", "LWA answered 200 without an access and a refresh token"], JSON.stringify(body));
        }
    });

    it("takes tokens only from a 200", async () => {
        lwa.answerNext(1, 400, { access_token: "Atza|x", refresh_token: "Atzr|x", error: "invalid_grant" });
        assert.equal((await lwaError(client().exchangeCode("c"))).message, "LWA refused the request: 400 (invalid_grant)");
    });

    it("asks LWA's own token endpoint when no address is given", async () => {
        const asked: string[] = [];
        const realFetch = globalThis.fetch;
        // Nothing leaves this machine: the request is recorded and refused as a network failure.
        globalThis.fetch = (async (url: string | URL) => {
            asked.push(String(url));
            throw new TypeError("fetch failed");
        }) as typeof fetch;
        try {
            const err = await lwaError(createLwaClient({ credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: LWA_CLIENT_SECRET }), maxAttempts: 1 }).exchangeCode("c"));
            assert.equal(err.message, "LWA could not be reached");
        } finally {
            globalThis.fetch = realFetch;
        }
        assert.deepEqual(asked, ["https://api.amazon.com/auth/o2/token"]);
    });

    it("calls a refused code the grant's own problem (linkGone), once, naming LWA's status and error code", async () => {
        const before = tries();
        const err = await lwaError(client().exchangeCode("not-issued"));
        assert.deepEqual([err.answer.cause, err.message, err.name], ["linkGone", "LWA refused the request: 400 (invalid_grant)", "LwaError"]);
        assert.equal(tries() - before, 1);
    });

    it("calls a wrong client secret our configuration's problem, once, says which keys to fix, and never quotes the secret", async () => {
        const before = tries();
        const err = await lwaError(client({ credentials: async () => ({ clientId: LWA_CLIENT_ID, clientSecret: "wrong-secret-value" }) }).exchangeCode(lwa.issueCode()));
        assert.equal(tries() - before, 1);
        assert.deepEqual([err.answer.cause, err.answer.code, err.message], ["configuration", "invalid_client", "LWA refused the request: 401 (invalid_client)"]);
        assert.match(err.answer.fix!, /alexaClientId and alexaClientSecret/);
        assert.ok(!JSON.stringify(err.answer).includes("wrong-secret-value") && !err.message.includes("wrong-secret-value"));
    });

    it("names no error code it cannot read as one (not a string, markup, too long), nor a body that is not JSON", async () => {
        // A code with anything before or after it is no code: the whole value must be one.
        for (const body of [{ error: 42 }, { error: "<script>" }, { error: "e".repeat(65) }, { error: "<b>invalid_grant" }, { error: "invalid_grant</b>" }, {}, "<html>proxy error</html>"]) {
            lwa.answerNext(1, 400, body);
            assert.equal((await lwaError(client().exchangeCode("c"))).message, "LWA refused the request: 400 (no error code)", JSON.stringify(body));
        }
        lwa.answerNext(1, 400, { error: "e".repeat(64) });
        assert.equal((await lwaError(client().exchangeCode("c"))).message, `LWA refused the request: 400 (${"e".repeat(64)})`);
    });

    it("tries 5xx and 429 twice by default, then calls the failure transient with the last status", async () => {
        for (const [status, error] of [[500, "ServerError"], [503, "TemporarilyUnavailable"], [429, "TooManyRequests"]] as const) {
            const before = tries();
            lwa.answerNext(2, status, { error });
            const err = await lwaError(client().exchangeCode("c"));
            assert.deepEqual([err.answer.cause, err.message], ["transient", `LWA answered ${status} (${error})`]);
            assert.equal(tries() - before, 2, String(status));
        }
        const before = tries();
        lwa.answerNext(3, 503, { error: "TemporarilyUnavailable" });
        assert.equal((await lwaError(client({ maxAttempts: 3 }).exchangeCode("c"))).answer.cause, "transient");
        assert.equal(tries() - before, 3);
        lwa.answerNext(1, 503, { error: "TemporarilyUnavailable" });
        assert.match((await client().exchangeCode(lwa.issueCode())).accessToken, /^Atza\|/, "the second try's tokens");
    });

    it("says which client asked, and whether LWA has given these credentials tokens before in this container", async () => {
        const fresh = client();
        const first = await lwaError(fresh.refresh("Atzr|never-issued"));
        assert.deepEqual([first.answer.cause, first.clientId, first.credentialsProven], ["linkGone", LWA_CLIENT_ID, false]);
        const { refreshToken } = await fresh.exchangeCode(lwa.issueCode());
        lwa.revokeRefreshToken(refreshToken);
        const after = await lwaError(fresh.refresh(refreshToken));
        assert.deepEqual([after.answer.cause, after.clientId, after.credentialsProven], ["linkGone", LWA_CLIENT_ID, true]);
        assert.equal((await lwaError(client().refresh(refreshToken))).credentialsProven, false, "another container's client");
        lwa.setMode("unavailable503");
        assert.deepEqual([(await lwaError(fresh.refresh(refreshToken))).credentialsProven, (await lwaError(fresh.refresh(refreshToken))).answer.cause], [true, "transient"]);
    });

    it("calls a silent LWA a transient failure after the attempt's time, and an unreachable one too", async () => {
        lwa.setMode("hang");
        const silent = await lwaError(client({ attemptTimeoutMs: 300, maxAttempts: 1 }).exchangeCode("c"));
        assert.deepEqual([silent.answer.cause, silent.message], ["transient", "LWA did not answer within 300 ms"]);
        lwa.setMode("up");
        await lwa.outage.takeDown();
        const down = await lwaError(client().exchangeCode("c"));
        assert.deepEqual([down.answer.cause, down.message], ["transient", "LWA could not be reached"]);
    });

    it("keeps a deadline: each try gets what is left of it in whole milliseconds, and none starts with less than 200 ms", async () => {
        let clock = NOW;
        const timed = client({ now: () => clock, attemptTimeoutMs: 5000 });
        lwa.setMode("hang");
        const short = await lwaError(timed.exchangeCode("c", NOW + 250.7));
        assert.equal(short.message, "LWA did not answer within 250 ms");
        lwa.setMode("up"); // a try, had one started, would get tokens
        const before = tries();
        const none = await lwaError(timed.exchangeCode(lwa.issueCode(), NOW + 199.9));
        assert.deepEqual([none.answer.cause, none.answer.code, none.message], ["transient", "no time left", "no time left to ask LWA"]);
        // An error that does not say the credentials were proven does not claim it.
        assert.equal(new LwaError({ cause: "linkGone", code: "invalid_grant" }, "refused", LWA_CLIENT_ID).credentialsProven, false);
        assert.equal(tries(), before, "a try started without the time for it");
        lwa.setMode("hang");
        clock = NOW + 1000;
        assert.equal((await lwaError(timed.exchangeCode("c", NOW + 1200))).message, "LWA did not answer within 200 ms");
        const longer = await lwaError(client({ attemptTimeoutMs: 300, maxAttempts: 1 }).exchangeCode("c", NOW + 60_000));
        assert.equal(longer.message, "LWA did not answer within 300 ms", "the attempt's own limit, when the deadline is further");
    });
});
