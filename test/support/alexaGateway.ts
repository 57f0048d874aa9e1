// A stand-in for Alexa's event gateway (POST https://api.amazonalexa.com/v3/events and its EU and
// FE twins) on 127.0.0.1. It accepts events whose bearer token the LWA stand-in issued and that
// has not expired, and keeps every accepted event for the tests to check.
//
// Modeled answers, each from developer.amazon.com/docs/smarthome/send-events-to-the-alexa-event-gateway.html
// ("Response codes"; the error body {header: {namespace "System", name "Exception", messageId},
// payload: {code, description}} from the same page), and .../smarthome/send-events.html:
// - 202 Accepted, empty body: the event was accepted
// - 400 INVALID_REQUEST_EXCEPTION: the body is not an event (not JSON, no header, token mismatch)
// - 401 INVALID_ACCESS_TOKEN_EXCEPTION: the bearer token is unknown or expired
// - 403 SKILL_DISABLED_EXCEPTION: the user disabled the skill (disableSkill)
// - the rest of that page's table on demand (answerNext): 403 SKILL_NEVER_ENABLED_EXCEPTION and
//   INSUFFICIENT_PERMISSION_EXCEPTION, 404 ACCOUNT_NOT_FOUND_EXCEPTION, 413
//   REQUEST_ENTITY_TOO_LARGE_EXCEPTION, and answers outside it (another code, no body)
// - 400 INVALID_REQUEST_EXCEPTION also when the request is not `Content-Type: application/json`
//   (the request format on send-events-to-the-alexa-event-gateway.html names that header)
// - 429 THROTTLING_EXCEPTION, 500 INTERNAL_SERVICE_EXCEPTION, 503 SERVICE_UNAVAILABLE_EXCEPTION
//   (setMode, or failNext for a given number of requests)
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
    setMode(mode: GatewayMode): void;
    /** The next `count` requests get `mode`'s answer, then the gateway is up again. */
    failNext(count: number, mode: Exclude<GatewayMode, "up">): void;
    /**
     * The next `count` requests (after those already scripted) get this status, with this code in an
     * exception body (none: no body; anything JSON can hold, to play a malformed answer).
     */
    answerNext(count: number, status: number, code?: unknown): void;
    /** The user of this grant disabled the skill: their events get 403 SKILL_DISABLED_EXCEPTION. */
    disableSkill(grant: string): void;
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
    const requests: GatewayRequest[] = [];
    const disabled = new Set<string>();
    const accepted: AcceptedEvent[] = [];
    const answers: number[] = [];

    const server = createServer((req, res) => {
        let text = "";
        req.on("data", (chunk) => (text += chunk));
        req.on("end", (): void => {
            requests.push({ contentType: String(req.headers["content-type"]), authorization: String(req.headers.authorization), body: text });
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
            if (disabled.has(grant)) {
                return answer(403, "SKILL_DISABLED_EXCEPTION");
            }
            accepted.push({ token, grant, body });
            answer(202);
        });
    });
    const outage = await interruptible(server);
    return {
        url: `http://127.0.0.1:${outage.port}/v3/events`,
        outage,
        accepted,
        answers,
        requests,
        setMode: (next) => void (mode = next),
        failNext: (count, next) => void (failing = { count, mode: next }),
        answerNext(count, status, code) {
            scripted = scripted.concat(Array.from({ length: count }, () => ({ status, code })));
        },
        disableSkill: (grant) => void disabled.add(grant),
        async stop() {
            await outage.takeDown();
        },
    };
}
