// An AWS provider for a region other than the stack's (the primary's pool, from a secondary
// stack), set up as the stack's default provider is. Pulumi configures the default provider from
// every `aws:*` key of the stack's config, but an explicit provider only from the arguments it is
// given (Pulumi docs, "Providers": default and explicit providers): without them, a stack that sets
// aws:profile, aws:assumeRoles or aws:allowedAccountIds would look the pool up with the shell's
// default credentials, in another account perhaps, and aws:defaultTags would not tag its resources.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** A config value as the provider takes it: structured values (lists, maps, flags, numbers) parsed. */
function providerValue(text: string): unknown {
    try {
        const parsed: unknown = JSON.parse(text);
        return typeof parsed === "string" ? text : parsed;
    } catch {
        return text;
    }
}

/** Whether the stack stored a config key encrypted (see infra/config/stored.ts). */
function storedEncrypted(key: string): boolean {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (key: string) => boolean };
    return runtimeConfig.isConfigSecret?.(key) ?? false;
}

/** The stack's `aws:*` settings but the region, as provider arguments; secret ones stay secrets. */
export function stackProviderSettings(config: Record<string, string> = pulumi.runtime.allConfig(), isSecret: (key: string) => boolean = storedEncrypted): Record<string, unknown> {
    return Object.fromEntries(Object.entries(config)
        .filter(([key]) => key.startsWith("aws:") && key !== "aws:region")
        .map(([key, text]) => [key.slice("aws:".length), isSecret(key) ? pulumi.secret(providerValue(text)) : providerValue(text)]));
}

export function providerInRegion(name: string, region: pulumi.Input<string>, parent?: pulumi.Resource): aws.Provider {
    return new aws.Provider(name, { ...stackProviderSettings(), region: region as pulumi.Input<aws.Region> } as aws.ProviderArgs, { parent });
}
