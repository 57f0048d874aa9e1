// The engine preflight: what `pulumi preview` / `pulumi up` check before the program runs, applied
// to Pulumi.yaml, to every shipped Pulumi.<stack>.yaml and to exactly the commands README.md tells
// a user to run on it; then the program itself runs (under the mocks) with what the engine hands
// over. Pulumi's mocks skip the engine, so without this a stack nobody can deploy passes every test.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { applyConfigCommand, EngineRefusal, loadProject, loadStackConfig, mergeAndValidate, programConfig, Project, StackConfig } from "../local/pulumiEngine";
import { PROJECT, runProgram } from "../local/pulumiProgram";
import { pulumiCommands, readmeCommands } from "./support/readmeCommands";

const ROOT = path.resolve(__dirname, "..");
const SHIPPED_STACKS = fs.readdirSync(ROOT).filter((file) => /^Pulumi\..+\.yaml$/.test(file)).map((file) => file.slice("Pulumi.".length, -".yaml".length));

/** The stack's file with `commands` applied, as the engine hands it to the program (throws its refusal). */
function configFor(project: Project, stack: string, commands: string[][]): StackConfig {
    const config = loadStackConfig(path.join(ROOT, `Pulumi.${stack}.yaml`));
    for (const command of commands) {
        applyConfigCommand(config, project.name, command);
    }
    return mergeAndValidate(project, stack, config);
}

/** Runs the program under the mocks with the config the engine hands over; resolves to the config error, if any. */
async function programProblems(stack: string, config: StackConfig): Promise<string | undefined> {
    const given = programConfig(config);
    const secretKeys = [...config.entries()].filter(([, value]) => value.secure).map(([key]) => key);
    try {
        await runProgram(given, stack, { secretKeys });
        return undefined;
    } catch (err) {
        return String((err as { cause?: unknown }).cause ?? err);
    }
}

describe("the engine preflight", function () {
    this.timeout(120000);
    const project = loadProject(path.join(ROOT, "Pulumi.yaml"));
    const readme = readmeCommands();

    it("finds the stacks this project ships and the README's steps for each", () => {
        assert.deepEqual([...SHIPPED_STACKS].sort(), ["dev", "dev-eu", "dev-fe"]);
        for (const stack of SHIPPED_STACKS) {
            assert.ok((readme.steps.get(stack) ?? []).length > 0, `the README gives no config steps for stack ${stack}`);
        }
    });

    it("accepts Pulumi.yaml: every default has its declared type, every list its item type", () => {
        assert.equal(project.name, PROJECT);
        for (const [key, declared] of Object.entries(project.config)) {
            assert.ok(declared.type !== undefined, `${key} declares no type, so the engine checks nothing`);
            assert.ok(declared.description, `${key} has no description for \`pulumi config\``);
        }
    });

    for (const stack of SHIPPED_STACKS) {
        it(`accepts stack ${stack} with exactly the README's steps, and the program then deploys it`, async () => {
            const config = configFor(project, stack, readme.steps.get(stack) ?? []);
            assert.equal(await programProblems(stack, config), undefined);
        });

        it(`refuses stack ${stack} without the README's steps, naming the missing key`, () => {
            assert.throws(() => configFor(project, stack, []), (err: Error) =>
                err instanceof EngineRefusal && err.message === `Stack '${stack}' is missing configuration value 'alexaSkillId'`);
        });
    }

    it("accepts every config example of the README on the primary stack, and the program deploys it", async () => {
        assert.ok(readme.examples.length >= 4, `only ${readme.examples.length} examples found`);
        for (const example of readme.examples) {
            const config = configFor(project, "dev", [...(readme.steps.get("dev") ?? []), ...example]);
            assert.equal(await programProblems("dev", config), undefined, `pulumi ${example.map((c) => c.join(" ")).join(" && pulumi ")}`);
        }
    });

    it("accepts each `# or instead:` command of the README in place of the step it stands for", async () => {
        assert.ok(readme.alternatives.length >= 1, "no alternative found");
        for (const { stack, replaces, command } of readme.alternatives) {
            const steps = [...(readme.steps.get(stack) ?? [])];
            steps[replaces] = command;
            assert.equal(await programProblems(stack, configFor(project, stack, steps)), undefined, `pulumi ${command.join(" ")}`);
        }
    });

    it("refuses a list set entry by entry from index 1, as the README warns", () => {
        const steps = readme.steps.get("dev") ?? [];
        assert.throws(() => configFor(project, "dev", [...steps, ...pulumiCommands("pulumi config set --path 'scopes[1]' email")]),
            (err: Error) => err instanceof EngineRefusal && err.message === "Stack 'dev' with configuration key 'scopes' must be of type 'array<string>'");
        const fromZero = configFor(project, "dev", [...steps, ...pulumiCommands("pulumi config set-all --path --plaintext 'scopes[0]=openid' --plaintext 'scopes[1]=email'")]);
        assert.equal(fromZero.get(`${PROJECT}:scopes`)?.text, '["openid","email"]');
    });

    it("pins the pulumi launcher (the CLI that `npx pulumi` runs) at a version not older than the @pulumi/pulumi SDK", () => {
        const declared = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        const pin = declared.devDependencies.pulumi as string;
        assert.match(pin, /^\d+\.\d+\.\d+$/, "the launcher must be pinned to one version");
        const version = (name: string) => (JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), "utf8")).version as string).split(".").map(Number);
        const [cli, sdk] = [version("pulumi"), version("@pulumi/pulumi")];
        const order = cli.map((part, i) => part - sdk[i]).find((difference) => difference !== 0) ?? 0;
        assert.ok(order >= 0, `launcher ${cli.join(".")} is older than @pulumi/pulumi ${sdk.join(".")}`);
    });

    it("models the CLI's --path writes: a new list is padded, an existing one refuses a gap, leading zeros stay text", () => {
        const stack: StackConfig = new Map();
        applyConfigCommand(stack, PROJECT, pulumiCommands("pulumi config set --path 'extraCallbackUrls[1]' https://b.example.com")[0]);
        assert.equal(stack.get(`${PROJECT}:extraCallbackUrls`)?.text, '[null,"https://b.example.com"]');
        applyConfigCommand(stack, PROJECT, pulumiCommands("pulumi config set --path 'extraCallbackUrls[2]' https://c.example.com")[0]);
        assert.throws(() => applyConfigCommand(stack, PROJECT, pulumiCommands("pulumi config set --path 'extraCallbackUrls[4]' x")[0]), /index out of range/);
        applyConfigCommand(stack, PROJECT, pulumiCommands("pulumi config set --path 'limits.a' 0123")[0]);
        applyConfigCommand(stack, PROJECT, pulumiCommands("pulumi config set --path 'limits.b' 123")[0]);
        assert.deepEqual(JSON.parse(stack.get(`${PROJECT}:limits`)!.text), { a: "0123", b: 123 });
    });

    it("names every missing key in the engine's own words", () => {
        const bare: Project = { name: PROJECT, config: { ...project.config, domainPrefix: { type: "string" }, customDomain: { type: "string" } } };
        assert.throws(() => mergeAndValidate(bare, "dev", new Map()), (err: Error) =>
            err.message === "Stack 'dev' is missing configuration values 'alexaSkillId', 'customDomain' and 'domainPrefix'");
    });

    it("refuses a secret key stored in plain text, and a default that is not of its type", () => {
        const secret: Project = { name: PROJECT, config: { token: { type: "string", default: "" , secret: true } } };
        assert.throws(() => mergeAndValidate(secret, "dev", new Map()), /'token' must be encrypted as it's secret/);
        const file = path.join(fs.mkdtempSync(path.join(require("os").tmpdir(), "project-")), "Pulumi.yaml");
        fs.writeFileSync(file, `name: ${PROJECT}\nconfig:\n  days:\n    type: integer\n    default: soon\n`);
        assert.throws(() => loadProject(file), /default value specified for configuration key 'days' is not of the expected type 'integer'/);
    });
});
