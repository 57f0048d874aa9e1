// The Pulumi commands README.md tells a user to run, read from the README itself so that the
// engine preflight checks what users really type. Shell blocks are steps, in order, each for the
// stack last named by `pulumi stack init|select`; an inline `npx pulumi config ...` span is an
// example a user may add to the primary stack (a mention without `npx` is prose, not a command).
// A line `# or instead: npx pulumi config ...` in a block is an alternative to the step before it.
// Placeholders such as <uuid> get sample values.
import * as fs from "fs";
import * as path from "path";
import { shellWords } from "../../local/pulumiEngine";

export const README = path.resolve(__dirname, "../../README.md");

/** What each placeholder of the README stands for, as a user would fill it in. */
const PLACEHOLDERS: Record<string, string> = {
    "<uuid>": "0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90",
    "<vendor id>": "M2AAAAAAAAAAAA",
    "<organization>": "organization",
    "<account>": "123456789012",
    "<certificate id>": "0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90",
    "<new prefix>": "smartlamp-login-2",
    // A regional AWS WAF web ACL (its ARN ends in /webacl/<name>/<id>).
    "<name>": "login-guard",
    "<id>": "0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90",
    // A Login with Amazon security profile and the refresh token `ask util generate-lwa-tokens` prints.
    "<Client ID>": "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef",
    "<Client Secret>": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2",
    "<refresh_token>": "Atzr|IwEBIExampleRefreshToken",
    // The skill's Alexa Client Id (its last part) and Secret from the console's Permissions page.
    "<32 hex digits>": "0123456789abcdef0123456789abcdef",
    "<Alexa Client Secret>": "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f",
};

/** What `$(npx pulumi stack output NAME --stack dev)` gives on a deployed primary stack. */
const PRIMARY_STACK_OUTPUTS: Record<string, string> = {
    userPoolId: "us-east-1_AbCdEf123",
    clientId: "4example5client6id7alexa89",
    authorizationUri: "https://smartlamp-dev-0123456789.auth.us-east-1.amazoncognito.com/oauth2/authorize",
};

export interface ReadmeCommands {
    /** `pulumi config ...` words (after `pulumi`), per stack, in the README's order. */
    steps: Map<string, string[][]>;
    /** Inline examples: each one or more `pulumi config ...` commands. */
    examples: string[][][];
    /** `# or instead:` lines: a command a user may run in place of the stack's step at `replaces`. */
    alternatives: { stack: string; replaces: number; command: string[] }[];
}

function fillPlaceholders(word: string): string {
    // A primary's output read by command substitution, as the region steps do.
    const substituted = word.replace(/\$\((?:npx )?pulumi stack output (\w+) --stack [\w.-]+\)/g, (_, name: string) => {
        const value = PRIMARY_STACK_OUTPUTS[name];
        if (value === undefined) {
            throw new Error(`README reads the primary's output ${name}, which test/support/readmeCommands.ts has no sample for`);
        }
        return value;
    });
    // A placeholder is a few words in angle brackets; "Name <a@example.com>" is not one.
    return substituted.replace(/<[A-Za-z0-9 _]+>/g, (placeholder) => {
        const value = PLACEHOLDERS[placeholder];
        if (value === undefined) {
            throw new Error(`README placeholder ${placeholder} has no sample value in test/support/readmeCommands.ts`);
        }
        return value;
    });
}

/** The `pulumi ...` commands of a shell snippet, as words after `pulumi`, placeholders filled. */
export function pulumiCommands(snippet: string): string[][] {
    const lines = snippet.replace(/\\\n/g, " ").split("\n").map((line) => line.replace(/(^|\s)#.*$/, ""));
    const commands: string[][] = [];
    for (const line of lines) {
        for (const part of line.split("&&")) {
            const words = shellWords(part.trim());
            const at = words.indexOf("pulumi");
            if (at >= 0 && (at === 0 || (at === 1 && words[0] === "npx"))) {
                commands.push(shellWords(fillPlaceholders(part.trim())).slice(at + 1));
            }
        }
    }
    return commands;
}

export function readmeCommands(text = fs.readFileSync(README, "utf8")): ReadmeCommands {
    const steps = new Map<string, string[][]>();
    const alternatives: ReadmeCommands["alternatives"] = [];
    let stack: string | undefined;
    for (const [, block] of text.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)) {
        // Each `# or instead:` line becomes its own marked line, so that pulumiCommands keeps it.
        const marked = block.replace(/\\\n/g, " ").replace(/^#\s*or instead:\s*(.*)$/gm, "ALTERNATIVE $1");
        for (const line of marked.split("\n")) {
            const alternative = /^ALTERNATIVE (.*)$/.exec(line);
            if (alternative) {
                const [command] = pulumiCommands(alternative[1]);
                const current = steps.get(stack ?? "") ?? [];
                if (stack === undefined || current.length === 0 || command === undefined) {
                    throw new Error(`README gives an alternative with no step before it: ${line}`);
                }
                alternatives.push({ stack, replaces: current.length - 1, command });
                continue;
            }
            for (const words of pulumiCommands(line)) {
                if (words[0] === "stack" && (words[1] === "init" || words[1] === "select")) {
                    stack = words[2];
                } else if (words[0] === "config") {
                    const flag = words.indexOf("--stack");
                    const target = flag >= 0 ? words[flag + 1] : stack;
                    if (target === undefined) {
                        throw new Error(`README sets config before naming a stack: pulumi ${words.join(" ")}`);
                    }
                    const command = flag >= 0 ? [...words.slice(0, flag), ...words.slice(flag + 2)] : words;
                    steps.set(target, [...(steps.get(target) ?? []), command]);
                }
            }
        }
    }
    const prose = text.replace(/```[\s\S]*?```/g, "");
    const examples = [...prose.matchAll(/`(npx pulumi config [^`]+)`/g)].map(([, span]) => pulumiCommands(span));
    return { steps, examples, alternatives };
}
