// Whose problem is it: every answer that Login with Amazon (LWA) and Alexa's event gateway give the
// functions, turned into its cause, here and nowhere else. Callers act on the cause, never on a
// status. The rows come from Amazon's tables:
// - the gateway: developer.amazon.com/docs/smarthome/send-events-to-the-alexa-event-gateway.html
//   (the response-code table at the end of the page) and .../smarthome/send-events.html;
// - LWA's token endpoint: developer.amazon.com/docs/login-with-amazon/authorization-code-grant.html
//   ("Access Token Errors"), the error codes of RFC 6749, section 5.2.
// The stand-ins (local/alexaGateway.ts, lwaEndpoint.ts) answer from the same tables.
import { RETRYABLE } from "./awsJson";
//
// Only `linkGone` lets a caller forget a user's grant, and only LWA's word on the grant's own
// refresh token gives it (handler/eventGateway.ts adds two conditions before it forgets). Every
// answer outside the tables (a code not listed, a body that is not JSON, a status nobody
// documents) falls to a cause that keeps the grant and the event.

/** Why an answer was not the success asked for. */
export type Cause =
    /** LWA refused the grant's refresh token: the grant may be dead (handler/eventGateway.ts decides). */
    | "linkGone"
    /**
     * The gateway has no account or skill for the user's identity: this event cannot reach them.
     * Not proof that the grant is dead (the answer also comes for an event sent too late, or for a
     * wrong identity: ../shared/alexa/event-gateway.md), so the grant is kept.
     */
    | "userUnreachable"
    /** The gateway refused the access token itself (expired, revoked): refresh it and send again. */
    | "staleToken"
    /** Our settings (the Alexa Client Id or Secret, the skill's permissions, a region): every user is affected until the operator fixes it. */
    | "configuration"
    /** The request itself is wrong: sending it again cannot help until the code is fixed. */
    | "ourBug"
    /** The service or the network failed: the same request may succeed later. */
    | "transient";

export interface Classified {
    cause: Cause;
    /** The service's own code when it gave a well-formed one, else "HTTP <status>" or "no answer". */
    code: string;
    /** What the operator should do, for causes that need one. */
    fix?: string;
}

const WELL_FORMED_CODE = /^[A-Za-z_]{1,64}$/;

/** The code an answer's body names at `read(body)`, if it is a well-formed one. */
function codeIn(body: unknown, read: (body: Record<string, unknown>) => unknown): string | undefined {
    if (typeof body !== "object" || body === null) {
        return undefined;
    }
    const code = read(body as Record<string, unknown>);
    return typeof code === "string" && WELL_FORMED_CODE.test(code) ? code : undefined;
}

const FIX_ALEXA_CREDENTIALS =
    "copy the Alexa Client Id and Alexa Client Secret from the skill's Permissions page (Send Alexa Events) into alexaClientId and " +
    "alexaClientSecret (pulumi config set --secret alexaClientSecret ...), or set alexaEvents true to read them through SMAPI, and run pulumi up";

/**
 * The gateway's codes (classified by code first: the page's statuses for them are less certain than
 * the codes). A code not listed here is judged by its status.
 */
const GATEWAY_CODES: Record<string, { cause: Cause; fix?: string }> = {
    // 401: the access token is invalid or expired: refresh it and try again.
    INVALID_ACCESS_TOKEN_EXCEPTION: { cause: "staleToken" },
    // 404: no account record for the identity (or it expired: the event was sent too late, or for
    // a wrong identity); no skill associated with the token (made in another stage): the user must
    // disable and re-enable the skill.
    ACCOUNT_NOT_FOUND_EXCEPTION: { cause: "userUnreachable" },
    SKILL_NOT_FOUND_EXCEPTION: { cause: "userUnreachable" },
    // Not in the page's current table; it named a user who disabled the skill. Such a user's refresh
    // token is revoked too (Alexa.Authorization: "HTTP 403 Forbidden response from Alexa, or an
    // error from LWA when you try to refresh the token"), so LWA is asked before anything else.
    SKILL_DISABLED_EXCEPTION: { cause: "userUnreachable" },
    // 403: the event went to another region's gateway than the one that holds the user's skill.
    SKILL_NEVER_ENABLED_EXCEPTION: {
        cause: "configuration",
        fix: "the user enabled the skill in another Alexa region than the one whose stack stored the grant: deploy a stack in every " +
            "region the skill serves (README, \"One stack per Alexa region\"), so each user's AcceptGrant reaches the function of their region",
    },
    // 403: the token lacks the permission to send events for this skill.
    INSUFFICIENT_PERMISSION_EXCEPTION: {
        cause: "configuration",
        fix: "turn on Send Alexa Events on the skill's Permissions page in the Alexa developer console, and check that alexaClientId is that skill's",
    },
    // 400: malformed message; 413: more than the gateway takes (300 endpoints per request).
    INVALID_REQUEST_EXCEPTION: { cause: "ourBug", fix: "the gateway refused the event's shape: the event is kept in the dead-letter queue; report it with the log line" },
    REQUEST_ENTITY_TOO_LARGE_EXCEPTION: { cause: "ourBug", fix: "the event is larger than the gateway takes: it is kept in the dead-letter queue; report it with the log line" },
    // 429, 500, 503: send again, up to 3 times, at least 1 second apart.
    THROTTLING_EXCEPTION: { cause: "transient" },
    INTERNAL_SERVICE_EXCEPTION: { cause: "transient" },
    SERVICE_UNAVAILABLE_EXCEPTION: { cause: "transient" },
};

/**
 * Alexa's event gateway: `status` 0 means no answer (refused connection, timeout); `body` is the
 * parsed JSON body, or undefined when it was not JSON. A 202 is success and is not classified.
 */
export function classifyGatewayAnswer(status: number, body: unknown): Classified {
    if (status === 0) {
        return { cause: "transient", code: "no answer" };
    }
    const code = codeIn(body, (b) => (b.payload as { code?: unknown } | null | undefined)?.code);
    const row = code !== undefined && Object.hasOwn(GATEWAY_CODES, code) ? GATEWAY_CODES[code] : undefined;
    // A code that says the user is gone, on an answer that says the service itself failed (5xx),
    // is not what it seems: the status wins there.
    if (row && !(row.cause === "userUnreachable" && status >= 500)) {
        return { cause: row.cause, code: code!, ...(row.fix ? { fix: row.fix } : {}) };
    }
    const named = code ?? `HTTP ${status}`;
    if (status === 429 || status >= 500) {
        return { cause: "transient", code: named };
    }
    if (status === 401) {
        return { cause: "staleToken", code: named };
    }
    if (status === 400 || status === 413) {
        return { cause: "ourBug", code: named, fix: "the gateway refused the event itself: it is kept in the dead-letter queue; report it with the log line" };
    }
    return {
        cause: "configuration",
        code: named,
        fix: "the gateway gave an answer outside Amazon's table: check that the functions reach Alexa's gateway directly (no proxy in between) " +
            "and that the skill's Send Alexa Events permission is on",
    };
}

/** LWA's error codes (RFC 6749 section 5.2, and LWA's own names for its server errors). */
const LWA_CODES: Record<string, { cause: Cause; fix?: string }> = {
    // The refresh token (or code) is invalid, expired, revoked, or was issued to another client.
    invalid_grant: { cause: "linkGone" },
    invalid_client: { cause: "configuration", fix: FIX_ALEXA_CREDENTIALS },
    unauthorized_client: { cause: "configuration", fix: FIX_ALEXA_CREDENTIALS },
    invalid_request: { cause: "ourBug", fix: "LWA refused the request's form: report it with the log line; the events wait meanwhile" },
    unsupported_grant_type: { cause: "ourBug", fix: "LWA refused the grant type: report it with the log line; the events wait meanwhile" },
    invalid_scope: { cause: "ourBug", fix: "LWA refused the scope: report it with the log line; the events wait meanwhile" },
    server_error: { cause: "transient" },
    temporarily_unavailable: { cause: "transient" },
    ServerError: { cause: "transient" },
    TemporarilyUnavailable: { cause: "transient" },
};

/**
 * LWA's token endpoint, for an answer that did not bring tokens: `status` 0 means no answer; `body`
 * is the parsed JSON body, or undefined when it was not JSON.
 */
export function classifyLwaAnswer(status: number, body: unknown): Classified {
    if (status === 0) {
        return { cause: "transient", code: "no answer" };
    }
    const code = codeIn(body, (b) => b.error);
    const row = code !== undefined && Object.hasOwn(LWA_CODES, code) ? LWA_CODES[code] : undefined;
    // invalid_grant is believed only as the refusal it is documented as (HTTP 400 or 401).
    if (row && !(row.cause === "linkGone" && status !== 400 && status !== 401)) {
        return { cause: row.cause, code: code!, ...(row.fix ? { fix: row.fix } : {}) };
    }
    const named = code ?? `HTTP ${status}`;
    if (status === 429 || status >= 500) {
        return { cause: "transient", code: named };
    }
    return {
        cause: "configuration",
        code: named,
        fix: status === 200
            ? "LWA answered without an access and a refresh token: check that nothing between the functions and api.amazon.com rewrites answers"
            : "LWA gave an answer outside its documented errors: check that the functions reach api.amazon.com directly (no proxy in between); " +
              "if they do, " + FIX_ALEXA_CREDENTIALS,
    };
}

/**
 * AWS's refusals that mean the function may not do what it asked, or asked for something that does
 * not exist: the stack's permissions or resources are not what the code expects. (Each service's
 * Common Errors page: AccessDeniedException, UnrecognizedClientException...; SSM's
 * ParameterNotFound; DynamoDB's ResourceNotFoundException; KMS's key states.)
 */
const AWS_CONFIGURATION_ERRORS = [
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ResourceNotFoundException",
    "ParameterNotFound",
    // handler/secret.ts: the parameter exists but holds nothing.
    "EmptyParameter",
    "QueueDoesNotExist",
    "NotFoundException",
    "InvalidKeyUsageException",
];

/** KMS refusing because of the key's state: disabled, or scheduled for deletion (KMS API reference, Decrypt errors). */
const KEY_STATE_ERRORS = ["DisabledException", "KMSInvalidStateException"];
const KEY_STATE_FIX = "the stack's KMS key (the grants table's smartlamp:grants-key tag names it) is disabled or scheduled for deletion: " +
    "run aws kms cancel-key-deletion --key-id <key> (if scheduled) and aws kms enable-key --key-id <key>, before any pulumi up; " +
    "a pulumi up --refresh meanwhile would make a new key, and the grants sealed under this one could no longer be opened";
/** What was answered, or opened, but cannot be read: a KMS answer without its field, a sealed value that is not JSON. */
const UNREADABLE = ["InvalidResponse", "SyntaxError"];

/**
 * A failed call to an AWS service (DynamoDB, SQS, SSM, KMS) through handler/awsJson.ts: its error
 * type when AWS answered, else a network failure. Throttling and server errors reach here only
 * after the client's own retries.
 */
export function classifyAwsFailure(err: unknown): Classified {
    const name = err instanceof Error ? err.name : typeof err;
    const status = typeof (err as { status?: unknown })?.status === "number" ? (err as { status: number }).status : 0;
    if (KEY_STATE_ERRORS.includes(name)) {
        // Not `pulumi up --refresh`: the AWS provider takes a key pending deletion for deleted
        // (terraform-provider-aws internal/service/kms/key.go, findKeyByID), and the up would make
        // a new key; the grants sealed under this one would then stay unopened, and go with it.
        return { cause: "configuration", code: name, fix: KEY_STATE_FIX };
    }
    if (AWS_CONFIGURATION_ERRORS.includes(name) || status === 403) {
        return { cause: "configuration", code: name, fix: "the function's role or the stack's resources are not as deployed: run pulumi up again (pulumi up --refresh if something was changed by hand)" };
    }
    if (UNREADABLE.includes(name)) {
        return { cause: "ourBug", code: name, fix: "an answer of AWS, or a value stored sealed, could not be read: report it with the log line" };
    }
    if (status === 0 || status >= 500 || RETRYABLE.includes(name)) {
        return { cause: "transient", code: name };
    }
    // A validation error and the like: the request was wrong, the event may be fine.
    return { cause: "ourBug", code: name, fix: "AWS refused the function's request: report it with the log line" };
}

// Exported here rather than at their declarations (see handler/lamp.ts).
export { GATEWAY_CODES, LWA_CODES, AWS_CONFIGURATION_ERRORS, KEY_STATE_ERRORS, UNREADABLE };
