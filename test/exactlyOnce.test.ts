import { strict as assert } from "assert";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { startSkillHarness, SkillHarness } from "./support/skillHarness";
import { directives, errorType, property } from "../local/directives";
import { alexaDataPresent, assertValidAlexaMessage } from "./support/alexaSchema";

const power = (response: unknown) => property(response, "Alexa.PowerController", "powerState");
const brightness = (response: unknown) => property(response, "Alexa.BrightnessController", "brightness") as number;

describe("every directive applied exactly once", function () {
    this.timeout(60000);
    let skill: SkillHarness;
    before(async () => {
        skill = await startSkillHarness();
    });
    after(() => skill.stop());

    /** The skill's answer, checked against Amazon's schema when it is at hand. */
    async function answer(event: unknown): Promise<any> {
        const response = await skill.handle(event);
        if (alexaDataPresent) {
            assertValidAlexaMessage(response);
        }
        return response;
    }

    const requests = (operation: string) => skill.dynamo.requests.get(operation) ?? 0;

    it("applies a change once when DynamoDB applied it and its answer was lost: the retry answers with the state it produced", async () => {
        const user = skill.newUser();
        await answer(directives.setBrightness(user.token, user.endpointId, 50));
        skill.dynamo.loseAnswers(1);
        const updates = requests("UpdateItem");
        const response = await answer(directives.adjustBrightness(user.token, user.endpointId, 10));
        // The write reached dynalite twice: applied, its answer cut, then sent again by the client.
        assert.equal(requests("UpdateItem") - updates, 2);
        assert.equal(errorType(response), undefined);
        assert.equal(brightness(response), 60);
        assert.equal(brightness(await answer(directives.reportState(user.token, user.endpointId))), 60);
    });

    it("applies a new user's first change once when the answer of the write that created the lamp was lost", async () => {
        const user = skill.newUser();
        skill.dynamo.loseAnswers(1);
        const response = await answer(directives.adjustBrightness(user.token, user.endpointId, 25));
        assert.equal(errorType(response), undefined);
        assert.deepEqual([power(response), brightness(response)], ["ON", 25]);
        const report = await answer(directives.reportState(user.token, user.endpointId));
        assert.deepEqual([power(report), brightness(report)], ["ON", 25]);
    });

    it("answers a directive repeated with the same messageId with the state it produced first, and changes nothing", async () => {
        const user = skill.newUser();
        await answer(directives.setBrightness(user.token, user.endpointId, 50));
        const brighter = directives.adjustBrightness(user.token, user.endpointId, 10);
        assert.equal(brightness(await answer(brighter)), 60);
        assert.equal(power(await answer(directives.turnOff(user.token, user.endpointId))), "OFF");
        const repeated = await answer(brighter);
        assert.deepEqual([power(repeated), brightness(repeated)], ["ON", 60]);
        assert.notEqual(repeated.event.header.messageId, brighter.directive.header.messageId);
        const report = await answer(directives.reportState(user.token, user.endpointId));
        assert.deepEqual([power(report), brightness(report)], ["OFF", 0]);
    });

    it("still recognises a directive repeated after 16 other changes of the same lamp", async () => {
        const user = skill.newUser();
        await answer(directives.setBrightness(user.token, user.endpointId, 10));
        const first = directives.adjustBrightness(user.token, user.endpointId, 5);
        assert.equal(brightness(await answer(first)), 15);
        for (let i = 0; i < 16; i++) {
            await answer(directives.adjustBrightness(user.token, user.endpointId, 1));
        }
        assert.equal(brightness(await answer(first)), 15);
        assert.equal(brightness(await answer(directives.reportState(user.token, user.endpointId))), 31);
    });

    it("keeps at most 32 change keys in a lamp's item, however many changes it had", async () => {
        const user = skill.newUser();
        for (let i = 0; i < 100; i++) {
            await answer(i % 2 === 0 ? directives.turnOn(user.token, user.endpointId) : directives.turnOff(user.token, user.endpointId));
        }
        const { Item } = await skill.dynamo.client.send(new GetItemCommand({ TableName: skill.tableName, Key: { userId: { S: user.sub } }, ConsistentRead: true }));
        const keys = Object.keys(Item?.changes?.M ?? {}).length + Object.keys(Item?.older?.M ?? {}).length;
        assert.ok(keys >= 16 && keys <= 32, `${keys} keys`);
    });

    it("costs one DynamoDB request per directive on an existing lamp (counted at the server)", async () => {
        const user = skill.newUser();
        await answer(directives.turnOff(user.token, user.endpointId));
        for (const event of [
            directives.turnOn(user.token, user.endpointId),
            directives.setBrightness(user.token, user.endpointId, 40),
            directives.adjustBrightness(user.token, user.endpointId, -15),
            directives.adjustBrightness(user.token, user.endpointId, 20),
            directives.turnOff(user.token, user.endpointId),
            directives.setBrightness(user.token, user.endpointId, 0),
            directives.reportState(user.token, user.endpointId),
        ]) {
            const before = requests("UpdateItem") + requests("GetItem");
            assert.equal(errorType(await answer(event)), undefined);
            assert.equal(requests("UpdateItem") + requests("GetItem") - before, 1, event.directive.header.name);
        }
    });

    it("applies each of 40 concurrent changes exactly once while a quarter of the answers are lost", async () => {
        const user = skill.newUser();
        await answer(directives.setBrightness(user.token, user.endpointId, 1));
        skill.dynamo.loseAnswers(10);
        const answers = await Promise.all(Array.from({ length: 40 }, () => answer(directives.adjustBrightness(user.token, user.endpointId, 1))));
        assert.ok(answers.every((a) => errorType(a) === undefined), answers.map(errorType).join());
        // Each answer is the level its own change produced: 2..41, each once.
        assert.deepEqual(answers.map(brightness).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 2));
        assert.equal(brightness(await answer(directives.reportState(user.token, user.endpointId))), 41);
    });

    it("lets another caller of the store pass its own idempotency key: the same key changes the lamp once", async () => {
        const user = skill.newUser();
        await skill.store.change(user.sub, { kind: "setBrightness", brightness: 30 }, "api:request-1");
        const first = await skill.store.change(user.sub, { kind: "adjustBrightness", delta: 20 }, "api:request-2");
        const again = await skill.store.change(user.sub, { kind: "adjustBrightness", delta: 20 }, "api:request-2");
        assert.deepEqual(first, { powerState: "ON", brightness: 50 });
        assert.deepEqual(again, first);
        assert.deepEqual(await skill.store.read(user.sub), { powerState: "ON", brightness: 50 });
        const other = await skill.store.change(user.sub, { kind: "adjustBrightness", delta: 20 }, "api:request-3");
        assert.deepEqual(other, { powerState: "ON", brightness: 70 });
    });
});
