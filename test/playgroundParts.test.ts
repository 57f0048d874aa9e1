import { strict as assert } from "assert";
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

    it("shows a line that is not a JSON object as it is, at info, and skips empty ones", () => {
        assert.deepEqual(readableLine("skill", "TypeError: x is not a function"), { fn: "skill", level: "info", what: "TypeError: x is not a function", detail: "" });
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
