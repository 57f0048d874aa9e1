// The stack's configuration: every key read once, checked, and returned as one frozen object.
// A bad value stops `pulumi up` before any resource is registered, with every problem at once.
// Each concern's keys and checks sit in their own file: userPool.ts (the pool, its client and
// domain), secondary.ts (a region stack that verifies the primary's tokens), events.ts (Alexa
// events and their alarms), companion.ts (the companion page and API), smapi.ts (the skill itself).
//
// The Pulumi engine runs first (pulumi/pulumi sdk/go/common/workspace/config.go, mergeConfig and
// validateStackConfigValue): it fills in Pulumi.yaml's defaults, refuses a stack that lacks
// alexaSkillId (the one key without a default), and refuses a value of the wrong type. So here
// every key is present, integers parse, lists are JSON arrays of strings, and "" means "not set".
import * as pulumi from "@pulumi/pulumi";
import { ALEXA_REGIONS } from "../alexa";
import { COMPANION_KEYS, CompanionSettings, readCompanion } from "./companion";
import { EVENTS_KEYS, EventsSettings, readEvents } from "./events";
import { ConfigError, ConfigReader, RawConfig } from "./reader";
import { isSecondary, PrimaryPool, readPrimaryPool, SECONDARY_KEYS } from "./secondary";
import { isSet, storedEncrypted } from "./stored";
import { readUserPool, USER_POOL_DEFAULTS, USER_POOL_KEYS, UserPoolSettings } from "./userPool";

export { ConfigError, RawConfig } from "./reader";
export * from "./userPool";
export * from "./secondary";
export * from "./events";
export * from "./companion";
export * from "./smapi";

export interface StackConfig extends UserPoolSettings, EventsSettings, CompanionSettings {
    alexaSkillId: string;
    /** Set on a secondary region stack: the primary's pool and client, whose tokens it verifies. */
    primaryPool?: PrimaryPool;
    region: string;
}

export const CONFIG_KEYS = ["alexaSkillId", ...USER_POOL_KEYS, ...SECONDARY_KEYS, ...EVENTS_KEYS, ...COMPANION_KEYS] as const;

/**
 * Keys an earlier version declared: the engine still hands them over from a stack file, so one that
 * is set gets a problem that says what replaced it rather than being silently ignored.
 */
const RETIRED_KEYS: Record<string, string> = {
    accountLinkingStack: "a secondary stack now takes the primary's pool and client instead of reading its state (which held the client secret): " +
        "set primaryUserPoolId and primaryClientId (README, \"One stack per Alexa region\")",
};

const SKILL_ID = /^amzn1\.ask\.skill\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Checks raw config values; `region` is the stack's `aws:region`; `alexaClientSecret` is the
 * secret's Output when it is set (non-empty), never its text: no message can then quote it.
 */
export function parseConfig(
    raw: RawConfig,
    region: string | undefined,
    alexaClientSecret?: pulumi.Output<string>,
    isSecret: (key: string) => boolean = () => true,
): StackConfig {
    // The engine hands every declared key over (alexaSkillId is required, the rest have defaults):
    // a missing one means the program ran without this project's Pulumi.yaml.
    const missing = CONFIG_KEYS.filter((key) => raw[key] === undefined);
    if (missing.length > 0) {
        throw new ConfigError(missing.map((key) =>
            `${key} was not handed over by the Pulumi engine: run the program with this project's Pulumi.yaml, which declares it.`));
    }
    // On a secondary stack the pool settings are refused (readUserPool) if set, and otherwise unused.
    const secondary = isSecondary(raw);
    const reader = new ConfigReader(secondary ? { ...raw, ...USER_POOL_DEFAULTS } : raw, USER_POOL_DEFAULTS);

    for (const [key, replacement] of Object.entries(RETIRED_KEYS)) {
        if (raw[key] !== undefined && raw[key] !== "") {
            reader.problem(key, raw[key], `it is no longer used; ${replacement}`, `rm ${key}`);
        }
    }

    const primaryPool = readPrimaryPool(reader, secondary);

    const alexaSkillId = reader.text("alexaSkillId");
    if (!SKILL_ID.test(alexaSkillId)) {
        reader.problem("alexaSkillId", alexaSkillId,
            'it must be "amzn1.ask.skill." followed by a lower-case UUID, the Skill ID shown in the Alexa developer console',
            "set alexaSkillId amzn1.ask.skill.00000000-0000-0000-0000-000000000000");
    }

    const userPool = readUserPool(reader, raw, secondary, region);

    if (region === undefined || !(ALEXA_REGIONS as readonly string[]).includes(region)) {
        const given = region === undefined ? "is not set" : `is ${JSON.stringify(region)}`;
        reader.note(`aws:region ${given}: Alexa calls Smart Home skill functions only in ${ALEXA_REGIONS.join(", ")}. ` +
            "Fix: pulumi config set aws:region us-east-1");
    }

    // The SMAPI values are checked on their own (parseSmapiConfig); here only whether they are set counts.
    const events = readEvents(reader, region, { alexaClientSecret, isSecret, smapiConfigured: (raw.smapiRefreshToken ?? "") !== "" });
    const companion = readCompanion(reader, secondary);

    if (reader.problems.length > 0) {
        throw new ConfigError(reader.problems);
    }
    return Object.freeze({ alexaSkillId, ...userPool, primaryPool, region: region!, ...events, ...companion });
}

/** Reads this stack's configuration (project namespace, and `aws:region`). */
export function loadConfig(): StackConfig {
    const config = new pulumi.Config();
    const raw: RawConfig = {};
    for (const key of [...CONFIG_KEYS, ...Object.keys(RETIRED_KEYS)]) {
        raw[key] = config.get(key);
    }
    // Whether a secret is set is all that is looked at here; its text goes on as a secret Output.
    raw.smapiRefreshToken = isSet("smapiRefreshToken") ? "(set)" : "";
    const secret = isSet("alexaClientSecret") ? config.requireSecret("alexaClientSecret") : undefined;
    return parseConfig(raw, new pulumi.Config("aws").get("region"), secret, storedEncrypted);
}
