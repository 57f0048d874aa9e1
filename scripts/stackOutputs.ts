// Reads stack outputs through the project's pinned Pulumi CLI (node_modules/.bin/pulumi), and
// turns its failures into a sentence that says what to run.
import { execFile } from "child_process";
import * as path from "path";

export type StackOutputs = Record<string, unknown>;

const CLI = process.env.PULUMI_CLI ?? path.resolve(__dirname, "..", "node_modules", ".bin", "pulumi");

function pulumi(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(CLI, args, { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
            if (err) {
                reject(new Error(explainCliFailure(String(stderr || err.message))));
            } else {
                resolve(stdout);
            }
        });
    });
}

/** The CLI's complaint, as the next step to take. */
export function explainCliFailure(stderr: string): string {
    if (/Downloading pulumi/i.test(stderr) && /fetch failed|ENOTFOUND|ECONNREFUSED|download/i.test(stderr)) {
        return "The Pulumi CLI could not be downloaded (the pinned `pulumi` npm package fetches it on first use): check the network, or point PULUMI_CLI at an installed pulumi binary.";
    }
    if (/no stack (is )?selected|no current stack/i.test(stderr)) {
        return "No Pulumi stack is selected: run `npx pulumi stack select dev` (or pass --stack <name>).";
    }
    if (/no stack named|stack .* not found/i.test(stderr)) {
        return "That stack does not exist: list yours with `npx pulumi stack ls`, or create and deploy it (README, Deploy).";
    }
    if (/passphrase/i.test(stderr)) {
        return "The stack's secrets need its passphrase: set PULUMI_CONFIG_PASSPHRASE (the one given at `pulumi stack init`).";
    }
    if (/not logged in|login/i.test(stderr)) {
        return "The Pulumi CLI is not logged in to a backend: run `npx pulumi login --local` (or your backend).";
    }
    return `The Pulumi CLI failed: ${stderr.trim().split("\n").slice(-3).join(" ")}`;
}

/** The outputs of `stack` (default: the selected stack), secrets shown. */
export async function readStackOutputs(stack?: string): Promise<StackOutputs> {
    const text = await pulumi(["stack", "output", "--json", "--show-secrets", ...(stack ? ["--stack", stack] : [])]);
    const outputs = JSON.parse(text || "{}") as StackOutputs;
    if (Object.keys(outputs).length === 0) {
        throw new Error(`The stack${stack ? ` ${stack}` : ""} has no outputs yet: deploy it with \`npx pulumi up\`${stack ? ` --stack ${stack}` : ""} first.`);
    }
    return outputs;
}

/** The names of this project's stacks. */
export async function listStacks(): Promise<string[]> {
    const stacks = JSON.parse(await pulumi(["stack", "ls", "--json"])) as { name: string }[];
    return stacks.map((s) => s.name);
}

/** `--stack <name>` from the command line, if given. */
export function stackArgument(argv: string[]): string | undefined {
    const at = argv.indexOf("--stack");
    return at >= 0 ? argv[at + 1] : undefined;
}

/**
 * The stack's config values without the project prefix (secrets shown: they stay in this process),
 * from `pulumi config --json --show-secrets`, which prints `{"<project>:<key>": {"value": ..., "secret": ...}}`.
 */
export async function readStackConfig(stack?: string): Promise<Record<string, string | undefined>> {
    const text = await pulumi(["config", "--json", "--show-secrets", ...(stack ? ["--stack", stack] : [])]);
    const entries = JSON.parse(text || "{}") as Record<string, { value?: unknown }>;
    const config: Record<string, string | undefined> = {};
    for (const [key, entry] of Object.entries(entries)) {
        const name = key.includes(":") ? key.slice(key.indexOf(":") + 1) : key;
        if (!key.startsWith("aws:")) {
            config[name] = typeof entry?.value === "string" ? entry.value : entry?.value === undefined ? undefined : JSON.stringify(entry.value);
        }
    }
    return config;
}
