// The skill endpoint: a directive in, exactly one Smart Home response out, whatever the input.
// Order of checks: the directive's shape (free), then the token (one signature check), then the
// endpoint, then the table. A directive whose token did not verify only ever gets an error.
import {
    acceptGrantFailed,
    acceptGrantResponse,
    AlexaErrorType,
    AlexaResponse,
    Directive,
    discoverResponse,
    errorResponse,
    readDirective,
    stateResponse,
} from "./alexa";
import type { AcceptGrant } from "./acceptGrant";
import { discoveryEndpoint, LampChange, lampEndpointId, lampProperties } from "./lamp";
import { LampStore } from "./lampStore";
import { DirectiveLog, LogLine, userReference } from "./log";
import { VerifyAccessToken } from "./token";

export interface SkillDependencies {
    verifyAccessToken: VerifyAccessToken;
    lampStore: LampStore;
    log: LogLine;
    /**
     * Set when the skill sends Alexa events (alexaClientId configured): AcceptGrant then stores the
     * user's LWA tokens, and discovery marks the lamp's properties proactively reported.
     */
    acceptGrant?: AcceptGrant;
    now?: () => Date;
}

export type SkillHandler = (event: unknown) => Promise<AlexaResponse>;

/** What a directive asks of the lamp, once its payload has been checked. */
type Request =
    | { kind: "discover" }
    | { kind: "acceptGrant"; code: string }
    | { kind: "reportState" }
    | { kind: "change"; change: LampChange };

class Refusal {
    constructor(readonly type: AlexaErrorType | "ACCEPT_GRANT_FAILED", readonly message: string) {}
}

function integerIn(value: unknown, min: number, max: number): number | undefined {
    if (typeof value !== "number" || !Number.isFinite(value)) {
        return undefined;
    }
    return Math.min(max, Math.max(min, Math.round(value)));
}

/** Reads what the directive asks for, or refuses it as INVALID_DIRECTIVE. */
function requestOf(directive: Directive): Request | Refusal {
    const invalid = (why: string) => new Refusal("INVALID_DIRECTIVE", why);
    switch (`${directive.namespace}.${directive.name}`) {
        case "Alexa.Discovery.Discover":
            return { kind: "discover" };
        case "Alexa.Authorization.AcceptGrant": {
            const grant = directive.payload.grant as { type?: unknown; code?: unknown } | undefined;
            return grant?.type === "OAuth2.AuthorizationCode" && typeof grant.code === "string" && grant.code.length > 0
                ? { kind: "acceptGrant", code: grant.code }
                : new Refusal("ACCEPT_GRANT_FAILED", "The grant is not an OAuth2 authorization code.");
        }
        case "Alexa.ReportState":
            return { kind: "reportState" };
        case "Alexa.PowerController.TurnOn":
            return { kind: "change", change: { kind: "power", powerState: "ON" } };
        case "Alexa.PowerController.TurnOff":
            return { kind: "change", change: { kind: "power", powerState: "OFF" } };
        case "Alexa.BrightnessController.SetBrightness": {
            const brightness = integerIn(directive.payload.brightness, 0, 100);
            return brightness === undefined
                ? invalid("SetBrightness needs a numeric payload.brightness from 0 to 100.")
                : { kind: "change", change: { kind: "setBrightness", brightness } };
        }
        case "Alexa.BrightnessController.AdjustBrightness": {
            const delta = integerIn(directive.payload.brightnessDelta, -100, 100);
            return delta === undefined
                ? invalid("AdjustBrightness needs a numeric payload.brightnessDelta from -100 to 100.")
                : { kind: "change", change: { kind: "adjustBrightness", delta } };
        }
        default:
            return invalid("This skill does not support that directive.");
    }
}

const LOGGABLE = /^[A-Za-z0-9._\-]{1,128}$/;
const loggable = (value: string | undefined) => (value === undefined || LOGGABLE.test(value) ? value : "(malformed)");

export function createSkillHandler(deps: SkillDependencies): SkillHandler {
    const now = deps.now ?? (() => new Date());

    async function answer(directive: Directive, request: Request, entry: DirectiveLog, started: number): Promise<AlexaResponse> {
        const check = await deps.verifyAccessToken(directive.token);
        if (!check.ok) {
            entry.reason = check.reason;
            if (request.kind === "acceptGrant") {
                throw new Refusal("ACCEPT_GRANT_FAILED", "The grantee token could not be verified.");
            }
            throw new Refusal(check.error, check.error === "INTERNAL_ERROR"
                ? "The account link could not be checked just now; please try again."
                : "The account link is not valid; please link the account again.");
        }
        entry.user = userReference(check.userId);
        if (request.kind === "discover") {
            return discoverResponse([discoveryEndpoint(check.userId, deps.acceptGrant !== undefined)]);
        }
        if (request.kind === "acceptGrant") {
            // Without events configured the skill has no use for the grant's LWA code.
            if (deps.acceptGrant) {
                try {
                    await deps.acceptGrant(check.userId, request.code, performance.now() - started);
                } catch (err) {
                    entry.reason = err instanceof Error ? err.message : "the grant could not be stored";
                    throw new Refusal("ACCEPT_GRANT_FAILED", "The permission to send Alexa events could not be stored just now; please try again.");
                }
            }
            return acceptGrantResponse(directive);
        }
        if (directive.endpointId === undefined) {
            throw new Refusal("INVALID_DIRECTIVE", "The directive names no endpoint.");
        }
        if (directive.endpointId !== lampEndpointId(check.userId)) {
            throw new Refusal("NO_SUCH_ENDPOINT", "This account has no such endpoint.");
        }
        const endpoint = { endpointId: directive.endpointId, scope: { type: "BearerToken" as const, token: directive.token as string } };
        try {
            const state = request.kind === "reportState"
                ? await deps.lampStore.read(check.userId)
                : await deps.lampStore.change(check.userId, request.change);
            const name = request.kind === "reportState" ? "StateReport" : "Response";
            return stateResponse(name, directive, endpoint, lampProperties(state, now()));
        } catch (err) {
            entry.reason = err instanceof Error ? err.message : "the lamp's state is unavailable";
            throw new Refusal("INTERNAL_ERROR", "The lamp's state is unavailable just now; please try again.");
        }
    }

    return async function handleDirective(event: unknown): Promise<AlexaResponse> {
        const started = performance.now();
        const read = readDirective(event);
        const known = read.ok ? read.directive : read.partial;
        const entry: DirectiveLog = {
            namespace: loggable(known.namespace),
            name: loggable(known.name),
            messageId: loggable(known.messageId),
            outcome: "",
            durationMs: 0,
        };
        let response: AlexaResponse;
        try {
            if (!read.ok) {
                throw new Refusal("INVALID_DIRECTIVE", `This is not a Smart Home directive: ${read.reason}.`);
            }
            const request = requestOf(read.directive);
            if (request instanceof Refusal) {
                throw request;
            }
            response = await answer(read.directive, request, entry, started);
            entry.outcome = response.event.header.name;
        } catch (err) {
            const refusal = err instanceof Refusal ? err : new Refusal("INTERNAL_ERROR", "The skill failed unexpectedly; please try again.");
            entry.outcome = refusal.type;
            entry.reason ??= err instanceof Refusal ? err.message : "unexpected failure";
            response = refusal.type === "ACCEPT_GRANT_FAILED"
                ? acceptGrantFailed(known, refusal.message)
                : errorResponse(known, refusal.type, refusal.message);
        }
        entry.durationMs = Math.round((performance.now() - started) * 1000) / 1000;
        deps.log(entry);
        return response;
    };
}
