// Smart Home directives as Alexa sends them (payloadVersion 3), built for a given token.
import { randomUUID } from "crypto";

const header = (namespace: string, name: string, correlated = true) => ({
    namespace,
    name,
    payloadVersion: "3",
    messageId: randomUUID(),
    ...(correlated ? { correlationToken: "corr-" + randomUUID() } : {}),
});

const endpoint = (endpointId: string, token: unknown) => ({ endpointId, cookie: {}, scope: { type: "BearerToken", token } });

export const directives = {
    discover: (token: unknown) => ({
        directive: { header: header("Alexa.Discovery", "Discover", false), payload: { scope: { type: "BearerToken", token } } },
    }),
    acceptGrant: (token: unknown, code = "grant-code-" + randomUUID()) => ({
        directive: {
            header: header("Alexa.Authorization", "AcceptGrant", false),
            payload: { grant: { type: "OAuth2.AuthorizationCode", code }, grantee: { type: "BearerToken", token } },
        },
    }),
    turnOn: (token: unknown, endpointId: string) => ({
        directive: { header: header("Alexa.PowerController", "TurnOn"), endpoint: endpoint(endpointId, token), payload: {} },
    }),
    turnOff: (token: unknown, endpointId: string) => ({
        directive: { header: header("Alexa.PowerController", "TurnOff"), endpoint: endpoint(endpointId, token), payload: {} },
    }),
    setBrightness: (token: unknown, endpointId: string, brightness: unknown) => ({
        directive: { header: header("Alexa.BrightnessController", "SetBrightness"), endpoint: endpoint(endpointId, token), payload: { brightness } },
    }),
    adjustBrightness: (token: unknown, endpointId: string, brightnessDelta: unknown) => ({
        directive: {
            header: header("Alexa.BrightnessController", "AdjustBrightness"),
            endpoint: endpoint(endpointId, token),
            payload: { brightnessDelta, brightnessDeltaDefault: false },
        },
    }),
    reportState: (token: unknown, endpointId: string) => ({
        directive: { header: header("Alexa", "ReportState"), endpoint: endpoint(endpointId, token), payload: {} },
    }),
};

/** The property `namespace.name` from a response's context. */
export function property(response: any, namespace: string, name: string): unknown {
    return response.context?.properties?.find((p: any) => p.namespace === namespace && p.name === name)?.value;
}

/** The error type of an ErrorResponse, or undefined for any other response. */
export function errorType(response: any): string | undefined {
    return response.event.header.name === "ErrorResponse" ? response.event.payload.type : undefined;
}
