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

export interface ArchiveContainer {
    /** Runs one event (one at a time, as a Lambda container does) and resolves with the handler's answer. */
    invoke(event: unknown): Promise<any>;
    /** Everything the function wrote to stdout so far. */
    stdout(): string;
    /** False once the process ended (it crashed, timed out or was stopped): Lambda would start another. */
    alive(): boolean;
    stop(): Promise<void>;
}

/**
 * A warm Lambda container for an archive: a Node process that loads `__index.js` as Lambda's
 * nodejs24.x runtime does and answers events one after the other with the same handler, so the
 * handler's container state (verifier, clients, caches) lives on between them. `onLine` hears each
 * line the function writes to stdout. A handler the runtime would refuse fails the start.
 */
export async function startArchiveContainer(archive: MaterialisedArchive, runtimeModules: string, env: Record<string, string>,
    options: { timeoutMs?: number; onLine?: (line: string, stream: "stdout" | "stderr") => void } = {}): Promise<ArchiveContainer> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const script = `
        const { handler } = require(${JSON.stringify(path.join(archive.dir, "__index.js"))});
        // What nodejs24.x's runtime checks when it loads the handler: a function, and not one that
        // takes a third (callback) argument, which it refuses at init
        // (aws-lambda-nodejs-runtime-interface-client #137, "Runtime.CallbackHandlerDeprecated").
        if (typeof handler !== "function") { console.error("Runtime.HandlerNotFound: __index.handler is not a function"); process.exit(3); }
        if (handler.length >= 3) { console.error("Runtime.CallbackHandlerDeprecated: the handler takes a callback (" + handler.length + " parameters)"); process.exit(3); }
        process.on("disconnect", () => process.exit(0));
        process.on("message", async ({ id, event }) => {
            // Lambda's context, as far as the handlers read it: the time left before the function's timeout.
            const deadline = Date.now() + ${timeoutMs};
            const context = { getRemainingTimeInMillis: () => deadline - Date.now() };
            try {
                // Called with (event, context) only, the result awaited: no callback is offered.
                process.send({ id, ok: true, result: await handler(event, context) });
            } catch (e) {
                process.send({ id, ok: false, error: String(e && e.stack || e) });
            }
        });
        process.send({ ready: true });`;
    // Asynchronous: the child talks to servers (dynalite) that run in this very process.
    const child = spawn(process.execPath, ["-e", script], {
        cwd: archive.dir,
        env: { PATH: process.env.PATH ?? "", NODE_PATH: runtimeModules, ...env },
        stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let stdout = "";
    let stderr = "";
    const partial = { stdout: "", stderr: "" };
    const lines = (stream: "stdout" | "stderr", chunk: Buffer) => {
        const parts = (partial[stream] + chunk).split("\n");
        partial[stream] = parts.pop() ?? "";
        parts.forEach((line) => options.onLine?.(line, stream));
    };
    child.stdout!.on("data", (chunk: Buffer) => {
        stdout += chunk;
        lines("stdout", chunk);
    });
    child.stderr!.on("data", (chunk: Buffer) => {
        stderr += chunk;
        lines("stderr", chunk);
    });
    const pending = new Map<number, { resolve: (value: any) => void; reject: (err: Error) => void }>();
    let exited: Error | undefined;
    child.on("message", (message: { id?: number; ok?: boolean; result?: unknown; error?: string; ready?: boolean }) => {
        const waiting = message.id === undefined ? undefined : pending.get(message.id);
        if (waiting) {
            pending.delete(message.id!);
            if (message.ok) {
                waiting.resolve(message.result);
            } else {
                waiting.reject(new Error(`the archive's handler failed: ${message.error}`));
            }
        }
    });
    const ready = new Promise<void>((resolve, reject) => {
        child.on("message", (message: { ready?: boolean }) => message.ready && resolve());
        child.on("exit", (code) => {
            exited ??= new Error(`the archive's container stopped (exit ${code}): ${stderr}`);
            reject(exited);
            for (const waiting of pending.values()) {
                waiting.reject(exited);
            }
            pending.clear();
        });
    });
    await ready;
    let next = 0;
    let queue: Promise<unknown> = Promise.resolve();
    return {
        invoke(event) {
            const run = queue.then(() => new Promise<any>((resolve, reject) => {
                if (exited) {
                    return reject(exited);
                }
                const id = next++;
                // Lambda ends an invocation at the function's timeout, and the container with it.
                const timer = setTimeout(() => {
                    pending.delete(id);
                    exited = new Error("the archive's container stopped: an invocation timed out");
                    reject(new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`));
                    child.kill("SIGKILL");
                }, timeoutMs);
                pending.set(id, {
                    resolve: (value) => (clearTimeout(timer), resolve(value)),
                    reject: (err) => (clearTimeout(timer), reject(err)),
                });
                child.send({ id, event });
            }));
            queue = run.catch(() => undefined);
            return run;
        },
        stdout: () => stdout,
        alive: () => exited === undefined,
        // Resolves once the process has ended and its output is read to the end. (Not the child's
        // "close" event: with an IPC channel that was disconnected, Node does not always emit it.)
        stop: async () => {
            const ended = (stream: NodeJS.ReadableStream & { readableEnded?: boolean; closed?: boolean }) =>
                stream.closed ? Promise.resolve() : new Promise<void>((resolve) => stream.once("close", () => resolve()));
            const gone = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once("exit", () => resolve()));
            if (child.connected) {
                child.disconnect();
            }
            await Promise.all([gone, ended(child.stdout!), ended(child.stderr!)]);
        },
    };
}

/**
 * Loads the archive's `__index.js` in a new Node process as Lambda does (a container of its own),
 * sends `events` one after the other, and returns the responses and what it wrote to stdout.
 */
export async function invokeArchive(archive: MaterialisedArchive, runtimeModules: string, env: Record<string, string>, events: unknown[]): Promise<{ responses: any[]; stdout: string }> {
    const container = await startArchiveContainer(archive, runtimeModules, env);
    const responses = [];
    try {
        for (const event of events) {
            responses.push(await container.invoke(event));
        }
    } finally {
        // Its output arrives apart from its answers: read it to the end first.
        await container.stop();
    }
    return { responses, stdout: container.stdout() };
}
