import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lampEndpointId } from "../handler/lamp";
import { startSkillHarness, SkillHarness } from "./support/skillHarness";
import { ALEXA_DIR, alexaDataPresent, assertValidAlexaMessage, SAMPLE_REQUESTS, sampleDirective, skipWithoutAlexaData } from "./support/alexaSchema";
import { errorType } from "../local/directives";

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

describe("Amazon's schema missing", function () {
    this.timeout(60000);
    const root = path.resolve(__dirname, "..");
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "schema-missing-"));
        fs.writeFileSync(path.join(dir, "one.test.js"), "it('runs', () => {});\n");
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Mocha with this project's root hooks, run on one trivial test, in a fresh process. */
    function mocha(env: Record<string, string | undefined>) {
        const bin = path.join(root, "node_modules", "mocha", "bin", "mocha.js");
        const args = [bin, "--no-config", "-r", "ts-node/register/transpile-only", "-r", "test/support/schemaSummary.ts", path.join(dir, "one.test.js")];
        const childEnv: NodeJS.ProcessEnv = { ...process.env, CI: undefined, ALEXA_DIR: undefined, ...env };
        const run = spawnSync(process.execPath, args, { cwd: root, env: childEnv, encoding: "utf8" });
        return { status: run.status, output: run.stdout + run.stderr };
    }

    it("fails the run under CI=true, saying where the schema was looked for", () => {
        const nowhere = path.join(dir, "no-such-folder");
        const run = mocha({ CI: "true", ALEXA_DIR: nowhere });
        assert.notEqual(run.status, 0, run.output);
        assert.match(run.output, /CI=true/);
        assert.ok(run.output.includes(nowhere), run.output);
        assert.doesNotMatch(run.output, /1 passing/);
    });

    it("only skips outside CI (a user's fresh clone)", () => {
        const run = mocha({ ALEXA_DIR: path.join(dir, "no-such-folder") });
        assert.equal(run.status, 0, run.output);
        assert.match(run.output, /1 passing/);
    });

    it("does not stop a CI run that has the schema", function () {
        if (!alexaDataPresent) {
            this.skip();
        }
        const run = mocha({ CI: "true", ALEXA_DIR });
        assert.equal(run.status, 0, run.output);
    });
});
