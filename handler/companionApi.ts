// The companion API's entry: an API Gateway HTTP API (payload format 2.0) hands it every request.
// It serves the companion page at "/", and the user's own lamp at "/api/lamp" to a bearer access
// token of the "companion" app client: the same token verification, lamp rules and store as the
// skill, and a ChangeReport (cause APP_INTERACTION) queued for every change it makes.
// Event and answer shapes: docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
import { randomBytes } from "crypto";
import { changeReport } from "./changeReport";
import { createEventQueue, EnqueueChangeReport } from "./eventQueue";
import { LampChange } from "./lamp";
import { createLampStore, LampStore } from "./lampStore";
import { classifyAwsFailure } from "./causes";
import { operatorField, userReference, writeLogLine } from "./log";
import { companionPage, PageSettings } from "./companionPage";
import { createAccessTokenVerifier, VerifyAccessToken } from "./token";
import { handedOverJwks, requiredVariable } from "./environment";

/** The part of an HTTP API (2.0) event this function reads. */
export interface HttpApiEvent {
    rawPath?: string;
    headers?: Record<string, string | undefined>;
    body?: string;
    isBase64Encoded?: boolean;
    requestContext?: { http?: { method?: string }; requestId?: string };
}

export interface HttpApiResponse {
    statusCode: number;
    headers: Record<string, string>;
    body: string;
}

export interface CompanionLog {
    kind: "CompanionRequest";
    method: string;
    path: string;
    status: number;
    requestId?: string;
    user?: string;
    reason?: string;
    /** Whose problem a failure of an outside service was (handler/causes.ts). */
    cause?: string;
    /** A change whose ChangeReport could not be queued: Alexa shows the old state until it asks. */
    reportLost?: true;
    durationMs: number;
}

export interface CompanionDependencies {
    verifyAccessToken: VerifyAccessToken;
    lampStore: LampStore;
    /** Set with Alexa events on: queues the ChangeReport of each change. */
    reportChange?: EnqueueChangeReport;
    page: PageSettings;
    log: (entry: CompanionLog) => void;
    now?: () => Date;
}

export type CompanionHandler = (event: HttpApiEvent) => Promise<HttpApiResponse>;

class HttpError {
    constructor(readonly status: number, readonly message: string, readonly reason?: string) {}
}

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };

/** What a POST asks of the lamp: `{"powerState":"ON"|"OFF"}` or `{"brightness":0..100}`. */
function changeOf(body: unknown): LampChange {
    const usage = 'Send {"powerState":"ON"} or {"powerState":"OFF"} to switch the lamp, or {"brightness":<0 to 100>} to dim it.';
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new HttpError(400, usage);
    }
    const fields = body as Record<string, unknown>;
    const keys = Object.keys(fields);
    if (keys.length === 1 && (fields.powerState === "ON" || fields.powerState === "OFF")) {
        return { kind: "power", powerState: fields.powerState };
    }
    if (keys.length === 1 && Number.isInteger(fields.brightness) && (fields.brightness as number) >= 0 && (fields.brightness as number) <= 100) {
        return { kind: "setBrightness", brightness: fields.brightness as number };
    }
    throw new HttpError(400, usage);
}

export function createCompanionHandler(deps: CompanionDependencies): CompanionHandler {
    const now = deps.now ?? (() => new Date());

    async function userOf(event: HttpApiEvent, entry: CompanionLog): Promise<string> {
        const header = event.headers?.authorization ?? "";
        const token = /^Bearer (\S+)$/.exec(header)?.[1];
        const check = await deps.verifyAccessToken(token);
        if (!check.ok) {
            throw check.error === "INTERNAL_ERROR"
                ? new HttpError(503, "Your sign-in could not be checked just now; please try again.", check.reason)
                : new HttpError(401, "Please sign in again.", check.reason);
        }
        entry.user = userReference(check.userId);
        return check.userId;
    }

    async function lamp(event: HttpApiEvent, method: string, entry: CompanionLog): Promise<HttpApiResponse> {
        const userId = await userOf(event, entry);
        try {
            if (method === "GET") {
                return { statusCode: 200, headers: JSON_HEADERS, body: JSON.stringify(await deps.lampStore.read(userId)) };
            }
            let body: unknown;
            try {
                body = JSON.parse(event.isBase64Encoded ? Buffer.from(event.body ?? "", "base64").toString("utf8") : event.body ?? "");
            } catch {
                throw new HttpError(400, "The body must be JSON: {\"powerState\":\"ON\"} or {\"brightness\":40}.");
            }
            const change = changeOf(body);
            // What the change replaced comes from its own write: a read before it could miss a
            // change Alexa made in between, and the report would then say nothing changed.
            const { state: after, previous } = await deps.lampStore.changeReplacing(userId, change);
            const report = deps.reportChange ? changeReport(userId, previous, after, "APP_INTERACTION", now()) : undefined;
            if (report) {
                try {
                    await deps.reportChange!(userId, report);
                } catch (err) {
                    // The change stands; Alexa learns it at its next ReportState instead.
                    const answer = classifyAwsFailure(err);
                    entry.reason = `the ChangeReport was not queued (${answer.code})`;
                    entry.cause = answer.cause;
                    entry.reportLost = true;
                }
            }
            return { statusCode: 200, headers: JSON_HEADERS, body: JSON.stringify(after) };
        } catch (err) {
            if (err instanceof HttpError) {
                throw err;
            }
            throw new HttpError(503, "The lamp could not be reached just now; please try again.", err instanceof Error ? err.message : "store failure");
        }
    }

    return async function handleRequest(event: HttpApiEvent): Promise<HttpApiResponse> {
        const started = performance.now();
        const method = event?.requestContext?.http?.method ?? "GET";
        const path = event?.rawPath ?? "/";
        const entry: CompanionLog = { kind: "CompanionRequest", method, path: path.slice(0, 64), status: 0, requestId: event?.requestContext?.requestId, durationMs: 0 };
        let response: HttpApiResponse;
        try {
            if (path === "/" && method === "GET") {
                const nonce = randomBytes(16).toString("base64");
                const tokenOrigin = new URL(deps.page.authBaseUrl).origin;
                response = {
                    statusCode: 200,
                    headers: {
                        "content-type": "text/html; charset=utf-8",
                        "cache-control": "no-store",
                        "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self' ${tokenOrigin}; form-action ${tokenOrigin}; frame-ancestors 'none'; base-uri 'none'`,
                        "referrer-policy": "no-referrer",
                    },
                    body: companionPage(deps.page, nonce),
                };
            } else if (path === "/favicon.ico" && method === "GET") {
                // Browsers ask for it on every page; the page has no icon.
                response = { statusCode: 204, headers: { "cache-control": "max-age=86400" }, body: "" };
            } else if (path === "/api/lamp" && (method === "GET" || method === "POST")) {
                response = await lamp(event, method, entry);
            } else {
                throw new HttpError(404, "Not found: the API has GET and POST /api/lamp, and the page at /.");
            }
        } catch (err) {
            const failure = err instanceof HttpError ? err : new HttpError(500, "The request failed unexpectedly; please try again.", "unexpected failure");
            entry.reason ??= failure.reason;
            response = {
                statusCode: failure.status,
                headers: { ...JSON_HEADERS, ...(failure.status === 401 ? { "www-authenticate": 'Bearer error="invalid_token"' } : {}) },
                body: JSON.stringify({ message: failure.message }),
            };
        }
        entry.status = response.statusCode;
        entry.durationMs = Math.round((performance.now() - started) * 1000) / 1000;
        deps.log(entry);
        // Every answer, page, JSON, error or empty: a browser takes it as the type it says.
        return { ...response, headers: { ...response.headers, "x-content-type-options": "nosniff" } };
    };
}

/** error: a failure of ours or a service's (5xx, or a ChangeReport not queued); warn: the request's own fault (4xx). */
export function companionLogLevel(entry: CompanionLog): "info" | "warn" | "error" {
    return entry.status >= 500 || entry.cause !== undefined ? "error" : entry.status >= 400 ? "warn" : "info";
}

/** The environment variables the stack sets on the function. */
const COMPANION_ENVIRONMENT = {
    userPoolId: "COMPANION_USER_POOL_ID",
    clientId: "COMPANION_CLIENT_ID",
    tableName: "COMPANION_LAMP_TABLE",
    jwks: "COMPANION_POOL_JWKS",
    authBaseUrl: "COMPANION_AUTH_BASE_URL",
    pageUrl: "COMPANION_PAGE_URL",
    /** Set only with Alexa events on. */
    queueUrl: "COMPANION_CHANGE_REPORT_QUEUE_URL",
} as const;

const required = (env: NodeJS.ProcessEnv, name: string) => requiredVariable(env, name, "The companion API");

export function createCompanionFromEnvironment(env: NodeJS.ProcessEnv = process.env): CompanionHandler {
    const queueUrl = env[COMPANION_ENVIRONMENT.queueUrl];
    return createCompanionHandler({
        verifyAccessToken: createAccessTokenVerifier({
            userPoolId: required(env, COMPANION_ENVIRONMENT.userPoolId),
            clientId: required(env, COMPANION_ENVIRONMENT.clientId),
            jwks: handedOverJwks(env[COMPANION_ENVIRONMENT.jwks]),
        }),
        lampStore: createLampStore({ tableName: required(env, COMPANION_ENVIRONMENT.tableName) }),
        reportChange: queueUrl ? createEventQueue({ queueUrl }) : undefined,
        page: {
            authBaseUrl: required(env, COMPANION_ENVIRONMENT.authBaseUrl),
            clientId: required(env, COMPANION_ENVIRONMENT.clientId),
            redirectUri: required(env, COMPANION_ENVIRONMENT.pageUrl),
        },
        // A report lost, whatever the cause, is the operator's to hear of (its alarm counts it).
        log: (entry) => writeLogLine({ level: companionLogLevel(entry), ...entry, ...operatorField(entry.cause, entry.reportLost === true) }),
    });
}

// Exported here rather than at its declaration (see handler/lamp.ts).
export { COMPANION_ENVIRONMENT };