// The skill endpoint: a directive in, exactly one Smart Home response out, whatever the input.
// Order of checks: the directive's shape (free), then the token (one signature check), then the
// endpoint, then the table. A directive whose token did not verify only ever gets an error.
import { AlexaErrorType, alexaMessages, AlexaResponse, Directive, ValidRange } from "./alexa";
import type { AcceptGrant } from "./acceptGrant";
import { classifyAwsFailure } from "./causes";
import { LwaError } from "./lwa";
import { LampChange, lampRules } from "./lamp";
import { LampStore } from "./lampStore";
import { DirectiveLog, LogLine, logLines } from "./log";
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
    constructor(readonly type: AlexaErrorType | "ACCEPT_GRANT_FAILED", readonly message: string, readonly validRange?: ValidRange) {}
}

/**
 * The skill's handler. Everything a directive runs through is made here, once per container: the
 * helpers below, and the sets of functions of alexaMessages, lampRules and logLines (handler/alexa.ts
 * says why they are not the modules' own).
 */
export function createSkillHandler(deps: SkillDependencies): SkillHandler {
    const now = deps.now ?? (() => new Date());
    const { acceptGrantFailed, acceptGrantResponse, discoverResponse, errorResponse, readDirective, stateResponse } = alexaMessages();
    const { discoveryEndpoint, lampEndpointId, lampProperties } = lampRules();
    const { userReference } = logLines();

    /**
     * `value` if it is an integer in min..max, otherwise the refusal Amazon's rules call for.
     * BrightnessController's brightness is an integer from 0 to 100, and a change of it an integer from
     * -100 to 100 (https://developer.amazon.com/docs/device-apis/alexa-brightnesscontroller.html): a
     * number outside the range is answered VALUE_OUT_OF_RANGE with the range that is valid
     * (https://developer.amazon.com/docs/device-apis/alexa-errorresponse.html), so Alexa can tell the
     * user; anything but an integer (missing, a string, 30.5) is a malformed directive. Neither changes
     * the lamp: guessing what a malformed value meant could light a room nobody asked to light.
     */
    function integerIn(value: unknown, what: string, min: number, max: number): number | Refusal {
        if (typeof value !== "number" || !Number.isInteger(value)) {
            return new Refusal("INVALID_DIRECTIVE", `${what} must be an integer from ${min} to ${max}.`);
        }
        if (value < min || value > max) {
            return new Refusal("VALUE_OUT_OF_RANGE", `${what} must be from ${min} to ${max}.`, { minimumValue: min, maximumValue: max });
        }
        return value;
    }

    /** Reads what the directive asks for, or refuses it as INVALID_DIRECTIVE. */
    function requestOf(directive: Directive): Request | Refusal {
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
                const brightness = integerIn(directive.payload.brightness, "SetBrightness's payload.brightness", 0, 100);
                return brightness instanceof Refusal ? brightness : { kind: "change", change: { kind: "setBrightness", brightness } };
            }
            case "Alexa.BrightnessController.AdjustBrightness": {
                const delta = integerIn(directive.payload.brightnessDelta, "AdjustBrightness's payload.brightnessDelta", -100, 100);
                return delta instanceof Refusal ? delta : { kind: "change", change: { kind: "adjustBrightness", delta } };
            }
            default:
                return new Refusal("INVALID_DIRECTIVE", "This skill does not support that directive.");
        }
    }

    const LOGGABLE = /^[A-Za-z0-9._\-]{1,128}$/;
    const loggable = (value: string | undefined) => (value === undefined || LOGGABLE.test(value) ? value : "(malformed)");

    async function answer(directive: Directive, request: Request, entry: DirectiveLog, started: number): Promise<AlexaResponse> {
        const check = await deps.verifyAccessToken(directive.token);
        if (!check.ok) {
            entry.reason = check.reason;
            if (request.kind === "acceptGrant") {
                // A check that failed on our side (the pool's keys could not be read) costs the user
                // the grant until they enable the skill again: the operator hears of it.
                if (check.error === "INTERNAL_ERROR") {
                    entry.cause = "transient";
                }
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
                    const answer = err instanceof LwaError ? err.answer : classifyAwsFailure((err as { cause?: unknown })?.cause ?? err);
                    entry.cause = answer.cause;
                    entry.fix = answer.fix;
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
                // Keyed by the messageId: a directive delivered or retried twice changes the lamp once.
                : await deps.lampStore.change(check.userId, request.change, directive.messageId);
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
                : errorResponse(known, refusal.type, refusal.message, refusal.validRange);
        }
        entry.durationMs = Math.round((performance.now() - started) * 1000) / 1000;
        deps.log(entry);
        return response;
    };
}
