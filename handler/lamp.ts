// The SmartLamp: how a dimmable bulb behaves, how Alexa discovers it and how its state is reported.
// Pure: the state store applies these rules atomically; here they are plain functions.
import { createHash } from "crypto";
import { Property, timeOfSample } from "./alexa";

export type PowerState = "ON" | "OFF";

/**
 * A lamp's state. `brightness` is the level the bulb shines at when on, always 1..100: a bulb that
 * is on at 0 % would be on and dark at once. Dimming to 0 % switches the lamp off instead and keeps
 * the level, so the next TurnOn lights the room as before rather than at 0 %.
 */
export interface LampState {
    powerState: PowerState;
    brightness: number;
}

const MIN_LEVEL = 1;
const MAX_LEVEL = 100;

/** A user who never spoke to the lamp has one that is off, at full brightness when switched on. */
const DEFAULT_LAMP: Readonly<LampState> = Object.freeze({ powerState: "OFF", brightness: MAX_LEVEL });

/** A change Alexa asks for, already checked for its type and range. */
export type LampChange =
    | { kind: "power"; powerState: PowerState }
    | { kind: "setBrightness"; brightness: number }
    | { kind: "adjustBrightness"; delta: number };

function clampLevel(level: number): number {
    return Math.min(MAX_LEVEL, Math.max(MIN_LEVEL, level));
}

/** The state after `change`, from `state`: the rules every store must apply atomically. */
export function applyChange(state: LampState, change: LampChange): LampState {
    switch (change.kind) {
        case "power":
            return { powerState: change.powerState, brightness: state.brightness };
        case "setBrightness":
            // Setting a level lights the lamp; 0 % switches it off and keeps the level it had.
            return change.brightness <= 0
                ? { powerState: "OFF", brightness: state.brightness }
                : { powerState: "ON", brightness: clampLevel(change.brightness) };
        case "adjustBrightness": {
            // "Brighter" or "dimmer" changes the level the lamp had and lights it; dimming past the
            // bottom switches it off at the lowest level, as a real dimmer does.
            const level = state.brightness + change.delta;
            return level < MIN_LEVEL
                ? { powerState: "OFF", brightness: MIN_LEVEL }
                : { powerState: "ON", brightness: clampLevel(level) };
        }
    }
}

/**
 * The user's lamp's endpointId: stable per user and different for every user, so a token of one
 * user can never address another user's lamp. Derived one way from the token's `sub`.
 */
export function lampEndpointId(userId: string): string {
    return "smartlamp-" + createHash("sha256").update(userId).digest("hex").slice(0, 32);
}

const RETRIEVABLE = (name: string, proactivelyReported: boolean) => ({ supported: [{ name }], proactivelyReported, retrievable: true });

/**
 * The user's lamp as Discover.Response lists it. `proactivelyReported`: the skill sends a
 * ChangeReport for every change Alexa did not make (events on, see handler/changeReport.ts).
 */
export function discoveryEndpoint(userId: string, proactivelyReported = false) {
    return {
        endpointId: lampEndpointId(userId),
        manufacturerName: "SmartLamp",
        friendlyName: "Smart Lamp",
        description: "Dimmable SmartLamp linked to your account",
        displayCategories: ["LIGHT"],
        capabilities: [
            { type: "AlexaInterface", interface: "Alexa", version: "3" },
            { type: "AlexaInterface", interface: "Alexa.PowerController", version: "3", properties: RETRIEVABLE("powerState", proactivelyReported) },
            { type: "AlexaInterface", interface: "Alexa.BrightnessController", version: "3", properties: RETRIEVABLE("brightness", proactivelyReported) },
            { type: "AlexaInterface", interface: "Alexa.EndpointHealth", version: "3", properties: RETRIEVABLE("connectivity", proactivelyReported) },
        ],
    };
}

/**
 * The lamp's properties as `context.properties` reports them. The state comes straight from the
 * store, read or written in this very request, so the uncertainty is small.
 */
export function lampProperties(state: LampState, now: Date): Property[] {
    const sample = { timeOfSample: timeOfSample(now), uncertaintyInMilliseconds: 50 };
    return [
        { namespace: "Alexa.PowerController", name: "powerState", value: state.powerState, ...sample },
        { namespace: "Alexa.BrightnessController", name: "brightness", value: state.brightness, ...sample },
        { namespace: "Alexa.EndpointHealth", name: "connectivity", value: { value: "OK" }, ...sample },
    ];
}

// Exported here rather than at their declarations: uses inside this module then refer to the
// local constant, which Pulumi's closure serialization captures by value (not `exports.NAME`).
export { MIN_LEVEL, MAX_LEVEL, DEFAULT_LAMP };
