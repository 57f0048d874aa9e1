// Alexa.ChangeReport: how the lamp tells Alexa about a change Alexa did not make. Pure: the
// event is built here, queued by handler/eventQueue.ts and delivered by handler/eventGateway.ts.
// Shape: developer.amazon.com/docs/device-apis/alexa-changereport.html: the changed properties in
// payload.change.properties with the cause, every other property (EndpointHealth included) in
// context.properties; the endpoint's scope carries the user's LWA access token, which is added
// only at delivery, so no token waits in a queue.
import { randomUUID } from "crypto";
import { AlexaResponse, PAYLOAD_VERSION, Property } from "./alexa";
import { lampEndpointId, lampProperties, LampState } from "./lamp";

/** Causes this skill reports (Alexa's cause types: alexa-changereport.html, "Cause object"). */
export type ChangeCause = "APP_INTERACTION" | "PHYSICAL_INTERACTION";

/** A ChangeReport before delivery: the scope's token is filled in by the sender. */
export type ChangeReport = AlexaResponse;

/**
 * The properties whose values differ between two states (the order of lampProperties). Without a
 * `before` (a change repeated under its key, whose first run is not known here), every property the
 * lamp can change counts as changed: Alexa is told the whole state rather than left with a stale one.
 */
export function changedProperties(before: LampState | undefined, after: LampState, now: Date): { changed: Property[]; unchanged: Property[] } {
    const all = lampProperties(after, now);
    const old = before && lampProperties(before, now);
    const differs = (p: Property, i: number) => old === undefined ? p.namespace !== "Alexa.EndpointHealth" : JSON.stringify(p.value) !== JSON.stringify(old[i].value);
    return { changed: all.filter(differs), unchanged: all.filter((p, i) => !differs(p, i)) };
}

/** The ChangeReport for a change from `before` to `after`, or undefined when nothing changed. */
export function changeReport(userId: string, before: LampState | undefined, after: LampState, cause: ChangeCause, now: Date): ChangeReport | undefined {
    const { changed, unchanged } = changedProperties(before, after, now);
    if (changed.length === 0) {
        return undefined;
    }
    return {
        event: {
            header: { namespace: "Alexa", name: "ChangeReport", payloadVersion: PAYLOAD_VERSION, messageId: randomUUID() },
            endpoint: { endpointId: lampEndpointId(userId), scope: { type: "BearerToken", token: "" } },
            payload: { change: { cause: { type: cause }, properties: changed } },
        },
        context: { properties: unchanged },
    };
}

/**
 * Whether `report` still says what the lamp is: each of its properties (changed or not) has the
 * value the lamp in `state` reports. A report that does not was superseded by a later change, whose
 * own report follows it in the user's queue group or whose directive's answer told Alexa already:
 * sent late, it would roll the Alexa app back to a state the lamp left.
 */
export function stillCurrent(report: ChangeReport, state: LampState): boolean {
    const now = lampProperties(state, new Date(0));
    const change = (report.event.payload.change as { properties?: unknown } | undefined)?.properties;
    const told = [...(Array.isArray(change) ? change : []), ...(report.context?.properties ?? [])] as Partial<Property>[];
    return told.length > 0 && told.every((p) => {
        const actual = now.find((q) => q.namespace === p.namespace && q.name === p.name);
        return actual !== undefined && JSON.stringify(actual.value) === JSON.stringify(p.value);
    });
}

/** The report with the user's LWA access token in its scope, ready for the gateway. */
export function withToken(report: ChangeReport, accessToken: string): ChangeReport {
    return { ...report, event: { ...report.event, endpoint: { ...report.event.endpoint!, scope: { type: "BearerToken", token: accessToken } } } };
}
