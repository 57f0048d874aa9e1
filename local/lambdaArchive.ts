// The skill function exactly as the stack would upload it: the CallbackFunction's archive written
// to a folder, and run by a fresh Node process that sees only what Lambda's Node.js runtime has
// besides the archive (the AWS SDK), so a package missing from the archive shows.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

const ROOT = path.resolve(__dirname, "..");

export interface MaterialisedArchive {
    dir: string;
    /** The archive's top-level entries: `__index.js` and `node_modules/<package>` folders. */
    entries: string[];
}

/** The top-level entries of a recorded `code` input (an AssetArchive), sorted. */
export async function archiveEntries(code: pulumi.asset.AssetArchive): Promise<string[]> {
    return Object.keys(await code.assets).sort();
}

/** Writes a recorded `code` input (an AssetArchive) to a new temporary folder. */
export async function materialiseArchive(code: pulumi.asset.AssetArchive): Promise<MaterialisedArchive> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "skill-archive-"));
    const assets = (await code.assets) as Record<string, any>;
    for (const [entry, asset] of Object.entries(assets)) {
        const target = path.join(dir, entry);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        if (asset.text !== undefined) {
            fs.writeFileSync(target, await asset.text);
        } else if (asset.path !== undefined) {
            fs.cpSync(path.resolve(ROOT, await asset.path), target, { recursive: true, dereference: true });
        } else {
            throw new Error(`unexpected asset kind at ${entry}`);
        }
    }
    return { dir, entries: await archiveEntries(code) };
}

/**
 * A folder holding what Lambda's Node.js 24 runtime offers on its module path: the AWS SDK's
 * DynamoDB client and the packages it needs, linked from this project's node_modules.
 */
export function lambdaRuntimeModules(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lambda-runtime-"));
    const seen = new Set<string>();
    const visit = (name: string) => {
        if (seen.has(name)) {
            return;
        }
        seen.add(name);
        const source = path.join(ROOT, "node_modules", name);
        const manifest = JSON.parse(fs.readFileSync(path.join(source, "package.json"), "utf8"));
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.symlinkSync(source, path.join(dir, name), "dir");
        for (const dependency of Object.keys(manifest.dependencies ?? {})) {
            visit(dependency);
        }
    };
    visit("@aws-sdk/client-dynamodb");
    return dir;
}

/**
 * Loads the archive's `__index.js` in a new Node process as Lambda does, builds the handler with
 * `env`, sends `events` one after the other, and returns the responses and what it wrote to stdout.
 */
export async function invokeArchive(archive: MaterialisedArchive, runtimeModules: string, env: Record<string, string>, events: unknown[]): Promise<{ responses: any[]; stdout: string }> {
    const results = path.join(archive.dir, "..", path.basename(archive.dir) + "-responses.json");
    const script = `
        const { handler } = require(${JSON.stringify(path.join(archive.dir, "__index.js"))});
        // What nodejs24.x's runtime checks when it loads the handler: a function, and not one that
        // takes a third (callback) argument, which it refuses at init
        // (aws-lambda-nodejs-runtime-interface-client #137, "Runtime.CallbackHandlerDeprecated").
        if (typeof handler !== "function") { console.error("Runtime.HandlerNotFound: __index.handler is not a function"); process.exit(3); }
        if (handler.length >= 3) { console.error("Runtime.CallbackHandlerDeprecated: the handler takes a callback (" + handler.length + " parameters)"); process.exit(3); }
        (async () => {
            const responses = [];
            // Lambda's context, as far as the handlers read it: the time left (the function's timeout).
            const context = { getRemainingTimeInMillis: () => 60000 };
            // Called with (event, context) only, the result awaited: no callback is offered.
            for (const event of JSON.parse(process.env.EVENTS)) responses.push(await handler(event, context));
            require("fs").writeFileSync(process.env.RESULTS, JSON.stringify(responses));
            process.exit(0);
        })().catch((e) => { console.error(e.stack); process.exit(1); });`;
    // Asynchronous: the child talks to servers (dynalite) that run in this very process.
    const child = spawn(process.execPath, ["-e", script], {
        cwd: archive.dir,
        env: { PATH: process.env.PATH ?? "", NODE_PATH: runtimeModules, EVENTS: JSON.stringify(events), RESULTS: results, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    if (status !== 0) {
        throw new Error(`the archive's handler failed (exit ${status}): ${stderr}`);
    }
    return { responses: JSON.parse(fs.readFileSync(results, "utf8")), stdout };
}
