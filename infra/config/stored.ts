import * as pulumi from "@pulumi/pulumi";

/**
 * Whether `pulumi config set --secret` stored the key. Not in the SDK's typings, but how it knows
 * (@pulumi/pulumi runtime/config.js, isConfigSecret: the language host passes the list of secret
 * keys to the program as PULUMI_CONFIG_SECRET_KEYS).
 */
export function storedEncrypted(key: string): boolean {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (key: string) => boolean };
    return runtimeConfig.isConfigSecret?.(`${pulumi.getProject()}:${key}`) ?? true;
}

/** Whether a key has a value, read through the runtime's own map (Config.get warns about a secret). */
export function isSet(key: string): boolean {
    return (pulumi.runtime.getConfig(`${pulumi.getProject()}:${key}`) ?? "") !== "";
}
