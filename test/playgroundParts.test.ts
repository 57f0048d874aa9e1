import { strict as assert } from "assert";
import { request } from "http";
import { serveLocally } from "../local/companionServer";
import type { ArchiveContainer } from "../local/lambdaArchive";
import { startAlexaSimulator } from "../playground/alexaSimulator";
import { startFunction } from "../playground/localCloud";
import { readableLine, terminalLine } from "../playground/readableLog";
import { spokenOutcome } from "../playground/spoken";

const error = (type: string) => ({ event: { header: { namespace: "Alexa", name: "ErrorResponse" }, payload: { type, message: "not for the user" } } });

describe("the playground's Alexa: what it says", () => {
    it("says OK to every kind of answer that did what was asked", () => {
        for (const name of ["Response", "StateReport", "Discover.Response", "AcceptGrant.Response"]) {
            assert.deepEqual(spokenOutcome({ event: { header: { name } } }), { speech: "OK", kind: "ok" }, name);
        }
    });

    it("tells a refusal of the user's from a failure, never speaks the error's message, and ends the link only on INVALID_AUTHORIZATION_CREDENTIAL", () => {
        assert.equal(spokenOutcome(error("NO_SUCH_ENDPOINT")).kind, "refused");
        assert.equal(spokenOutcome(error("VALUE_OUT_OF_RANGE")).kind, "refused");
        assert.equal(spokenOutcome(error("ENDPOINT_UNREACHABLE")).kind, "failed");
        assert.equal(spokenOutcome(error("INTERNAL_ERROR")).kind, "failed");
        const types = ["NO_SUCH_ENDPOINT", "VALUE_OUT_OF_RANGE", "INVALID_VALUE", "INVALID_DIRECTIVE", "ENDPOINT_UNREACHABLE", "BRIDGE_UNREACHABLE", "INTERNAL_ERROR",
            "EXPIRED_AUTHORIZATION_CREDENTIAL", "INVALID_AUTHORIZATION_CREDENTIAL", "ACCEPT_GRANT_FAILED", "SOMETHING_NEW"];
        for (const type of types) {
            const outcome = spokenOutcome(error(type));
            assert.notEqual(outcome.speech, "OK", type);
            assert.ok(!outcome.speech.includes("not for the user"), type);
            assert.equal(outcome.linkLost === true, type === "INVALID_AUTHORIZATION_CREDENTIAL", type);
        }
        assert.match(spokenOutcome(error("INVALID_AUTHORIZATION_CREDENTIAL")).speech, /link your account again/);
    });

    it("has words and a kind of its own for each error type the skill can answer", () => {
        const said = (type: string) => { const { speech, kind } = spokenOutcome(error(type)); return `${kind}: ${speech}`; };
        assert.deepEqual(Object.fromEntries(["NO_SUCH_ENDPOINT", "VALUE_OUT_OF_RANGE", "INVALID_VALUE", "INVALID_DIRECTIVE", "ENDPOINT_UNREACHABLE", "BRIDGE_UNREACHABLE",
            "INTERNAL_ERROR", "EXPIRED_AUTHORIZATION_CREDENTIAL", "INVALID_AUTHORIZATION_CREDENTIAL", "ACCEPT_GRANT_FAILED"].map((type) => [type, said(type)])), {
            NO_SUCH_ENDPOINT: "refused: Sorry, I can't find that device. It may have been removed.",
            VALUE_OUT_OF_RANGE: "refused: Sorry, Smart Lamp can't be set to that value.",
            INVALID_VALUE: "refused: Sorry, Smart Lamp can't be set to that value.",
            INVALID_DIRECTIVE: "refused: Sorry, Smart Lamp doesn't support that.",
            ENDPOINT_UNREACHABLE: "failed: Smart Lamp is not responding. Please check its power and network.",
            BRIDGE_UNREACHABLE: "failed: Smart Lamp is not responding. Please check its hub.",
            INTERNAL_ERROR: "failed: Sorry, something went wrong with Smart Lamp. Please try again later.",
            EXPIRED_AUTHORIZATION_CREDENTIAL: "failed: Sorry, I couldn't reach Smart Lamp. Please try again.",
            INVALID_AUTHORIZATION_CREDENTIAL: "failed: To control Smart Lamp, please link your account again in the Alexa app.",
            ACCEPT_GRANT_FAILED: "failed: Your account is linked, but Smart Lamp could not be given permission to send updates.",
        });
        // An answer without a header or a payload is no answer (never a TypeError).
        assert.equal(spokenOutcome({ event: {} }).kind, "failed");
        assert.equal(spokenOutcome({ event: { header: { name: "ErrorResponse" } } }).speech, "Sorry, Smart Lamp is not responding.");
    });

    it("says the lamp is not responding when the function gave no answer, or one that is no Alexa event", () => {
        for (const answer of [undefined, null, {}, { event: { header: { name: "Whatever" } } }]) {
            assert.deepEqual(spokenOutcome(answer), { speech: "Sorry, Smart Lamp is not responding.", kind: "failed" });
        }
        assert.deepEqual(spokenOutcome(error("SOMETHING_NEW")), { speech: "Sorry, Smart Lamp is not responding.", kind: "failed" });
    });
});

describe("the playground's log lines in words", () => {
    it("tells a directive by its name, outcome and time, and keeps the other fields as details", () => {
        const line = readableLine("skill", JSON.stringify({ level: "warn", namespace: "Alexa.PowerController", name: "TurnOn", outcome: "NO_SUCH_ENDPOINT", reason: "This account has no such endpoint.", durationMs: 1.2345, user: "abc", messageId: "m-1" }))!;
        assert.deepEqual(line, { fn: "skill", level: "warn", what: "Alexa.PowerController.TurnOn → NO_SUCH_ENDPOINT in 1.2 ms", detail: "reason: This account has no such endpoint. · user: abc" });
    });

    it("tells a companion request and a consumer line by their own fields", () => {
        assert.deepEqual(readableLine("companion", JSON.stringify({ level: "info", kind: "CompanionRequest", method: "POST", path: "/api/lamp", status: 200, durationMs: 20, user: "u" })),
            { fn: "companion", level: "info", what: "POST /api/lamp → 200 in 20 ms", detail: "user: u" });
        assert.deepEqual(readableLine("consumer", JSON.stringify({ level: "error", kind: "ChangeReport", outcome: "wait", cause: "configuration", fix: "set the secret", receiveCount: 2 })),
            { fn: "consumer", level: "error", what: "ChangeReport wait", detail: "cause: configuration · fix: set the secret · receiveCount: 2" });
    });

    it("names a directive by whichever of namespace and name it has, and shows other fields as text or JSON, leaving out the ids", () => {
        assert.equal(readableLine("skill", JSON.stringify({ level: "info", name: "Discover", outcome: "ok" }))!.what, "undefined.Discover → ok");
        assert.equal(readableLine("skill", JSON.stringify({ level: "info", namespace: "Alexa", outcome: "ok" }))!.what, "Alexa.undefined → ok");
        assert.equal(readableLine("skill", JSON.stringify({ level: "info", outcome: "ok" }))!.what, "ok");
        assert.equal(readableLine("skill", JSON.stringify({ level: "info", outcome: "ok", requestId: "r-1", messageId: "m-1", count: 3, tags: ["a"], flag: null }))!.detail, 'count: 3 · tags: ["a"] · flag: null');
        assert.equal(readableLine("skill", JSON.stringify({ level: "info", outcome: "ok", extra: undefined }))!.detail, "");
    });

    it("tells the consumer's sealing run apart from ChangeReports", () => {
        assert.equal(readableLine("consumer", JSON.stringify({ level: "info", kind: "ChangeReport", outcome: "sealed", reason: "0 grant(s) stored in the clear sealed, none left" }))!.what, "stored grants sealed");
        assert.equal(readableLine("consumer", JSON.stringify({ level: "warn", kind: "ChangeReport", outcome: "unsealed" }))!.what, "stored grants unsealed");
    });

    it("shows a line that is not a JSON object as it is, at info (error on stderr), and skips empty ones", () => {
        assert.deepEqual(readableLine("skill", "TypeError: x is not a function"), { fn: "skill", level: "info", what: "TypeError: x is not a function", detail: "" });
        assert.deepEqual(readableLine("skill", "TypeError: x is not a function", "stderr"), { fn: "skill", level: "error", what: "TypeError: x is not a function", detail: "" });
        assert.deepEqual(readableLine("skill", "7", "stderr"), { fn: "skill", level: "error", what: "7", detail: "" });
        assert.equal(readableLine("skill", JSON.stringify({ level: "warn", outcome: "x" }), "stderr")!.level, "warn");
        assert.deepEqual(readableLine("skill", "42"), { fn: "skill", level: "info", what: "42", detail: "" });
        assert.deepEqual(readableLine("skill", "null"), { fn: "skill", level: "info", what: "null", detail: "" });
        assert.equal(readableLine("skill", "   "), undefined);
        assert.equal(readableLine("skill", JSON.stringify({ level: "debug", outcome: "x" }))!.level, "info");
        assert.equal(readableLine("skill", JSON.stringify({ level: "error", message: "boom" }))!.what, "boom");
    });

    it("prints time, function and level for a terminal, in colour only when asked", () => {
        const at = new Date(2026, 11, 5, 14, 3, 9);
        const line = { fn: "consumer", level: "error" as const, what: "ChangeReport wait", detail: "cause: configuration" };
        assert.equal(terminalLine(line, at, false), "14:03:09 consumer  error ChangeReport wait  cause: configuration");
        assert.equal(terminalLine({ ...line, level: "warn", detail: "" }, at, false), "14:03:09 consumer  warn  ChangeReport wait");
        assert.equal(terminalLine({ ...line, level: "info" }, at, false), "14:03:09 consumer  info  ChangeReport wait  cause: configuration");
        const coloured = terminalLine(line, at, true);
        assert.ok(coloured.includes("\x1b[31merror\x1b[0m") && coloured.includes("\x1b[2m14:03:09\x1b[0m"), JSON.stringify(coloured));
    });
});

describe("the playground's servers and functions", () => {
    it("starts a fresh container for the next invocation once the last one died, as Lambda does after a crash or a timeout", async () => {
        const started: { alive: boolean; stopped: boolean }[] = [];
        const fn = await startFunction(async () => {
            const state = { alive: true, stopped: false };
            started.push(state);
            const container: ArchiveContainer = {
                invoke: async (event: any) => {
                    if (event.crash) {
                        state.alive = false;
                        throw new Error("the archive's container stopped (exit 1)");
                    }
                    return started.indexOf(state);
                },
                stdout: () => "",
                alive: () => state.alive,
                stop: async () => void (state.stopped = true),
            };
            return container;
        });
        assert.equal(await fn.invoke({}), 0);
        assert.equal(await fn.invoke({}), 0, "a warm container serves again");
        await assert.rejects(fn.invoke({ crash: true }));
        const [first, second] = await Promise.all([fn.invoke({}), fn.invoke({})]);
        assert.deepEqual([first, second, started.length], [1, 1, 2], "one new container, not one per waiting invocation");
        await assert.rejects(fn.invoke({ crash: true }));
        assert.equal(await fn.invoke({}), 2, "a second crash gets a third container");
        await fn.stop();
        assert.equal(started[2].stopped, true);
    });

    it("answers 500 as API Gateway does when the companion function fails, and serves on", async () => {
        let fail = true;
        const server = await serveLocally(async () => {
            if (fail) {
                throw new Error("the archive's container stopped (exit 1)");
            }
            return { statusCode: 200, headers: { "content-type": "text/plain" }, body: "fine" };
        });
        try {
            const failed = await fetch(server.url);
            assert.deepEqual([failed.status, await failed.json()], [500, { message: "Internal Server Error" }]);
            fail = false;
            assert.equal(await (await fetch(server.url)).text(), "fine");
        } finally {
            await server.stop();
        }
    });

    it("lets only this machine's pages drive the simulator: another Host is refused, and a POST that is not JSON", async () => {
        const simulator = await startAlexaSimulator(0);
        const port = Number(new URL(simulator.url).port);
        const call = (method: string, path: string, headers: Record<string, string>, body = "") => new Promise<{ status: number; body: string }>((resolve, reject) => {
            const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
                let text = "";
                res.on("data", (chunk) => (text += chunk));
                res.on("end", () => resolve({ status: res.statusCode!, body: text }));
            });
            req.on("error", reject);
            req.end(body);
        });
        try {
            assert.equal((await call("GET", "/api/state", { host: `127.0.0.1:${port}` })).status, 200);
            assert.equal((await call("GET", "/api/state", { host: `localhost:${port}` })).status, 200);
            const rebound = await call("GET", "/api/state", { host: `attacker.example:${port}` });
            assert.equal(rebound.status, 421);
            assert.ok(!rebound.body.includes("mail"), "the state leaked to another host");
            assert.equal((await call("POST", "/api/disable", { host: `127.0.0.1:${port}`, "content-type": "text/plain" }, "{}")).status, 415);
            assert.equal((await call("POST", "/api/disable", { host: `127.0.0.1:${port}`, "content-type": "application/json" }, "{}")).status, 503, "JSON passes the check (the stack is not attached here)");
        } finally {
            await simulator.stop();
        }
    });
});
