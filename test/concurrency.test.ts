import { strict as assert } from "assert";
import { startSkillHarness, SkillHarness } from "./support/skillHarness";
import { directives, errorType, property } from "../local/directives";

const brightness = (response: unknown) => property(response, "Alexa.BrightnessController", "brightness") as number;

describe("concurrent directives", function () {
    this.timeout(60000);
    let skill: SkillHarness;
    before(async () => {
        skill = await startSkillHarness();
    });
    after(() => skill.stop());

    it("applies 200 concurrent AdjustBrightness(+1) for one user exactly, up to the clamp", async () => {
        const user = skill.newUser();
        await skill.handle(directives.setBrightness(user.token, user.endpointId, 1));
        const answers = await Promise.all(Array.from({ length: 200 }, () => skill.handle(directives.adjustBrightness(user.token, user.endpointId, 1))));
        assert.ok(answers.every((a) => errorType(a) === undefined));
        const levels = answers.map(brightness).sort((a, b) => a - b);
        // 99 steps fit between 1 and 100: each saw a level of its own (none lost); the rest clamp.
        assert.deepEqual(levels.slice(0, 99), Array.from({ length: 99 }, (_, i) => i + 2));
        assert.ok(levels.slice(99).every((level) => level === 100));
        assert.equal(brightness(await skill.handle(directives.reportState(user.token, user.endpointId))), 100);
    });

    it("applies 100 concurrent steps up and 100 down from the middle without losing one", async () => {
        const user = skill.newUser();
        await skill.handle(directives.setBrightness(user.token, user.endpointId, 50));
        // +1/-1 alternate, so the level never reaches a limit and every step must count.
        const answers = await Promise.all(Array.from({ length: 200 }, (_, i) =>
            skill.handle(directives.adjustBrightness(user.token, user.endpointId, i % 2 === 0 ? 1 : -1))));
        assert.ok(answers.every((a) => errorType(a) === undefined));
        assert.equal(brightness(await skill.handle(directives.reportState(user.token, user.endpointId))), 50);
    });

    it("keeps 50 users working in parallel apart: each sees only their own state", async () => {
        const users = Array.from({ length: 50 }, () => skill.newUser());
        await Promise.all(users.map((user, i) => skill.handle(directives.setBrightness(user.token, user.endpointId, i + 1))));
        const rounds = await Promise.all(users.map(async (user, i) => {
            const adjusted = await skill.handle(directives.adjustBrightness(user.token, user.endpointId, 10));
            const reported = await skill.handle(directives.reportState(user.token, user.endpointId));
            const discovered: any = await skill.handle(directives.discover(user.token));
            return { i, adjusted, reported, endpointId: discovered.event.payload.endpoints[0].endpointId };
        }));
        for (const { i, adjusted, reported, endpointId } of rounds) {
            assert.equal(brightness(adjusted), i + 11);
            assert.equal(brightness(reported), i + 11);
            assert.equal(endpointId, users[i].endpointId);
        }
        assert.equal(new Set(rounds.map((r) => r.endpointId)).size, 50);
    });
});
