// What every part of the configuration shares: the error that lists all problems at once, and a
// reader that turns raw values into typed ones, noting each problem with the command that fixes it.
import * as pulumi from "@pulumi/pulumi";

/** Raw values as the engine hands them over: text, lists as JSON. */
export type RawConfig = Record<string, string | undefined>;

/** All the problems of one configuration, said at once. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(
            `The stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was deployed.\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/**
 * Reads one stack's raw values. Every read is total: a bad value is noted in `problems` (key, what
 * was given, what is allowed, the fixing command) and a placeholder goes on, so that one run
 * reports every problem. `defaults` are Pulumi.yaml's, used in the fixes that restore them.
 */
export class ConfigReader {
    readonly problems: string[] = [];

    constructor(private readonly source: RawConfig, private readonly defaults: Record<string, string>) {}

    /** Notes a problem with `key`: `allowed` says what it must be, `fix` is what follows `pulumi config`. */
    problem(key: string, given: string | undefined, allowed: string, fix: string): void {
        const value = given === undefined || given === "" ? "is not set" : `is ${JSON.stringify(given)}`;
        this.problems.push(`${key} ${value}: ${allowed}. Fix: pulumi config ${fix}`);
    }

    /** Notes a problem said in full (one that must not quote the value, or names no single key). */
    note(problem: string): void {
        this.problems.push(problem);
    }

    text(key: string): string {
        return this.source[key]!;
    }

    /** The value, or undefined for "" (Pulumi.yaml's "not set"). */
    optional(key: string): string | undefined {
        return this.text(key) || undefined;
    }

    flag(key: string): boolean {
        return this.text(key) === "true";
    }

    list(key: string): string[] {
        try {
            const value: unknown = JSON.parse(this.text(key) || "[]");
            if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
                return value;
            }
        } catch {
            // Noted below.
        }
        this.note(`${key} is not a list of strings as Pulumi.yaml declares it: run the program with the Pulumi CLI, which checks it.`);
        return [];
    }

    integer(key: string, min: number, max: number, why: string): number {
        const given = this.text(key);
        const value = Number(given);
        if (!Number.isInteger(value) || value < min || value > max) {
            this.problem(key, given, `it must be a whole number from ${min} to ${max}${why}`, `set ${key} ${this.defaults[key]}`);
        }
        return value;
    }

    oneOf<T extends string>(key: string, allowed: readonly T[], meaning: string): T {
        const given = this.text(key);
        if (!(allowed as readonly string[]).includes(given)) {
            this.problem(key, given, `it must be ${allowed.join(" or ")} (${meaning})`, `set ${key} ${this.defaults[key]}`);
        }
        return given as T;
    }
}

/** The address in `From`, whether given bare or as `Name <address>`. */
export function mailAddress(from: string): string | undefined {
    const address = (/<([^<>]+)>\s*$/.exec(from)?.[1] ?? from).trim().toLowerCase();
    return /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(address) ? address : undefined;
}

/**
 * An https URL written out in full: `https://` and a host. (The URL parser also takes "https:x" and
 * "https:///x" as https://x/, but Cognito receives the text as given.)
 */
export function isHttpsUrl(text: string): boolean {
    if (!/^https:\/\/[^/?#]/.test(text)) {
        return false;
    }
    try {
        return new URL(text).hash === "";
    } catch {
        return false;
    }
}
