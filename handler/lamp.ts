// The SmartLamp: how a dimmable bulb behaves, how Alexa discovers it and how its state is reported.
// Pure: the state store applies these rules atomically; here they are plain functions.
import { createHash } from "crypto";
import { alexaMessages, Property } from "./alexa";

export type PowerState = "ON" | "OFF";

/**
 * A lamp's state as the store keeps it. `brightness` is the level the bulb shines at when on,
 * always 1..100, and it is remembered while the lamp is off: an off lamp *reports* 0 (see
 * `reportedBrightness`), and the next TurnOn lights it at the level it had when it was last on.
 */
export interface LampState {
    powerState: PowerState;
    brightness: number;
}

const MIN_LEVEL = 1;
const MAX_LEVEL = 100;

/** A user who never spoke to the lamp has one that is off, at full brightness when switched on. */
const DEFAULT_LAMP: Readonly<LampState> = Object.freeze({ powerState: "OFF", brightness: MAX_LEVEL });

/**
 * Where a store's first try at a change assumes the lamp to be: on, in the middle, the state in
 * which "brighter" and "dimmer" are said. A lamp elsewhere costs the store one more write.
 */
const TYPICAL_LAMP: Readonly<LampState> = Object.freeze({ powerState: "ON", brightness: 50 });

/** A change Alexa asks for, already checked for its type and range. */
export type LampChange =
    | { kind: "power"; powerState: PowerState }
    | { kind: "setBrightness"; brightness: number }
    | { kind: "adjustBrightness"; delta: number };

/** What a change does to the stored level. */
export type LevelUpdate = { keep: true } | { add: number } | { set: number };

/**
 * A change as a store applies it in one conditional write: the lamps it holds for (`when`: a
 * power state and a range of stored levels; absent: every lamp), the power state it leaves and
 * what it does to the level. Every lamp inside `when` gets the same answer from `applyChange`, so
 * a store may apply the plan atomically to whatever the lamp holds at write time, provided that
 * is still inside `when` (other directives may have changed it meanwhile).
 */
export interface ChangePlan {
    when?: { powerState: PowerState; minLevel: number; maxLevel: number };
    powerState: PowerState;
    level: LevelUpdate;
}

/**
 * The lamp's rules, made by one call: the skill's factory makes its own set once per container,
 * as it does alexaMessages (handler/alexa.ts says why). The module's exports are one such set.
 */
export function lampRules() {
    const { timeOfSample } = alexaMessages();

    function clampLevel(level: number): number {
        return Math.min(MAX_LEVEL, Math.max(MIN_LEVEL, level));
    }

    /**
     * The bulb's rules, the one place they are written: the plan for `change` on a lamp in `state`.
     * They follow what the certification's device-realism cases expect of a dimmable light: sequences
     * of directives then a ReportState, compared with a real bulb (interface:
     * https://developer.amazon.com/docs/device-apis/alexa-brightnesscontroller.html):
     * - TurnOn and TurnOff switch and keep the level; repeating one changes nothing.
     * - SetBrightness lights the lamp at that level (clamped at 100); 0 switches it off and keeps the
     *   level it had, so the next TurnOn restores it.
     * - AdjustBrightness on an on lamp changes the level, clamped at 100; reaching 0 or below switches
     *   it off and keeps the level it had before. On an off lamp it counts from 0: "brighter by 25"
     *   lights it at 25, "dimmer" leaves it off.
     */
    function planChange(state: LampState, change: LampChange): ChangePlan {
        const keep = { keep: true } as const;
        switch (change.kind) {
            case "power":
                return { powerState: change.powerState, level: keep };
            case "setBrightness":
                return change.brightness <= 0
                    ? { powerState: "OFF", level: keep }
                    : { powerState: "ON", level: { set: clampLevel(change.brightness) } };
            case "adjustBrightness": {
                const delta = change.delta;
                if (state.powerState === "OFF") {
                    const when = { powerState: "OFF" as const, minLevel: MIN_LEVEL, maxLevel: MAX_LEVEL };
                    return delta > 0 ? { when, powerState: "ON", level: { set: Math.min(MAX_LEVEL, delta) } } : { when, powerState: "OFF", level: keep };
                }
                const on = (minLevel: number, maxLevel: number) => ({ powerState: "ON" as const, minLevel, maxLevel });
                const level = state.brightness + delta;
                if (level < MIN_LEVEL) {
                    return { when: on(MIN_LEVEL, MIN_LEVEL - 1 - delta), powerState: "OFF", level: keep };
                }
                if (level > MAX_LEVEL) {
                    return { when: on(MAX_LEVEL + 1 - delta, MAX_LEVEL), powerState: "ON", level: { set: MAX_LEVEL } };
                }
                return { when: on(Math.max(MIN_LEVEL, MIN_LEVEL - delta), Math.min(MAX_LEVEL, MAX_LEVEL - delta)), powerState: "ON", level: { add: delta } };
            }
        }
    }

    /** The state a plan leaves on a lamp in `state` (which must be inside the plan's `when`). */
    function runPlan(plan: ChangePlan, state: LampState): LampState {
        const level = plan.level;
        const brightness = "set" in level ? level.set : "add" in level ? state.brightness + level.add : state.brightness;
        return { powerState: plan.powerState, brightness };
    }

    /** Whether a plan made for one lamp holds for a lamp in `state`. */
    function planHolds(plan: ChangePlan, state: LampState): boolean {
        const when = plan.when;
        return !when || (state.powerState === when.powerState && state.brightness >= when.minLevel && state.brightness <= when.maxLevel);
    }

    /** The state after `change`, from `state`. */
    function applyChange(state: LampState, change: LampChange): LampState {
        return runPlan(planChange(state, change), state);
    }

    /** The brightness the lamp reports: its level while on, 0 while off. */
    function reportedBrightness(state: LampState): number {
        return state.powerState === "ON" ? state.brightness : 0;
    }

    /**
     * The user's lamp's endpointId: stable per user and different for every user, so a token of one
     * user can never address another user's lamp. Derived one way from the token's `sub`.
     */
    function lampEndpointId(userId: string): string {
        return "smartlamp-" + createHash("sha256").update(userId).digest("hex").slice(0, 32);
    }

    const RETRIEVABLE = (name: string, proactivelyReported: boolean) => ({ supported: [{ name }], proactivelyReported, retrievable: true });

    /**
     * The user's lamp as Discover.Response lists it. `proactivelyReported`: the skill sends a
     * ChangeReport for every change Alexa did not make (events on, see handler/changeReport.ts).
     */
    function discoveryEndpoint(userId: string, proactivelyReported: boolean) {
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
    function lampProperties(state: LampState, now: Date): Property[] {
        const sample = { timeOfSample: timeOfSample(now), uncertaintyInMilliseconds: 50 };
        return [
            { namespace: "Alexa.PowerController", name: "powerState", value: state.powerState, ...sample },
            { namespace: "Alexa.BrightnessController", name: "brightness", value: reportedBrightness(state), ...sample },
            { namespace: "Alexa.EndpointHealth", name: "connectivity", value: { value: "OK" }, ...sample },
        ];
    }

    return { planChange, runPlan, planHolds, applyChange, reportedBrightness, lampEndpointId, discoveryEndpoint, lampProperties };
}

export const { planChange, runPlan, planHolds, applyChange, reportedBrightness, lampEndpointId, discoveryEndpoint, lampProperties } = lampRules();

// Exported here rather than at their declarations: uses inside this module then refer to the
// local constant, which Pulumi's closure serialization captures by value (not `exports.NAME`).
export { MIN_LEVEL, MAX_LEVEL, DEFAULT_LAMP, TYPICAL_LAMP };
