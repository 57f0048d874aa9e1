// Whose problem each answer is (handler/causes.ts), row by row: checked against the tables in
// ../shared/alexa/event-gateway.md (Amazon's gateway and LWA error tables, restated with whose
// problem each answer is) where that file is at hand, and against the answers outside those tables
// that must never forget a user.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { classifyAwsFailure, classifyGatewayAnswer, classifyLwaAnswer, Cause, GATEWAY_CODES, LWA_CODES } from "../handler/causes";
import { AwsJsonError } from "../handler/awsJson";
import { ALEXA_DIR, skipWithoutAlexaData } from "./support/alexaSchema";

const gatewayBody = (code: unknown) => ({ header: { namespace: "System", name: "Exception", messageId: "m" }, payload: { code, description: "d" } });

/** The rows of the markdown table that follows `heading` in event-gateway.md. */
function tableAfter(text: string, heading: string): string[][] {
    const lines = text.slice(text.indexOf(heading)).split("\n");
    const start = lines.findIndex((line) => line.startsWith("| ---"));
    const rows: string[][] = [];
    for (const line of lines.slice(start + 1)) {
        if (!line.startsWith("|")) {
            break;
        }
        rows.push(line.split("|").slice(1, -1).map((cell) => cell.trim()));
    }
    return rows;
}

/** The cause that the table's "whose problem" words name. */
function causeNamed(whose: string): Cause {
    if (/^transient/.test(whose)) {
        return "transient";
    }
    if (/^ours \(a bug\)|^ours: split/.test(whose)) {
        return "ourBug";
    }
    if (/^ours \(configuration|^ours \(skill configuration/.test(whose)) {
        return "configuration";
    }
    if (/^the token's \(refresh\)/.test(whose)) {
        return "staleToken";
    }
    if (/^the user's grant: it is dead/.test(whose)) {
        return "linkGone";
    }
    // The gateway's word on a user's account or skill: the event cannot reach them; it proves no
    // grant dead (the same rows: "or our identity is wrong", "sent too late").
    if (/^the user's/.test(whose)) {
        return "userUnreachable";
    }
    throw new Error(`no cause for "${whose}"`);
}

describe("whose problem each answer is", () => {
    describe("Alexa's event gateway", () => {
        it("gives every row of Amazon's table (event-gateway.md) the cause the table names, by code and by status alone", function () {
            skipWithoutAlexaData(this);
            const rows = tableAfter(fs.readFileSync(path.join(ALEXA_DIR, "event-gateway.md"), "utf8"), "## Gateway error answers");
            assert.equal(rows.length, 10, "the table's rows");
            for (const [status, code, , whose] of rows) {
                const expected = causeNamed(whose);
                assert.equal(classifyGatewayAnswer(Number(status), gatewayBody(code)).cause, expected, `${status} ${code}`);
                assert.equal(classifyGatewayAnswer(Number(status), gatewayBody(code)).code, code);
                // Without its code, the status alone must never be read as the user's.
                const byStatus = classifyGatewayAnswer(Number(status), undefined).cause;
                assert.ok(byStatus !== "linkGone" && byStatus !== "userUnreachable", `${status} without a code`);
                if (expected !== "userUnreachable" && expected !== "configuration") {
                    assert.equal(byStatus, expected, `${status} without a code`);
                }
            }
        });

        it("lists the codes it knows, each with its cause", () => {
            assert.deepEqual(Object.fromEntries(Object.entries(GATEWAY_CODES).map(([code, row]) => [code, row.cause])), {
                INVALID_ACCESS_TOKEN_EXCEPTION: "staleToken",
                ACCOUNT_NOT_FOUND_EXCEPTION: "userUnreachable",
                SKILL_NOT_FOUND_EXCEPTION: "userUnreachable",
                SKILL_DISABLED_EXCEPTION: "userUnreachable",
                SKILL_NEVER_ENABLED_EXCEPTION: "configuration",
                INSUFFICIENT_PERMISSION_EXCEPTION: "configuration",
                INVALID_REQUEST_EXCEPTION: "ourBug",
                REQUEST_ENTITY_TOO_LARGE_EXCEPTION: "ourBug",
                THROTTLING_EXCEPTION: "transient",
                INTERNAL_SERVICE_EXCEPTION: "transient",
                SERVICE_UNAVAILABLE_EXCEPTION: "transient",
            });
            for (const [code, row] of Object.entries(GATEWAY_CODES)) {
                const needsOperator = row.cause === "configuration" || row.cause === "ourBug";
                assert.equal(row.fix !== undefined, needsOperator, `${code}: a fix for what needs the operator, and only then`);
                assert.equal(classifyGatewayAnswer(400, gatewayBody(code)).fix, row.fix, `${code}: the fix reaches the caller`);
            }
            assert.match(GATEWAY_CODES.INVALID_REQUEST_EXCEPTION.fix!, /^the gateway refused the event's shape: the event is kept in the dead-letter queue; report it/);
            assert.match(GATEWAY_CODES.REQUEST_ENTITY_TOO_LARGE_EXCEPTION.fix!, /^the event is larger than the gateway takes: it is kept in the dead-letter queue; report it/);
        });

        it("never gives the gateway the last word on a grant: no answer of its, any status with any code, is linkGone", () => {
            for (let status = 0; status < 600; status++) {
                for (const body of [undefined, "<html>", ...Object.keys(GATEWAY_CODES).map(gatewayBody), gatewayBody("invalid_grant")]) {
                    assert.notEqual(classifyGatewayAnswer(status, body).cause, "linkGone", `${status} ${JSON.stringify(body)}`);
                }
            }
        });

        it("judges by code first: a documented code wins over an unexpected status", () => {
            assert.deepEqual(classifyGatewayAnswer(403, gatewayBody("ACCOUNT_NOT_FOUND_EXCEPTION")).cause, "userUnreachable");
            assert.deepEqual(classifyGatewayAnswer(400, gatewayBody("INSUFFICIENT_PERMISSION_EXCEPTION")).cause, "configuration");
            assert.deepEqual(classifyGatewayAnswer(404, gatewayBody("THROTTLING_EXCEPTION")).cause, "transient");
        });

        it("never reads a server failure (5xx) as the user's, whatever its code", () => {
            for (const code of ["ACCOUNT_NOT_FOUND_EXCEPTION", "SKILL_NOT_FOUND_EXCEPTION", "SKILL_DISABLED_EXCEPTION"]) {
                assert.deepEqual(classifyGatewayAnswer(500, gatewayBody(code)), { cause: "transient", code });
                assert.deepEqual(classifyGatewayAnswer(503, gatewayBody(code)), { cause: "transient", code });
                assert.equal(classifyGatewayAnswer(499, gatewayBody(code)).cause, "userUnreachable");
            }
        });

        it("keeps the grant for every answer outside the table: unknown codes, bodies that are not Amazon's, other statuses", () => {
            for (const [status, body] of [
                [403, gatewayBody("FORBIDDEN")],
                [404, undefined],
                [404, "<html>Not Found</html>"],
                [403, gatewayBody("<b>ACCOUNT_NOT_FOUND_EXCEPTION</b>")],
                [403, gatewayBody(["ACCOUNT_NOT_FOUND_EXCEPTION"])],
                [403, { code: "ACCOUNT_NOT_FOUND_EXCEPTION" }],
                [403, { payload: "ACCOUNT_NOT_FOUND_EXCEPTION" }],
                [403, { payload: null }],
                [302, undefined],
                [200, undefined],
                [204, gatewayBody("ACCOUNT_NOT_FOUND_EXCEPTION").payload],
                [418, gatewayBody("constructor")],
                [403, null],
                [403, 403],
            ] as const) {
                const answer = classifyGatewayAnswer(status, body);
                assert.equal(answer.cause, "configuration", `${status} ${JSON.stringify(body)}`);
                assert.equal(answer.fix, "the gateway gave an answer outside Amazon's table: check that the functions reach Alexa's gateway directly (no proxy in between) " +
                    "and that the skill's Send Alexa Events permission is on");
            }
        });

        it("calls no answer at all, 429 and any 5xx transient, and names the code or the status", () => {
            assert.deepEqual(classifyGatewayAnswer(0, undefined), { cause: "transient", code: "no answer" });
            assert.deepEqual(classifyGatewayAnswer(429, undefined), { cause: "transient", code: "HTTP 429" });
            assert.deepEqual(classifyGatewayAnswer(502, "<html>Bad Gateway</html>"), { cause: "transient", code: "HTTP 502" });
            assert.deepEqual(classifyGatewayAnswer(504, gatewayBody("GATEWAY_TIMEOUT")), { cause: "transient", code: "GATEWAY_TIMEOUT" });
            assert.deepEqual(classifyGatewayAnswer(401, undefined), { cause: "staleToken", code: "HTTP 401" });
            for (const [status, body] of [[400, undefined], [413, "<html>too large</html>"]] as const) {
                assert.deepEqual(classifyGatewayAnswer(status, body), { cause: "ourBug", code: `HTTP ${status}`,
                    fix: "the gateway refused the event itself: it is kept in the dead-letter queue; report it with the log line" });
            }
        });
    });

    describe("Login with Amazon's token endpoint", () => {
        it("gives every error of LWA's table (event-gateway.md) the cause the table names", function () {
            skipWithoutAlexaData(this);
            const rows = tableAfter(fs.readFileSync(path.join(ALEXA_DIR, "event-gateway.md"), "utf8"), "## Login with Amazon token endpoint errors");
            assert.equal(rows.length, 5, "the table's rows");
            for (const [errors, , whose] of rows) {
                const expected = causeNamed(whose);
                for (const error of errors.split(/,| or /).map((e) => e.trim()).filter((e) => /^[a-z_]+$/.test(e))) {
                    const status = expected === "transient" ? 503 : error === "invalid_client" ? 401 : 400;
                    assert.equal(classifyLwaAnswer(status, { error }).cause, expected, error);
                }
            }
        });

        it("lists the errors it knows, with LWA's own names for its server errors", () => {
            assert.deepEqual(Object.fromEntries(Object.entries(LWA_CODES).map(([code, row]) => [code, row.cause])), {
                invalid_grant: "linkGone",
                invalid_client: "configuration",
                unauthorized_client: "configuration",
                invalid_request: "ourBug",
                unsupported_grant_type: "ourBug",
                invalid_scope: "ourBug",
                server_error: "transient",
                temporarily_unavailable: "transient",
                ServerError: "transient",
                TemporarilyUnavailable: "transient",
            });
            for (const [code, row] of Object.entries(LWA_CODES)) {
                const needsOperator = row.cause === "configuration" || row.cause === "ourBug";
                assert.equal(row.fix !== undefined && row.fix.length > 0, needsOperator, `${code}: a fix for what needs the operator, and only then`);
                assert.equal(classifyLwaAnswer(400, { error: code }).fix, row.fix, code);
            }
            for (const code of ["invalid_request", "unsupported_grant_type", "invalid_scope"]) {
                assert.match(LWA_CODES[code].fix!, /^LWA refused the .+: report it with the log line; the events wait meanwhile$/, code);
            }
        });

        it("believes invalid_grant only as the refusal it is documented as (400 or 401)", () => {
            assert.deepEqual(classifyLwaAnswer(400, { error: "invalid_grant" }), { cause: "linkGone", code: "invalid_grant" });
            assert.deepEqual(classifyLwaAnswer(401, { error: "invalid_grant" }), { cause: "linkGone", code: "invalid_grant" });
            assert.equal(classifyLwaAnswer(500, { error: "invalid_grant" }).cause, "transient");
            assert.equal(classifyLwaAnswer(200, { error: "invalid_grant" }).cause, "configuration");
            assert.equal(classifyLwaAnswer(403, { error: "invalid_grant" }).cause, "configuration");
        });

        it("keeps the grant for every answer outside the table, and says what to check", () => {
            for (const [status, body] of [
                [400, "<html>proxy</html>"],
                [400, undefined],
                [401, { error: "invalid_grant_extra" }],
                [400, { error: ["invalid_grant"] }],
                [400, { error: "<b>invalid_grant</b>" }],
                [400, { error: "constructor" }],
                [403, {}],
                [200, { token_type: "bearer" }],
            ] as const) {
                const answer = classifyLwaAnswer(status, body);
                assert.equal(answer.cause, "configuration", `${status} ${JSON.stringify(body)}`);
                assert.ok(answer.fix, "no fix said");
            }
            assert.match(classifyLwaAnswer(200, {}).fix!, /without an access and a refresh token/);
            assert.match(classifyLwaAnswer(400, undefined).fix!, /outside its documented errors: check that the functions reach api\.amazon\.com directly \(no proxy in between\); if they do, copy the Alexa Client Id/);
            assert.equal(classifyLwaAnswer(400, null).cause, "configuration");
            assert.match(classifyLwaAnswer(401, { error: "invalid_client" }).fix!, /^copy the Alexa Client Id and Alexa Client Secret/);
        });

        it("calls no answer, 429 and any 5xx transient", () => {
            assert.deepEqual(classifyLwaAnswer(0, undefined), { cause: "transient", code: "no answer" });
            assert.deepEqual(classifyLwaAnswer(429, { error: "TooManyRequests" }), { cause: "transient", code: "TooManyRequests" });
            assert.deepEqual(classifyLwaAnswer(502, undefined), { cause: "transient", code: "HTTP 502" });
        });
    });

    describe("AWS services behind the functions", () => {
        const refusal = (type: string, status: number) => new AwsJsonError(type, "m", status, {});

        it("calls a refusal of the function's permissions or resources our configuration", () => {
            for (const type of ["AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidClientTokenId", "ResourceNotFoundException", "ParameterNotFound", "QueueDoesNotExist", "NotFoundException", "InvalidKeyUsageException"]) {
                const answer = classifyAwsFailure(refusal(type, 400));
                assert.deepEqual([answer.cause, answer.code], ["configuration", type]);
                assert.match(answer.fix!, /run pulumi up again/);
            }
            assert.equal(classifyAwsFailure(refusal("HTTP403", 403)).cause, "configuration");
            assert.equal(classifyAwsFailure(Object.assign(new Error("empty"), { name: "EmptyParameter" })).cause, "configuration");
        });

        it("calls a key disabled or scheduled for deletion our configuration, and says to restore it before any up (a refresh would replace it)", () => {
            for (const type of ["KMSInvalidStateException", "DisabledException"]) {
                const answer = classifyAwsFailure(refusal(type, 400));
                assert.deepEqual([answer.cause, answer.code], ["configuration", type]);
                assert.equal(answer.fix, "the stack's KMS key (the grants table's smartlamp:grants-key tag names it) is disabled or scheduled for deletion: " +
                    "run aws kms cancel-key-deletion --key-id <key> (if scheduled) and aws kms enable-key --key-id <key>, before any pulumi up; " +
                    "a pulumi up --refresh meanwhile would make a new key, and the grants sealed under this one could no longer be opened");
            }
        });

        it("calls a KMS answer without its field, or a sealed value that opens to no JSON, our bug", () => {
            for (const err of [Object.assign(new Error("KMS answered Decrypt without a plaintext"), { name: "InvalidResponse" }), new SyntaxError("Unexpected token")]) {
                const answer = classifyAwsFailure(err);
                assert.deepEqual([answer.cause, answer.code], ["ourBug", err.name]);
                assert.match(answer.fix!, /could not be read: report it/);
            }
        });

        it("calls network failures, server errors and throttling (after the client's tries) transient", () => {
            assert.deepEqual(classifyAwsFailure(new Error("ECONNREFUSED")), { cause: "transient", code: "Error" });
            assert.deepEqual(classifyAwsFailure(refusal("InternalServerError", 500)), { cause: "transient", code: "InternalServerError" });
            assert.deepEqual(classifyAwsFailure(refusal("HTTP500", 500)), { cause: "transient", code: "HTTP500" });
            assert.deepEqual(classifyAwsFailure(null), { cause: "transient", code: "object" });
            assert.equal(classifyAwsFailure(refusal("HTTP499", 499)).cause, "ourBug");
            assert.deepEqual(classifyAwsFailure(refusal("ThrottlingException", 400)), { cause: "transient", code: "ThrottlingException" });
            assert.deepEqual(classifyAwsFailure(refusal("ProvisionedThroughputExceededException", 400)), { cause: "transient", code: "ProvisionedThroughputExceededException" });
            assert.deepEqual(classifyAwsFailure("a string thrown"), { cause: "transient", code: "string" });
        });

        it("calls any other refusal our bug", () => {
            const answer = classifyAwsFailure(refusal("ValidationException", 400));
            assert.deepEqual([answer.cause, answer.code], ["ourBug", "ValidationException"]);
            assert.match(answer.fix!, /report it/);
        });
    });
});
