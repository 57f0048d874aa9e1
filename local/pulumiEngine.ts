// What the Pulumi engine does with configuration before a program runs, which Pulumi's mocks
// skip: it reads Pulumi.yaml and the stack's Pulumi.<stack>.yaml, applies the CLI's
// `pulumi config set|set-all|rm` to the stack file, fills in the project's defaults, refuses a
// stack that lacks a required key, and checks every value against its declared type. Modeled on
// pulumi/pulumi sdk/go/common/workspace/config.go (mergeConfig, validateStackConfigValue) and
// project.go (Project.Validate, ValidateConfigValue, RewriteShorthandConfigValues, InferFullTypeName);
// `config set --path` on the CLI docs (pulumi.com/docs/iac/cli/commands/pulumi_config_set).
import * as fs from "fs";
import * as yaml from "js-yaml";

export interface ConfigItemsType {
    type: string;
    items?: ConfigItemsType;
}

export interface ProjectConfigType {
    type?: string;
    items?: ConfigItemsType;
    default?: unknown;
    value?: unknown;
    secret?: boolean;
    description?: string;
}

export interface Project {
    name: string;
    config: Record<string, ProjectConfigType>;
}

/**
 * One stack config value as the engine keeps it: plain text, or (`object`) a JSON document for
 * lists and maps; `secure` when it was set with --secret.
 */
export interface StackValue {
    text: string;
    object: boolean;
    secure: boolean;
}

/** Stack config by fully qualified key ("alexa-account-linking:scopes", "aws:region"). */
export type StackConfig = Map<string, StackValue>;

/** The engine refused the project or the stack; the message is the engine's own wording. */
export class EngineRefusal extends Error {}

const namespaced = (projectName: string, key: string) => (key.includes(":") ? key : `${projectName}:${key}`);
const isProjectKey = (projectName: string, key: string) => !key.includes(":") || key.startsWith(projectName + ":");

/** Go's strconv.Atoi: an optional sign and decimal digits, within int64. */
function atoi(text: string): boolean {
    return /^[+-]?\d+$/.test(text) && Math.abs(Number(text)) <= Number.MAX_SAFE_INTEGER;
}

/** InferFullTypeName: "array<string>" for a list of strings. */
export function fullTypeName(type: string, items?: ConfigItemsType): string {
    return items ? `array<${fullTypeName(items.type, items.items)}>` : type;
}

/** ValidateConfigValue: whether `value` (a string, or parsed JSON for objects) fits the declared type. */
export function fitsType(type: string, items: ConfigItemsType | undefined, value: unknown): boolean {
    switch (type) {
        case "string":
            return typeof value === "string";
        case "integer":
            return (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && atoi(value));
        case "boolean":
            return typeof value === "boolean" || value === "true" || value === "false";
        case "object":
            return typeof value === "object" && value !== null && !Array.isArray(value);
        default:
            return Array.isArray(value) && items !== undefined && value.every((item) => fitsType(items.type, items.items, item));
    }
}

/** Reads Pulumi.yaml as the engine does, and refuses what Project.Validate refuses. */
export function loadProject(file: string): Project {
    const raw = yaml.load(fs.readFileSync(file, "utf8")) as { name: string; config?: Record<string, unknown> };
    const config: Record<string, ProjectConfigType> = {};
    for (const [key, declared] of Object.entries(raw.config ?? {})) {
        // RewriteShorthandConfigValues: a bare value is a default for project keys, a value otherwise.
        const shorthand = declared === null || typeof declared !== "object" || Array.isArray(declared);
        config[key] = shorthand ? (isProjectKey(raw.name, key) ? { default: declared } : { value: declared }) : (declared as ProjectConfigType);
    }
    for (const [key, declared] of Object.entries(config)) {
        if (declared.default !== undefined && declared.value !== undefined) {
            throw new EngineRefusal(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
        }
        if (isProjectKey(raw.name, key)) {
            if (declared.type === "array" && declared.items === undefined) {
                throw new EngineRefusal(`The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`);
            }
            if (declared.type !== undefined && declared.default !== undefined && !fitsType(declared.type, declared.items, declared.default)) {
                throw new EngineRefusal(`The default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(declared.type, declared.items)}'`);
            }
        } else if (declared.type !== undefined || declared.default !== undefined || declared.value === undefined) {
            throw new EngineRefusal(`Configuration key '${key}' is not namespaced by the project and must provide only a 'value'`);
        }
    }
    return { name: raw.name, config };
}

/** A value from YAML (Pulumi.yaml's defaults, a stack file) as the engine stores it. */
function storedValue(value: unknown): StackValue {
    if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value) {
        return { text: String((value as { secure: unknown }).secure), object: false, secure: true };
    }
    if (value !== null && typeof value === "object") {
        return { text: JSON.stringify(value), object: true, secure: false };
    }
    return { text: value === null || value === undefined ? "" : String(value), object: false, secure: false };
}

/** The `config:` block of a Pulumi.<stack>.yaml file. */
export function loadStackConfig(file: string): StackConfig {
    const raw = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    return new Map(Object.entries(raw.config ?? {}).map(([key, value]) => [key, storedValue(value)]));
}

/** Splits a shell command line into words, honouring single and double quotes. */
export function shellWords(line: string): string[] {
    const words: string[] = [];
    const pattern = /'([^']*)'|"((?:[^"\\]|\\.)*)"|([^\s'"]+)/g;
    let word: string | undefined;
    let lastEnd = -1;
    for (const match of line.matchAll(pattern)) {
        const part = match[1] ?? match[2]?.replace(/\\(.)/g, "$1") ?? match[3];
        // Adjacent quoted and bare parts form one word (e.g. --plaintext "names[0]"=a).
        if (word !== undefined && match.index === lastEnd) {
            word += part;
        } else {
            if (word !== undefined) {
                words.push(word);
            }
            word = part;
        }
        lastEnd = match.index! + match[0].length;
    }
    if (word !== undefined) {
        words.push(word);
    }
    return words;
}

type PathPart = string | number;

/** A --path key: `scopes[1]`, `outer.inner`, `["a.b"]`. */
function parsePath(path: string): PathPart[] {
    const parts: PathPart[] = [];
    const pattern = /\["([^"]*)"\]|\[(\d+)\]|\.?([^.[\]]+)/g;
    for (const match of path.matchAll(pattern)) {
        parts.push(match[1] ?? (match[2] !== undefined ? Number(match[2]) : match[3]));
    }
    return parts;
}

/** With --path, "true"/"false" become booleans and integers numbers (pulumi config set's docs). */
function pathLeaf(text: string): unknown {
    if (text === "true" || text === "false") {
        return text === "true";
    }
    // "0123" stays text: only what reads back the same as a number becomes one.
    return /^-?(?:0|[1-9]\d*)$/.test(text) ? Number(text) : text;
}

function setAtPath(container: unknown, parts: PathPart[], leaf: unknown): unknown {
    const [head, ...rest] = parts;
    if (typeof head === "number") {
        if (Array.isArray(container) && head > container.length) {
            throw new EngineRefusal(`array index out of range: ${head} in a list of ${container.length}`);
        }
        const list = Array.isArray(container) ? [...container] : [];
        // On a new list an index past the end pads it with nulls: `scopes[1]` on an absent key gives [null, v].
        while (list.length < head) {
            list.push(null);
        }
        list[head] = rest.length === 0 ? leaf : setAtPath(list[head], rest, leaf);
        return list;
    }
    const map = container !== null && typeof container === "object" && !Array.isArray(container) ? { ...(container as object) } : {};
    (map as Record<string, unknown>)[head] = rest.length === 0 ? leaf : setAtPath((map as Record<string, unknown>)[head], rest, leaf);
    return map;
}

function setValue(stack: StackConfig, projectName: string, key: string, text: string, options: { path: boolean; secret: boolean }) {
    if (!options.path) {
        // Top-level entries are always strings.
        stack.set(namespaced(projectName, key), { text, object: false, secure: options.secret });
        return;
    }
    if (options.secret) {
        throw new Error("this model does not cover secrets inside lists or maps; set the whole key with --secret instead");
    }
    const [top, ...rest] = parsePath(key);
    const full = namespaced(projectName, String(top));
    if (rest.length === 0) {
        stack.set(full, { text, object: false, secure: false });
        return;
    }
    const current = stack.get(full);
    const existing = current?.object ? JSON.parse(current.text) : undefined;
    stack.set(full, { text: JSON.stringify(setAtPath(existing, rest, pathLeaf(text))), object: true, secure: false });
}

/**
 * Applies one `pulumi config ...` command line (words after `pulumi`) to the stack's config:
 * `config set [--path] [--secret|--plaintext] key value`, `config set-all [--path] (--plaintext|--secret) key=value ...`,
 * `config rm [--path] key`. Other commands are refused, so a README step the model does not know fails the test.
 */
export function applyConfigCommand(stack: StackConfig, projectName: string, words: string[]): void {
    const [group, verb, ...rest] = words;
    if (group !== "config") {
        throw new Error(`not a config command: pulumi ${words.join(" ")}`);
    }
    const path = rest.includes("--path");
    const args = rest.filter((word) => word !== "--path");
    if (verb === "set") {
        const secret = args.includes("--secret");
        const [key, value, ...extra] = args.filter((word) => word !== "--secret" && word !== "--plaintext");
        if (key === undefined || value === undefined || extra.length > 0 || key.startsWith("-")) {
            throw new Error(`pulumi config set takes a key and a value here: ${words.join(" ")}`);
        }
        setValue(stack, projectName, key, value, { path, secret });
    } else if (verb === "set-all") {
        const pairs: { key: string; value: string; secret: boolean }[] = [];
        for (let i = 0; i < args.length; i += 2) {
            const flag = args[i];
            const pair = args[i + 1] ?? "";
            const at = pair.indexOf("=");
            if ((flag !== "--plaintext" && flag !== "--secret") || at <= 0) {
                throw new Error(`pulumi config set-all takes --plaintext or --secret before each key=value: ${words.join(" ")}`);
            }
            pairs.push({ key: pair.slice(0, at), value: pair.slice(at + 1), secret: flag === "--secret" });
        }
        // The CLI applies every --plaintext pair, then every --secret pair.
        for (const { key, value, secret } of [...pairs.filter((p) => !p.secret), ...pairs.filter((p) => p.secret)]) {
            setValue(stack, projectName, key, value, { path, secret });
        }
    } else if (verb === "rm" && args.length === 1 && !path) {
        stack.delete(namespaced(projectName, args[0]));
    } else {
        throw new Error(`this model does not know: pulumi ${words.join(" ")}`);
    }
}

/**
 * mergeConfig and validateStackConfigValues: fills in the project's defaults, refuses a stack
 * missing a required key, then checks each declared key's value against its type and secrecy.
 * Returns the config the program receives.
 */
export function mergeAndValidate(project: Project, stackName: string, stack: StackConfig): StackConfig {
    const merged: StackConfig = new Map(stack);
    const missing: string[] = [];
    for (const key of Object.keys(project.config).sort()) {
        const declared = project.config[key];
        const full = namespaced(project.name, key);
        if (merged.has(full)) {
            continue;
        }
        const fallback = declared.default ?? declared.value;
        if (fallback === undefined) {
            if (isProjectKey(project.name, key)) {
                missing.push(key);
            }
            continue;
        }
        merged.set(full, storedValue(fallback));
    }
    if (missing.length > 0) {
        throw new EngineRefusal(`Stack '${stackName}' is missing configuration ${missing.length === 1 ? "value" : "values"} ${formatMissingKeys(missing)}`);
    }
    for (const key of Object.keys(project.config).sort()) {
        const declared = project.config[key];
        const stored = merged.get(namespaced(project.name, key));
        if (declared.type === undefined || stored === undefined) {
            continue;
        }
        if (declared.secret && !stored.secure) {
            throw new EngineRefusal(`Stack '${stackName}' with configuration key '${key}' must be encrypted as it's secret`);
        }
        const content = stored.object ? JSON.parse(stored.text) : stored.text;
        if (!fitsType(declared.type, declared.items, content)) {
            throw new EngineRefusal(`Stack '${stackName}' with configuration key '${key}' must be of type '${fullTypeName(declared.type, declared.items)}'`);
        }
    }
    return merged;
}

/** formatMissingKeys: 'a' alone; 'a', 'b' and 'c' sorted. */
function formatMissingKeys(keys: string[]): string {
    if (keys.length === 1) {
        return `'${keys[0]}'`;
    }
    const sorted = [...keys].sort();
    return sorted.slice(0, -1).map((k) => `'${k}'`).join(", ") + ` and '${sorted[sorted.length - 1]}'`;
}

/** What the program's `pulumi.Config` sees: every value as text (lists and maps as JSON). */
export function programConfig(config: StackConfig): Record<string, string> {
    return Object.fromEntries([...config.entries()].map(([key, value]) => [key, value.text]));
}
