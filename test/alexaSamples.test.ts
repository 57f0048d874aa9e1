import { strict as assert } from "assert";
import { lampEndpointId } from "../handler/lamp";
import { startSkillHarness, SkillHarness } from "./support/skillHarness";
import { assertValidAlexaMessage, SAMPLE_REQUESTS, sampleDirective, skipWithoutAlexaData } from "./support/alexaSchema";
import { errorType } from "./support/directives";

/** Amazon's sample directive with its placeholder token replaced by `token`, addressed to `endpointId`. */
function fromSample(name: keyof typeof SAMPLE_REQUESTS, token: string, endpointId: string): any {
    const event = sampleDirective(SAMPLE_REQUESTS[name]);
    const { directive } = event;
    const scope = directive.payload.scope ?? directive.payload.grantee ?? directive.endpoint.scope;
    assert.equal(scope.token, "access-token-from-skill", "the sample's placeholder token moved");
    scope.token = token;
    if (directive.endpoint) {
        directive.endpoint.endpointId = endpointId;
    }
    return event;
}

describe("Amazon's sample directives", function () {
    let skill: SkillHarness;
    before(async function () {
        skipWithoutAlexaData(this);
        skill = await startSkillHarness();
    });
    after(() => skill?.stop());

    for (const name of Object.keys(SAMPLE_REQUESTS) as (keyof typeof SAMPLE_REQUESTS)[]) {
        it(`answers the sample ${name} directive with a response that validates against Amazon's schema`, async () => {
            const user = skill.newUser();
            const response = await skill.handle(fromSample(name, user.token, user.endpointId));
            assertValidAlexaMessage(response);
            assert.equal(errorType(response), undefined, JSON.stringify(response.event.payload));
        });
    }

    it("answers every sample with an invalid token, or for another user's endpoint, with a valid error", async () => {
        const user = skill.newUser();
        for (const name of Object.keys(SAMPLE_REQUESTS) as (keyof typeof SAMPLE_REQUESTS)[]) {
            const invalid = await skill.handle(fromSample(name, "x" + user.token, user.endpointId));
            assertValidAlexaMessage(invalid);
            assert.ok(["INVALID_AUTHORIZATION_CREDENTIAL", "ACCEPT_GRANT_FAILED"].includes((invalid as any).event.payload.type), name);
            const foreign = await skill.handle(fromSample(name, user.token, lampEndpointId("someone-else")));
            assertValidAlexaMessage(foreign);
        }
    });
});
