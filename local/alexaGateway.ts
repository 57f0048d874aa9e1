// A stand-in for Alexa's event gateway (POST https://api.amazonalexa.com/v3/events and its EU and
// FE twins) on 127.0.0.1. It accepts events whose bearer token the LWA stand-in issued and that
// has not expired or been revoked, and keeps every accepted event for the tests to check.
//
// Modeled answers, each from the response-code table of
// developer.amazon.com/docs/smarthome/send-events-to-the-alexa-event-gateway.html (restated with
// whose problem each is in ../shared/alexa/event-gateway.md; the error body {header: {namespace
// "System", name "Exception", messageId}, payload: {code, description}} from the same page), and
// .../smarthome/send-events.html:
// - 202 Accepted, empty body: the event was accepted
// - 400 INVALID_REQUEST_EXCEPTION: the body is not an event (not JSON, no header, token mismatch),
//   or the request is not `Content-Type: application/json` (the request format the page gives)
// - 401 INVALID_ACCESS_TOKEN_EXCEPTION: the bearer token is unknown, expired or revoked; a user who
//   disables the skill revokes the grant's tokens (lwaEndpoint.ts, disableSkill), so that user's
//   events get this, and the refresh then fails with invalid_grant
// - 403 SKILL_NEVER_ENABLED_EXCEPTION: the grant's user enabled the skill in another Alexa region
//   (enabledInAnotherRegion): the event reached the wrong regional gateway
// - 403 INSUFFICIENT_PERMISSION_EXCEPTION: the skill's Send Alexa Events permission is off
//   (withdrawPermission)
// - 404 ACCOUNT_NOT_FOUND_EXCEPTION: no account record for the grant's identity any more
//   (forgetAccount), whatever token of that grant comes
// - 429 THROTTLING_EXCEPTION, 500 INTERNAL_SERVICE_EXCEPTION, 503 SERVICE_UNAVAILABLE_EXCEPTION
//   (setMode, or failNext for a given number of requests)
// - any answer on demand (answerNext): the rest of the table (404 SKILL_NOT_FOUND_EXCEPTION, 413
//   REQUEST_ENTITY_TOO_LARGE_EXCEPTION) and answers outside it (another code, no body)
// - no answer (mode "hang") and connection refused (outage.takeDown): a network outage.
import { randomUUID } from "crypto";
import { createServer } from "http";
import { interruptible, Interruptible } from "./interruptible";
import type { LwaEndpoint } from "./lwaEndpoint";

export type GatewayMode = "up" | "hang" | "throttle429" | "error500" | "unavailable503";

/** One request as the gateway received it. */
export interface GatewayRequest {
    contentType: string;
    authorization: string;
    body: string;
    /** When it arrived, in performance.now() milliseconds. */
    at: number;
}

export interface AcceptedEvent {
    token: string;
    /** The refresh token (grant) the bearer token was issued under: who the event is for. */
    grant: string;
    body: any;
}

export interface AlexaGateway {
    url: string;
    outage: Interruptible;
    accepted: AcceptedEvent[];
    /** Every request's status, in order. */
    answers: number[];
    /** Every request, in order. */
    requests: GatewayRequest[];
    /** Calls `listener` with each event the gateway accepts from now on (as Alexa would receive it); returns how to stop. */
    onAccepted(listener: (event: AcceptedEvent) => void): () => void;
    setMode(mode: GatewayMode): void;
    /** The next `count` requests get `mode`'s answer, then the gateway is up again. */
    failNext(count: number, mode: Exclude<GatewayMode, "up">): void;
    /**
     * The next `count` requests (after those already scripted) get this status, with this code in an
     * exception body (none: no body; anything JSON can hold, to play a malformed answer).
     */
    answerNext(count: number, status: number, code?: unknown): void;
    /** The next `count` requests with a token of this grant get this status and code (after checking the token). */
    answerNextFor(grant: string, count: number, status: number, code?: unknown): void;
    /** Scripted answers not given yet (a test that leaves some would hand them to the next). */
    scriptedLeft(): number;
    /** The user of this grant (refresh token) enabled the skill in another Alexa region. */
    enabledInAnotherRegion(grant: string): void;
    /** The skill's Send Alexa Events permission is off (restorePermission: on again). */
    withdrawPermission(): void;
    restorePermission(): void;
    /** Alexa has no account record for this grant's identity any more. */
    forgetAccount(grant: string): void;
    stop(): Promise<void>;
}

const FAILURES: Record<Exclude<GatewayMode, "up" | "hang">, [number, string]> = {
    throttle429: [429, "THROTTLING_EXCEPTION"],
    error500: [500, "INTERNAL_SERVICE_EXCEPTION"],
    unavailable503: [503, "SERVICE_UNAVAILABLE_EXCEPTION"],
};

export async function startAlexaGateway(lwa: LwaEndpoint): Promise<AlexaGateway> {
    let mode: GatewayMode = "up";
    let failing: { count: number; mode: Exclude<GatewayMode, "up"> } | undefined;
    let scripted: { status: number; code?: unknown }[] = [];
    const scriptedFor = new Map<string, { status: number; code?: unknown }[]>();
    const requests: GatewayRequest[] = [];
    const otherRegion = new Set<string>();
    const forgotten = new Set<string>();
    let permitted = true;
    const accepted: AcceptedEvent[] = [];
    const listeners = new Set<(event: AcceptedEvent) => void>();
    const answers: number[] = [];

    const server = createServer((req, res) => {
        let text = "";
        req.on("data", (chunk) => (text += chunk));
        req.on("end", (): void => {
            requests.push({ contentType: String(req.headers["content-type"]), authorization: String(req.headers.authorization), body: text, at: performance.now() });
            const next = scripted.shift();
            let current = mode;
            if (next === undefined && failing && failing.count > 0) {
                failing.count--;
                current = failing.mode;
            }
            if (current === "hang" && next === undefined) {
                return; // no answer
            }
            const answer = (status: number, code?: unknown) => {
                answers.push(status);
                if (!code) {
                    return void res.writeHead(status).end();
                }
                res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({
                    header: { namespace: "System", name: "Exception", messageId: randomUUID() },
                    payload: { code, description: String(code).toLowerCase().replace(/_/g, " ") },
                }));
            };
            if (next !== undefined) {
                return answer(next.status, next.code);
            }
            if (current !== "up" && current !== "hang") {
                return answer(...FAILURES[current]);
            }
            if (req.method !== "POST" || req.url !== "/v3/events") {
                return answer(404);
            }
            if (!String(req.headers["content-type"]).startsWith("application/json")) {
                return answer(400, "INVALID_REQUEST_EXCEPTION");
            }
            const token = /^Bearer (.+)$/.exec(String(req.headers.authorization))?.[1] ?? "";
            if (!lwa.accessTokenValid(token)) {
                return answer(401, "INVALID_ACCESS_TOKEN_EXCEPTION");
            }
            let body: any;
            try {
                body = JSON.parse(text);
            } catch {
                return answer(400, "INVALID_REQUEST_EXCEPTION");
            }
            if (!body?.event?.header?.name || body.event.endpoint?.scope?.token !== token) {
                return answer(400, "INVALID_REQUEST_EXCEPTION");
            }
            const grant = lwa.grantOf(token)!;
            const forGrant = scriptedFor.get(grant)?.shift();
            if (forGrant) {
                return answer(forGrant.status, forGrant.code);
            }
            if (!permitted) {
                return answer(403, "INSUFFICIENT_PERMISSION_EXCEPTION");
            }
            if (otherRegion.has(grant)) {
                return answer(403, "SKILL_NEVER_ENABLED_EXCEPTION");
            }
            if (forgotten.has(grant)) {
                return answer(404, "ACCOUNT_NOT_FOUND_EXCEPTION");
            }
            accepted.push({ token, grant, body });
            answer(202);
            listeners.forEach((listener) => listener({ token, grant, body }));
        });
    });
    const outage = await interruptible(server);
    return {
        url: `http://127.0.0.1:${outage.port}/v3/events`,
        outage,
        accepted,
        answers,
        requests,
        onAccepted(listener) {
            listeners.add(listener);
            return () => void listeners.delete(listener);
        },
        setMode: (next) => void (mode = next),
        failNext: (count, next) => void (failing = { count, mode: next }),
        scriptedLeft: () => scripted.length + [...scriptedFor.values()].reduce((n, list) => n + list.length, 0),
        answerNextFor(grant, count, status, code) {
            scriptedFor.set(grant, (scriptedFor.get(grant) ?? []).concat(Array.from({ length: count }, () => ({ status, code }))));
        },
        answerNext(count, status, code) {
            scripted = scripted.concat(Array.from({ length: count }, () => ({ status, code })));
        },
        enabledInAnotherRegion: (grant) => void otherRegion.add(grant),
        withdrawPermission: () => void (permitted = false),
        restorePermission: () => void (permitted = true),
        forgetAccount: (grant) => void forgotten.add(grant),
        async stop() {
            await outage.takeDown();
        },
    };
}
