// The three values that let `pulumi up` configure the Alexa skill itself through SMAPI (issue 12).
// Declared in Pulumi.yaml with `default: ""` and without `secret: true`: the engine requires every
// declared key without a default, and refuses a plain-text default for a key declared secret
// (pulumi/pulumi sdk/go/common/workspace/config.go, mergeConfig and validateStackConfigValue). So
// "" means not set, and the program itself insists that a set value be stored encrypted.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, RawConfig } from "./reader";
import { storedEncrypted } from "./stored";

export const SMAPI_CONFIG_KEYS = ["smapiClientId", "smapiClientSecret", "smapiRefreshToken"] as const;

export interface SmapiConfig {
    clientId: pulumi.Output<string>;
    clientSecret: pulumi.Output<string>;
    refreshToken: pulumi.Output<string>;
}

/** What `ask util generate-lwa-tokens` prints, and where the client values come from. */
const SMAPI_VALUE_SHAPES: Record<(typeof SMAPI_CONFIG_KEYS)[number], { pattern: RegExp; what: string }> = {
    smapiClientId: { pattern: /^amzn1\.application-oa2-client\.[0-9a-f]{32}$/, what: "the Client ID of your Login with Amazon security profile (amzn1.application-oa2-client.<32 hex digits>)" },
    smapiClientSecret: { pattern: /^\S{16,}$/, what: "the Client Secret of the same security profile" },
    // LWA refresh tokens begin with "Atzr|" (developer.amazon.com/docs/login-with-amazon/refresh-token.html).
    smapiRefreshToken: { pattern: /^Atzr\|\S+$/, what: "the refresh_token that `ask util generate-lwa-tokens` prints (it begins with Atzr|)" },
};

/**
 * Checks the three SMAPI values: all empty (the skill is configured by hand), or all set, stored
 * encrypted and of the right shape. `isSecret` says whether a key is stored encrypted. Problems
 * never repeat a value.
 */
export function parseSmapiConfig(raw: RawConfig, isSecret: (key: string) => boolean): { clientId: string; clientSecret: string; refreshToken: string } | undefined {
    const given = SMAPI_CONFIG_KEYS.filter((key) => (raw[key] ?? "") !== "");
    if (given.length === 0) {
        return undefined;
    }
    const problems: string[] = [];
    for (const key of SMAPI_CONFIG_KEYS) {
        const fix = `npx pulumi config set --secret ${key} <${SMAPI_VALUE_SHAPES[key].what.split(" (")[0].replace(/^the /, "")}>`;
        if (!given.includes(key)) {
            problems.push(`${key} is not set, but ${given.join(" and ")} ${given.length === 1 ? "is" : "are"}: set all three to configure the skill through SMAPI ` +
                `(README, "Deploy"), or none. Fix: ${fix}`);
        } else if (!isSecret(key)) {
            problems.push(`${key} is stored in plain text in the stack's config file: store it encrypted. Fix: ${fix}`);
        } else if (!SMAPI_VALUE_SHAPES[key].pattern.test(raw[key]!)) {
            problems.push(`${key} does not look like ${SMAPI_VALUE_SHAPES[key].what}. Fix: ${fix}`);
        }
    }
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return { clientId: raw.smapiClientId!, clientSecret: raw.smapiClientSecret!, refreshToken: raw.smapiRefreshToken! };
}

/** The SMAPI values of this stack as secrets, or undefined when they are not set. */
export function loadSmapiConfig(): SmapiConfig | undefined {
    const project = pulumi.getProject();
    const raw: RawConfig = {};
    for (const key of SMAPI_CONFIG_KEYS) {
        // The runtime's own map: reading a secret key through Config.get would log a warning.
        raw[key] = pulumi.runtime.getConfig(`${project}:${key}`);
    }
    const values = parseSmapiConfig(raw, storedEncrypted);
    return values && {
        clientId: pulumi.secret(values.clientId),
        clientSecret: pulumi.secret(values.clientSecret),
        refreshToken: pulumi.secret(values.refreshToken),
    };
}
