// What Alexa speaks: Smart Home API v3 messages, read from untrusted input and written as
// responses. Pure functions only; nothing here touches the network or the clock beyond `now`.
// Message shapes: https://developer.amazon.com/docs/device-apis/message-guide.html
import { randomUUID } from "crypto";

const PAYLOAD_VERSION = "3";

/** Error types this skill answers with (a subset of Alexa.ErrorResponse's `type` enum). */
export type AlexaErrorType =
    | "INVALID_DIRECTIVE"
    | "NO_SUCH_ENDPOINT"
    | "INVALID_AUTHORIZATION_CREDENTIAL"
    | "EXPIRED_AUTHORIZATION_CREDENTIAL"
    | "INTERNAL_ERROR"
    | "ENDPOINT_UNREACHABLE"
    | "VALUE_OUT_OF_RANGE";

/** The range a VALUE_OUT_OF_RANGE error names (Alexa.ErrorResponse's `validRange`). */
export interface ValidRange {
    minimumValue: number;
    maximumValue: number;
}

export interface Scope {
    type: "BearerToken";
    token: string;
}

export interface ResponseEndpoint {
    endpointId: string;
    scope?: Scope;
}

export interface Header {
    namespace: string;
    name: string;
    payloadVersion: string;
    messageId: string;
    correlationToken?: string;
}

export interface Property {
    namespace: string;
    name: string;
    value: unknown;
    timeOfSample: string;
    uncertaintyInMilliseconds: number;
}

export interface AlexaResponse {
    event: {
        header: Header;
        endpoint?: ResponseEndpoint;
        payload: Record<string, unknown>;
    };
    context?: { properties: Property[] };
}

/**
 * A directive as far as it could be read. Everything in it came from the network, so every field
 * is checked for its type here, once; the rest of the handler trusts this shape.
 */
export interface Directive {
    namespace: string;
    name: string;
    messageId: string;
    correlationToken?: string;
    payloadVersion: string;
    /** The endpoint addressed, when the directive carries a well-formed one. */
    endpointId?: string;
    /** Whatever stood where this directive carries the user's token: not yet checked. */
    token: unknown;
    payload: Record<string, unknown>;
}

export type ReadResult =
    | { ok: true; directive: Directive }
    | { ok: false; reason: string; partial: Partial<Directive> };

/**
 * The functions that read directives and write responses, made by one call. The skill's factory
 * makes its own set once per container: Pulumi's closure serialization wraps every module-level
 * function a deployed function captures, and the wrapper builds the function's scope again on
 * every call (@pulumi/pulumi runtime/closure/serializeClosure.js), while functions made inside a
 * factory are plain closures (README, Performance). The module's exports are one such set.
 */
export function alexaMessages() {
    const ENDPOINT_ID = /^[a-zA-Z0-9_\-=#;:?@&]{1,256}$/;

    function isRecord(value: unknown): value is Record<string, unknown> {
        return typeof value === "object" && value !== null && !Array.isArray(value);
    }

    function nonEmptyString(value: unknown): string | undefined {
        return typeof value === "string" && value.length > 0 ? value : undefined;
    }

    /** Where each directive carries the bearer token (Smart Home API v3). */
    function tokenLocation(namespace: string, payload: Record<string, unknown>, endpoint: unknown): unknown {
        if (namespace === "Alexa.Discovery") {
            return isRecord(payload.scope) ? payload.scope.token : undefined;
        }
        if (namespace === "Alexa.Authorization") {
            return isRecord(payload.grantee) ? payload.grantee.token : undefined;
        }
        return isRecord(endpoint) && isRecord(endpoint.scope) ? endpoint.scope.token : undefined;
    }

    /** Reads a Lambda event as a Smart Home directive, or says why it is not one. */
    function readDirective(event: unknown): ReadResult {
        const directive = isRecord(event) ? event.directive : undefined;
        if (!isRecord(directive) || !isRecord(directive.header)) {
            return { ok: false, reason: "the event has no directive header", partial: {} };
        }
        const header = directive.header;
        const endpoint = directive.endpoint;
        const rawEndpointId = isRecord(endpoint) ? endpoint.endpointId : undefined;
        const partial: Partial<Directive> = {
            namespace: nonEmptyString(header.namespace),
            name: nonEmptyString(header.name),
            messageId: nonEmptyString(header.messageId),
            correlationToken: nonEmptyString(header.correlationToken),
            payloadVersion: nonEmptyString(header.payloadVersion),
            endpointId: typeof rawEndpointId === "string" && ENDPOINT_ID.test(rawEndpointId) ? rawEndpointId : undefined,
        };
        if (!partial.namespace || !partial.name) {
            return { ok: false, reason: "the header has no namespace or name", partial };
        }
        if (partial.payloadVersion !== PAYLOAD_VERSION) {
            return { ok: false, reason: `payloadVersion must be "${PAYLOAD_VERSION}"`, partial };
        }
        if (!partial.messageId) {
            return { ok: false, reason: "the header has no messageId", partial };
        }
        if (!isRecord(directive.payload)) {
            return { ok: false, reason: "the directive has no payload object", partial };
        }
        if (endpoint !== undefined && rawEndpointId !== undefined && partial.endpointId === undefined) {
            return { ok: false, reason: "the endpointId is malformed", partial };
        }
        return {
            ok: true,
            directive: {
                ...(partial as Directive),
                token: tokenLocation(partial.namespace, directive.payload, endpoint),
                payload: directive.payload,
            },
        };
    }

    /** ISO 8601 in UTC with milliseconds, as `timeOfSample` wants it. */
    function timeOfSample(now: Date): string {
        return now.toISOString();
    }

    function header(namespace: string, name: string, correlationToken?: string): Header {
        return {
            namespace,
            name,
            payloadVersion: PAYLOAD_VERSION,
            messageId: randomUUID(),
            ...(correlationToken ? { correlationToken } : {}),
        };
    }

    function discoverResponse(endpoints: unknown[]): AlexaResponse {
        return { event: { header: header("Alexa.Discovery", "Discover.Response"), payload: { endpoints } } };
    }

    function acceptGrantResponse(directive: Directive): AlexaResponse {
        return {
            event: { header: header("Alexa.Authorization", "AcceptGrant.Response", directive.correlationToken), payload: {} },
        };
    }

    function acceptGrantFailed(directive: Partial<Directive>, message: string): AlexaResponse {
        return {
            event: {
                header: header("Alexa.Authorization", "ErrorResponse", directive.correlationToken),
                payload: { type: "ACCEPT_GRANT_FAILED", message },
            },
        };
    }

    /** `Alexa.Response` (a change) or `Alexa.StateReport` (ReportState), with the endpoint's state. */
    function stateResponse(
        name: "Response" | "StateReport",
        directive: Directive,
        endpoint: ResponseEndpoint,
        properties: Property[],
    ): AlexaResponse {
        return {
            event: { header: header("Alexa", name, directive.correlationToken), endpoint, payload: {} },
            context: { properties },
        };
    }

    /**
     * `Alexa.ErrorResponse`. The endpoint is echoed without its scope: an error may be the answer to a
     * token that is garbage (or a megabyte long), and Alexa does not need it back.
     */
    function errorResponse(directive: Partial<Directive>, type: AlexaErrorType, message: string, validRange?: ValidRange): AlexaResponse {
        return {
            event: {
                header: header("Alexa", "ErrorResponse", directive.correlationToken),
                ...(directive.endpointId ? { endpoint: { endpointId: directive.endpointId } } : {}),
                payload: { type, message, ...(validRange ? { validRange } : {}) },
            },
        };
    }

    return { readDirective, timeOfSample, discoverResponse, acceptGrantResponse, acceptGrantFailed, stateResponse, errorResponse };
}

export const { readDirective, timeOfSample, discoverResponse, acceptGrantResponse, acceptGrantFailed, stateResponse, errorResponse } = alexaMessages();

// Exported here rather than at their declarations: uses inside this module then refer to the
// local constant, which Pulumi's closure serialization captures by value (not `exports.NAME`).
export { PAYLOAD_VERSION };
