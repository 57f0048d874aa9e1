// One structured JSON line per directive. It holds what an operator needs to follow a request
// and nothing that identifies the user's session: never the token, never the event.
import { createHash } from "crypto";
import { writeSync } from "fs";

export interface DirectiveLog {
    namespace?: string;
    name?: string;
    messageId?: string;
    /** The response's name, or the error type. */
    outcome: string;
    /** Why a directive failed, in words that hold no token. */
    reason?: string;
    /** Whose problem an outside service's refusal was (handler/causes.ts), and what to fix. */
    cause?: string;
    fix?: string;
    durationMs: number;
    /** A one-way reference to the user, enough to tell users apart in the logs. */
    user?: string;
}

export type LogLine = (entry: DirectiveLog) => void;

/**
 * The log's functions, made by one call: each function's factory makes its own set once per
 * container, as the skill does alexaMessages (handler/alexa.ts says why). The module's exports
 * are one such set.
 */
export function logLines() {
    function userReference(userId: string): string {
        return createHash("sha256").update("log:" + userId).digest("base64url").slice(0, 12);
    }

    /**
     * Lambda sends stdout to CloudWatch Logs, one event per line. The line goes straight to file
     * descriptor 1: the first touch of `process.stdout` builds a stream and costs about 3 ms of every
     * cold start. Should the pipe be full (EAGAIN), the stream takes the line instead.
     */
    const logToStdout: LogLine = (entry) => {
        // An AcceptGrant that LWA or the store failed leaves the user without a grant until they enable
        // the skill again: whatever the cause, someone should know.
        writeLogLine({ level: directiveLogLevel(entry), ...entry, ...operatorField(entry.cause, entry.outcome === "ACCEPT_GRANT_FAILED" && entry.cause !== undefined) });
    };

    /**
     * The field the stack's operator alarm counts (infra/operatorAlarms.ts, a metric filter on
     * `$.needs = "operator"`): on each line about a fault that our configuration or our code causes,
     * or that `always` says needs someone.
     */
    function operatorField(cause: string | undefined, always = false): { needs?: "operator" } {
        return always || cause === "configuration" || cause === "ourBug" ? { needs: "operator" } : {};
    }

    /**
     * error: the user was failed by us (INTERNAL_ERROR), or the operator must act (our configuration,
     * our bug); warn: a directive refused for its own sake (a bad token, a bad value); info: answered.
     */
    function directiveLogLevel(entry: DirectiveLog): "info" | "warn" | "error" {
        if (entry.reason === undefined) {
            return "info";
        }
        return entry.outcome === "INTERNAL_ERROR" || entry.cause === "configuration" || entry.cause === "ourBug" ||
            (entry.outcome === "ACCEPT_GRANT_FAILED" && entry.cause !== undefined) ? "error" : "warn";
    }

    /** One JSON object as one log line on stdout (the other functions' lines go this way too). */
    function writeLogLine(entry: object): void {
        const line = JSON.stringify(entry) + "\n";
        try {
            writeSync(1, line);
        } catch {
            process.stdout.write(line);
        }
    }

    return { userReference, logToStdout, operatorField, directiveLogLevel, writeLogLine };
}

export const { userReference, logToStdout, operatorField, directiveLogLevel, writeLogLine } = logLines();
