import { strict as assert } from "assert";
import { startSkillHarness, SkillHarness } from "./support/skillHarness";
import { directives, errorType, property } from "../local/directives";
import { alexaDataPresent, assertValidAlexaMessage } from "./support/alexaSchema";
import { applyChange, LampChange, LampState, planChange, planHolds, runPlan } from "../handler/lamp";

type User = ReturnType<SkillHarness["newUser"]>;
/** One directive of a sequence, and the power state and brightness its response must report. */
type Step = [string, (user: User) => unknown, "ON" | "OFF", number];

const on = (user: User) => directives.turnOn(user.token, user.endpointId);
const off = (user: User) => directives.turnOff(user.token, user.endpointId);
const set = (level: number) => (user: User) => directives.setBrightness(user.token, user.endpointId, level);
const adjust = (delta: number) => (user: User) => directives.adjustBrightness(user.token, user.endpointId, delta);

describe("the lamp as Alexa's device-realism checks expect it, directive by directive", () => {
    let skill: SkillHarness;
    before(async () => {
        skill = await startSkillHarness();
    });
    after(() => skill.stop());

    /**
     * Sends the steps to a new user's lamp through the handler, checks each response's power state
     * and brightness (and the schema, when Amazon's files are at hand), then a ReportState.
     */
    async function sequence(steps: Step[], final: { powerState: "ON" | "OFF"; brightness: number }) {
        const user = skill.newUser();
        const answer = async (event: unknown) => {
            const response: any = await skill.handle(event);
            if (alexaDataPresent) {
                assertValidAlexaMessage(response);
            }
            assert.equal(errorType(response), undefined, JSON.stringify(response.event.payload));
            return { powerState: property(response, "Alexa.PowerController", "powerState"), brightness: property(response, "Alexa.BrightnessController", "brightness") };
        };
        for (const [label, make, powerState, brightness] of steps) {
            assert.deepEqual(await answer(make(user)), { powerState, brightness }, label);
        }
        assert.deepEqual(await answer(directives.reportState(user.token, user.endpointId)), final, "ReportState");
    }

    it("reports brightness 0 while off and lights at the remembered level on TurnOn (on at 50, off, on: 50)", () =>
        sequence([["set 50", set(50), "ON", 50], ["off", off, "OFF", 0], ["on", on, "ON", 50]], { powerState: "ON", brightness: 50 }));

    it("reports an off lamp at brightness 0 to ReportState", () =>
        sequence([["set 70", set(70), "ON", 70], ["off", off, "OFF", 0]], { powerState: "OFF", brightness: 0 }));

    it("lights an off lamp at 25 when asked to be brighter by 25", () =>
        sequence([["set 80", set(80), "ON", 80], ["off", off, "OFF", 0], ["brighter by 25", adjust(25), "ON", 25]], { powerState: "ON", brightness: 25 }));

    it("leaves an off lamp off, keeping its level, when asked to be dimmer by 25", () =>
        sequence([["set 60", set(60), "ON", 60], ["off", off, "OFF", 0], ["dimmer by 25", adjust(-25), "OFF", 0], ["on", on, "ON", 60]], { powerState: "ON", brightness: 60 }));

    it("lights a new user's lamp at 25 when asked to be brighter by 25 (it starts off)", () =>
        sequence([["brighter by 25", adjust(25), "ON", 25]], { powerState: "ON", brightness: 25 }));

    it("switches off at SetBrightness 0, reports 0, and TurnOn restores the level before (on at 100, set 0, on: 100)", () =>
        sequence([["on", on, "ON", 100], ["set 0", set(0), "OFF", 0], ["on", on, "ON", 100]], { powerState: "ON", brightness: 100 }));

    it("switches off when an on lamp is dimmed to exactly 0, and TurnOn restores the level it had", () =>
        sequence([["set 40", set(40), "ON", 40], ["dimmer by 40", adjust(-40), "OFF", 0], ["on", on, "ON", 40]], { powerState: "ON", brightness: 40 }));

    it("switches off when an on lamp is dimmed below 0, and stays off at 0", () =>
        sequence([["set 30", set(30), "ON", 30], ["dimmer by 80", adjust(-80), "OFF", 0]], { powerState: "OFF", brightness: 0 }));

    it("changes nothing on a repeated TurnOn or TurnOff", () =>
        sequence([
            ["set 35", set(35), "ON", 35], ["on again", on, "ON", 35], ["off", off, "OFF", 0], ["off again", off, "OFF", 0], ["on", on, "ON", 35],
        ], { powerState: "ON", brightness: 35 }));

    // (A SetBrightness above 100 is not a level Alexa sends: it is answered VALUE_OUT_OF_RANGE, see skill.test.ts.)
    it("clamps levels at 100 when brightened past it, and dims from there", () =>
        sequence([["set 90", set(90), "ON", 90], ["brighter by 30", adjust(30), "ON", 100], ["brighter by 5", adjust(5), "ON", 100], ["dimmer by 10", adjust(-10), "ON", 90]],
            { powerState: "ON", brightness: 90 }));

    it("lights an off lamp at the level SetBrightness asks for", () =>
        sequence([["set 20", set(20), "ON", 20], ["off", off, "OFF", 0], ["set 55", set(55), "ON", 55]], { powerState: "ON", brightness: 55 }));
});

describe("the lamp's change plans", () => {
    const states: LampState[] = [];
    for (let level = 1; level <= 100; level++) {
        states.push({ powerState: "ON", brightness: level }, { powerState: "OFF", brightness: level });
    }
    const changes: LampChange[] = [{ kind: "power", powerState: "ON" }, { kind: "power", powerState: "OFF" }];
    for (let n = -100; n <= 100; n++) {
        changes.push({ kind: "adjustBrightness", delta: n });
        if (n >= 0) {
            changes.push({ kind: "setBrightness", brightness: n });
        }
    }

    it("hold for the lamp they were made for and give every lamp they hold for the same result as applyChange", () => {
        // What makes a store's one conditional write right under concurrency: a plan made from a
        // state read earlier is applied to whatever the lamp holds at write time, if it still holds.
        let checked = 0;
        for (const change of changes) {
            for (const state of states) {
                const plan = planChange(state, change);
                assert.ok(planHolds(plan, state), `${JSON.stringify(change)} on ${JSON.stringify(state)}`);
                for (const other of states) {
                    if (!planHolds(plan, other)) {
                        continue;
                    }
                    const result = runPlan(plan, other);
                    const expected = applyChange(other, change);
                    if (result.powerState !== expected.powerState || result.brightness !== expected.brightness || result.brightness < 1 || result.brightness > 100) {
                        assert.fail(`${JSON.stringify(change)} planned on ${JSON.stringify(state)}, run on ${JSON.stringify(other)}: ${JSON.stringify(result)}, not ${JSON.stringify(expected)}`);
                    }
                    checked++;
                }
            }
        }
        assert.ok(checked > changes.length * states.length);
    });
});
