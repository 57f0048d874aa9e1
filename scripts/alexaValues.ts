// `npm run alexa-values [-- --stack <name>]`: every field of the Alexa developer console's
// Account Linking page, in the page's order, with the value to put there, and the skill's endpoint
// ARN per Alexa region (from every stack of this project that serves the same user pool).
import { listStacks, readStackOutputs, stackArgument, StackOutputs } from "./stackOutputs";

/** Alexa's name for each region's endpoint field on the skill's Smart Home page. */
const ENDPOINT_FIELDS: Record<string, string> = {
    "us-east-1": "North America",
    "eu-west-1": "Europe and India",
    "us-west-2": "Far East",
};

export interface RegionEndpoint {
    region: string;
    arn: string;
    stack: string;
}

/** The page as text: fields in the console's order, each with its value. */
export function formatAlexaValues(outputs: StackOutputs, endpoints: RegionEndpoint[]): string {
    if (isSecondary(outputs)) {
        throw new Error("This is a secondary region stack: the Account Linking values are on the primary stack, which holds the pool. " +
            "Run `npm run alexa-values -- --stack <the primary stack>`.");
    }
    const text = (name: string) => {
        const value = outputs[name];
        if (value === undefined || value === null || value === "") {
            throw new Error(`The stack has no output "${name}": run \`npx pulumi up\` with this version of the program.`);
        }
        return String(value);
    };
    const scopes = outputs.scopes as string[];
    const lines = [
        "Alexa developer console > your skill > Build > Account Linking",
        "",
        `  Authorization Grant Type          Auth Code Grant`,
        `  Your Web Authorization URI        ${text("authorizationUri")}`,
        `  Access Token URI                  ${text("accessTokenUri")}`,
        `  Your Client ID                    ${text("clientId")}`,
        `  Your Secret                       ${text("clientSecret")}`,
        `  Your Authentication Scheme        HTTP Basic (Recommended)`,
        ...scopes.map((scope, i) => `  Scope${i === 0 ? "                             " : "  (Add scope)                      "}${scope}`),
        `  Domain List                       (leave empty: Cognito's login page loads nothing from other domains)`,
        `  Default Access Token Expiration Time   ${Number(outputs.accessTokenValidityMinutes) * 60} (seconds)`,
        "",
        "  Alexa Redirect URLs listed on that page must be exactly these (they are the app client's callback URLs):",
        ...(outputs.alexaRedirectUrls as string[]).map((url) => `    ${url}`),
        "",
        "Alexa developer console > your skill > Build > Smart Home > Default endpoint",
        "",
    ];
    const sorted = [...endpoints].sort((a, b) => Object.keys(ENDPOINT_FIELDS).indexOf(a.region) - Object.keys(ENDPOINT_FIELDS).indexOf(b.region));
    const primary = endpoints.find((e) => e.region === outputs.region) ?? sorted[0];
    lines.push(`  Default endpoint                  ${primary.arn}`);
    for (const endpoint of sorted) {
        const field = ENDPOINT_FIELDS[endpoint.region] ?? endpoint.region;
        lines.push(`  ${field.padEnd(33)} ${endpoint.arn}   (stack ${endpoint.stack}, ${endpoint.region})`);
    }
    const missing = Object.keys(ENDPOINT_FIELDS).filter((region) => !endpoints.some((e) => e.region === region));
    if (missing.length > 0) {
        lines.push("", `  No stack serves ${missing.join(", ")} yet: users there reach the default endpoint. See README, "One stack per Alexa region".`);
    }
    return lines.join("\n");
}

/** A secondary region stack exports the pool it serves, but not the pool's linking values. */
export function isSecondary(outputs: StackOutputs): boolean {
    return outputs.authorizationUri === undefined && typeof outputs.userPoolId === "string";
}

/** The endpoints of every stack of this project that verifies tokens of the same pool. */
export function endpointsOfPool(poolId: unknown, stacks: { stack: string; outputs: StackOutputs }[]): RegionEndpoint[] {
    return stacks
        .filter(({ outputs }) => outputs.userPoolId === poolId && typeof outputs.skillEndpointArn === "string")
        .map(({ stack, outputs }) => ({ stack, region: String(outputs.region), arn: String(outputs.skillEndpointArn) }));
}

async function main() {
    const chosen = stackArgument(process.argv);
    let outputs = await readStackOutputs(chosen);
    const stacks: { stack: string; outputs: StackOutputs }[] = [];
    for (const stack of await listStacks()) {
        const found = await readStackOutputs(stack).catch(() => undefined);
        if (found) {
            stacks.push({ stack, outputs: found });
        }
    }
    // Run on a secondary stack, show its primary: the stack that serves the same pool and holds it.
    const primary = isSecondary(outputs) ? stacks.find((s) => s.outputs.userPoolId === outputs.userPoolId && !isSecondary(s.outputs)) : undefined;
    if (primary) {
        console.log(`(${chosen ?? "the selected stack"} is a secondary region stack; showing its primary, ${primary.stack})\n`);
        outputs = primary.outputs;
    }
    console.log(formatAlexaValues(outputs, endpointsOfPool(outputs.userPoolId, stacks)));
}

if (require.main === module) {
    main().catch((err) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    });
}
