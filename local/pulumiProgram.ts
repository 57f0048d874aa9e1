// Runs the Pulumi program (index.ts) under Pulumi's mocks: every resource's type, name, inputs
// and options are recorded, ids and attributes look like AWS's own (aws-jwt-verify, for one,
// rejects a user pool id that is not of the `<region>_<id>` shape).
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PoolJwksProvider } from "../infra/poolJwks";
import { loadProject, mergeAndValidate, programConfig, StackConfig } from "./pulumiEngine";
import { jwksOf, newSigningKey } from "./tokens";

export const PROJECT = "alexa-account-linking";
/** The type of the pool's JWKS resource (a dynamic resource). */
export const POOL_JWKS = "pulumi-nodejs:dynamic:PoolJwks";
/** How a secret travels to the engine (pulumi/pulumi sdk/nodejs/runtime/rpc.ts, specialSigKey and specialSecretSig). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const ACCOUNT_ID = "123456789012";
export const SKILL_ID = "amzn1.ask.skill.0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90";
export const VENDOR_ID = "M2AAAAAAAAAAAA";

export interface RecordedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** Its id and state as the mocks answered (what AWS would give: names, ARNs, URLs). */
    id: string;
    state: Record<string, any>;
    /** Resource options as the engine received them. */
    protect: boolean;
    retainOnDelete: boolean;
    ignoreChanges: string[];
    deleteBeforeReplace: boolean;
    parent: string;
    /** The provider reference ("<urn>::<id>") given to the resource, or "" for the default provider. */
    provider: string;
    dependencies: string[];
    urn: string;
    /** Top-level inputs that reached the engine as secrets. */
    secretInputs: string[];
    additionalSecretOutputs: string[];
}

export interface ProgramRun {
    resources: RecordedResource[];
    outputs: Record<string, unknown>;
    /** The program's exported Outputs themselves, e.g. to ask whether one is secret. */
    exports: Record<string, pulumi.Output<unknown>>;
    /** The one resource of `type` (fails when there are none or several). */
    one(type: string): RecordedResource;
    all(type: string): RecordedResource[];
}

/** The program threw while it ran; `resources` are those registered before. */
export class ProgramFailed extends Error {
    constructor(readonly cause: unknown, readonly resources: RecordedResource[]) {
        super(`the program failed: ${cause}`);
    }
}

/** The skill's messaging credentials, as SMAPI would hand them to the stack. */
export const SKILL_EVENTS_CLIENT_ID = "amzn1.application-oa2-client.fedcba9876543210fedcba9876543210";
export const SKILL_EVENTS_CLIENT_SECRET = "skill-messaging-secret-read-through-smapi-0123456789";

/** What a primary stack exports (a secondary stack is given its userPoolId and clientId). */
export const PRIMARY_OUTPUTS = {
    authorizationUri: "https://smartlamp-dev-0123456789.auth.us-east-1.amazoncognito.com/oauth2/authorize",
    accessTokenUri: "https://smartlamp-dev-0123456789.auth.us-east-1.amazoncognito.com/oauth2/token",
    clientId: "4example5client6id7alexa89",
    clientSecret: "primary-client-secret",
    scopes: ["openid"],
    alexaRedirectUrls: ["https://pitangui.amazon.com/api/skill/link/M2AAAAAAAAAAAA"],
    userPoolId: "us-east-1_AbCdEf123",
    accessTokenValidityMinutes: 60,
    refreshTokenValidityDays: 3650,
    jwksUri: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123/.well-known/jwks.json",
    region: "us-east-1",
};

/** The primary stack's pool as Cognito has it: its Alexa client and its companion client. */
export const PRIMARY_POOLS: Record<string, Record<string, string>> = {
    "us-east-1_AbCdEf123": { "4example5client6id7alexa89": "alexa", "5companion6client7id8abcdef": "companion" },
};

/** The regional AWS WAF web ACLs the deploying account has, in every region, by name. */
export const WEB_ACLS: Record<string, string> = {
    "login-guard": "0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90",
};

/** The ARN AWS gives the regional web ACL `name` of WEB_ACLS in `region`. */
export function webAclArn(name: string, region = "us-east-1", id = WEB_ACLS[name]): string {
    return `arn:aws:wafv2:${region}:${ACCOUNT_ID}:regional/webacl/${name}/${id}`;
}

function fakeState(type: string, name: string, inputs: Record<string, any>, region: string): { id: string; state: Record<string, any> } {
    const arnFor = (service: string, resource: string) => `arn:aws:${service}:${region}:${ACCOUNT_ID}:${resource}`;
    switch (type) {
        case "aws:cognito/userPool:UserPool": {
            const id = `${region}_AbCdEf123`;
            return { id, state: { ...inputs, arn: arnFor("cognito-idp", `userpool/${id}`), endpoint: `cognito-idp.${region}.amazonaws.com/${id}` } };
        }
        case "aws:cognito/userPoolClient:UserPoolClient":
            return inputs.name === "companion"
                ? { id: "5companion6client7id8abcdef", state: inputs }
                : { id: "1abcdefghij2klmnop3qrstuv4", state: { ...inputs, clientSecret: "mock-client-secret-0123456789abcdef" } };
        case "aws:apigatewayv2/api:Api":
            return { id: "a1b2c3d4e5", state: { ...inputs, apiEndpoint: `https://a1b2c3d4e5.execute-api.${region}.amazonaws.com`, executionArn: `arn:aws:execute-api:${region}:${ACCOUNT_ID}:a1b2c3d4e5` } };
        case "aws:cognito/userPoolDomain:UserPoolDomain":
            return { id: inputs.domain, state: { ...inputs, cloudfrontDistribution: "d111111abcdef8.cloudfront.net", cloudfrontDistributionZoneId: "Z2FDTNDATAQYW2" } };
        case "aws:dynamodb/table:Table":
            return { id: `${name}-tbl`, state: { ...inputs, name: `${name}-tbl`, arn: arnFor("dynamodb", `table/${name}-tbl`) } };
        case "aws:cloudwatch/logGroup:LogGroup":
            return { id: `/aws/lambda/${name}`, state: { ...inputs, name: `/aws/lambda/${name}`, arn: arnFor("logs", `log-group:/aws/lambda/${name}`) } };
        case "aws:iam/role:Role":
            return { id: `${name}-id`, state: { ...inputs, name: `${name}-id`, arn: `arn:aws:iam::${ACCOUNT_ID}:role/${name}` } };
        case "aws:lambda/function:Function":
            return { id: `${name}-fn`, state: { ...inputs, name: `${name}-fn`, arn: arnFor("lambda", `function:${name}-fn`) } };
        case "pulumi-nodejs:dynamic:SkillMessagingCredentials":
            // What SMAPI's GET /v1/skills/{skillId}/credentials gives for a skill with Send Alexa Events.
            return { id: `${name}-id`, state: { ...inputs, alexaClientId: SKILL_EVENTS_CLIENT_ID, alexaClientSecret: SKILL_EVENTS_CLIENT_SECRET } };
        case "aws:sqs/queue:Queue":
            return { id: `https://sqs.${region}.amazonaws.com/${ACCOUNT_ID}/${inputs.name}`, state: { ...inputs, url: `https://sqs.${region}.amazonaws.com/${ACCOUNT_ID}/${inputs.name}`, arn: arnFor("sqs", inputs.name) } };
        case "aws:cloudwatch/metricAlarm:MetricAlarm":
            return { id: name, state: { ...inputs, name, arn: arnFor("cloudwatch", `alarm:${name}`) } };
        case "aws:kms/key:Key":
            return { id: `${name}-0f3b6c2e`, state: { ...inputs, keyId: `${name}-0f3b6c2e`, arn: arnFor("kms", `key/${name}-0f3b6c2e`) } };
        case "aws:sns/topic:Topic":
            return { id: arnFor("sns", `${name}-1a2b3c`), state: { ...inputs, name: `${name}-1a2b3c`, arn: arnFor("sns", `${name}-1a2b3c`) } };
        case "aws:ssm/parameter:Parameter":
            return { id: `/${name}`, state: { ...inputs, name: `/${name}`, arn: arnFor("ssm", `parameter/${name}`) } };
        default:
            return { id: `${name}-id`, state: inputs };
    }
}

/**
 * The key of the mocked user pool: the deploying machine reads its JWKS (the program's one HTTP
 * request, answered here without the network), and the tests sign tokens with it.
 */
export const POOL_KEY = newSigningKey("pool-key-1");

export interface RunOptions {
    /** How the deploy-time JWKS read goes (default "ok"). */
    jwksRead?: "ok" | "fail";
    /** Collects the URLs the program fetched. */
    fetched?: string[];
    /** The deploying account (default ACCOUNT_ID). */
    accountId?: string;
    /** Keys stored with `pulumi config set --secret` (without the project prefix). */
    secretKeys?: string[];
    /** Collects the data source look-ups (invokes) the program made, with their arguments. */
    invokes?: { token: string; inputs: Record<string, any> }[];
    /** The user pools Cognito has, with their app clients' names by id (default PRIMARY_POOLS). */
    primaryPools?: Record<string, Record<string, string>>;
    /** The regional web ACLs the account has, ids by name (default WEB_ACLS). */
    webAcls?: Record<string, string>;
}

/**
 * `config` as the Pulumi engine would hand it to the program: Pulumi.yaml's defaults filled in,
 * values checked against their declared types (a list is given as its JSON text). Throws the
 * engine's refusal, as `pulumi up` would print it, for a config the engine would not accept.
 */
export function asTheEngineHandsItOver(config: Record<string, string>, stack: string, secretKeys: string[] = []): Record<string, string> {
    const stackConfig: StackConfig = new Map();
    for (const [key, value] of Object.entries(config)) {
        const list = value.startsWith("[") || value.startsWith("{");
        stackConfig.set(key.includes(":") ? key : `${PROJECT}:${key}`, { text: value, object: list, secure: secretKeys.includes(key) });
    }
    return programConfig(mergeAndValidate(loadProject(path.resolve(__dirname, "../Pulumi.yaml")), stack, stackConfig));
}

// index.ts is loaded afresh for each run: it is the program, declaring the resources as it loads.
// infra/ holds no state between runs (classes, functions and constants), so it is compiled once per
// process (a quarter of the program tests' time went to ts-node compiling it again), except under
// Stryker (npm run mutation): there a mutant in infra/'s module-level code (a constant) must take
// effect in every run, and count as reached by every test that runs the program, not only by the
// first one that loaded the module.
const PROGRAM_MODULES = ["index.ts"].map((p) => path.resolve(__dirname, "..", p));
const MODULES_RELOADED_UNDER_STRYKER = [...PROGRAM_MODULES, path.resolve(__dirname, "../infra")];
const underStryker = () => (globalThis as { __stryker__?: unknown }).__stryker__ !== undefined;

/**
 * Runs index.ts afresh with `config` (keys without the project prefix; `aws:region` as is) as
 * stack `stack`, and resolves once every resource has been registered.
 */
export async function runProgram(config: Record<string, string>, stack = "dev", options: RunOptions = {}): Promise<ProgramRun> {
    const resources: RecordedResource[] = [];
    const region = config["aws:region"] ?? "us-east-1";
    await pulumi.runtime.setMocks({
        async newResource(args) {
            const { id, state } = args.type === POOL_JWKS
                // The pool's JWKS: the real provider's create, its one HTTP request answered below.
                ? await new PoolJwksProvider().create(args.inputs as { jwksUrl: string }).then(({ id, outs }) => ({ id, state: outs }))
                : fakeState(args.type, args.name, args.inputs, region);
            resources.push({ type: args.type, name: args.name, inputs: args.inputs, id, state, protect: false, retainOnDelete: false, ignoreChanges: [], deleteBeforeReplace: false, parent: "", provider: "", dependencies: [], urn: "", secretInputs: [], additionalSecretOutputs: [] });
            return { id, state };
        },
        call(args) {
            if (args.token === "aws:index/getCallerIdentity:getCallerIdentity") {
                const accountId = options.accountId ?? ACCOUNT_ID;
                return { accountId, arn: `arn:aws:iam::${accountId}:user/deployer`, userId: "AIDAEXAMPLE" };
            }
            if (args.token === "aws:cognito/getUserPool:getUserPool" || args.token === "aws:cognito/getUserPoolClient:getUserPoolClient") {
                // The primary's pool and its two clients, as Cognito in the pool's region has them.
                options.invokes?.push({ token: args.token, inputs: args.inputs });
                const pools = options.primaryPools ?? PRIMARY_POOLS;
                const pool = pools[String(args.inputs.userPoolId)];
                if (!pool) {
                    throw new Error(`reading Cognito User Pool (${args.inputs.userPoolId}): couldn't find resource`);
                }
                if (args.token === "aws:cognito/getUserPool:getUserPool") {
                    return { id: args.inputs.userPoolId, userPoolId: args.inputs.userPoolId, name: "account-linking-users", arn: `arn:aws:cognito-idp:${String(args.inputs.userPoolId).split("_")[0]}:${ACCOUNT_ID}:userpool/${args.inputs.userPoolId}` };
                }
                const name = pool[String(args.inputs.clientId)];
                if (!name) {
                    throw new Error(`reading Cognito User Pool Client (${args.inputs.clientId}): couldn't find resource`);
                }
                return { id: args.inputs.clientId, clientId: args.inputs.clientId, userPoolId: args.inputs.userPoolId, name, clientSecret: "not-for-secondaries" };
            }
            if (args.token === "aws:dynamodb/getTable:getTable") {
                // A table that exists in the account: a grants table a stack kept carries its tag.
                options.invokes?.push({ token: args.token, inputs: args.inputs });
                // One kept by a version before the key (alexa-grants-older-*) has the first tag only.
                const tags = String(args.inputs.name).startsWith("alexa-grants-table")
                    ? { "smartlamp:purpose": "alexa-grants", "smartlamp:grants-key": `arn:aws:kms:${region}:${ACCOUNT_ID}:key/kept-1a2b` }
                    : String(args.inputs.name).startsWith("alexa-grants-older") ? { "smartlamp:purpose": "alexa-grants" } : {};
                return { id: args.inputs.name, name: args.inputs.name, arn: `arn:aws:dynamodb:${region}:${ACCOUNT_ID}:table/${args.inputs.name}`, tags };
            }
            if (args.token === "aws:wafv2/getWebAcl:getWebAcl") {
                // A regional web ACL of the account, looked up by name in the stack's region.
                options.invokes?.push({ token: args.token, inputs: args.inputs });
                const id = (options.webAcls ?? WEB_ACLS)[String(args.inputs.name)];
                if (args.inputs.scope !== "REGIONAL" || id === undefined) {
                    throw new Error(`WAFv2 WebACL (${args.inputs.name}) not found`);
                }
                return { id, name: args.inputs.name, arn: webAclArn(String(args.inputs.name), region, id), scope: args.inputs.scope, description: "", region };
            }
            throw new Error(`no mock for the call ${args.token}`);
        },
    }, PROJECT, stack, false);

    // The mocks do not see resource options; the monitor's requests carry them.
    const monitor = pulumi.runtime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, res: any) => void) =>
        register(req, (err: unknown, res: any) => {
            const recorded = resources.find((r) => r.type === req.getType() && r.name === req.getName() && r.urn === "");
            if (recorded) {
                Object.assign(recorded, {
                    protect: req.getProtect() === true,
                    retainOnDelete: req.getRetainondelete() === true,
                    ignoreChanges: req.getIgnorechangesList(),
                    deleteBeforeReplace: req.getDeletebeforereplace() === true,
                    parent: req.getParent(),
                    provider: req.getProvider(),
                    dependencies: req.getDependenciesList(),
                    urn: res?.getUrn?.() ?? "",
                    secretInputs: Object.entries((req.getObject()?.toJavaScript() ?? {}) as Record<string, any>)
                        .filter(([, value]) => value?.[SECRET_SIG] === SECRET_VALUE_SIG)
                        .map(([key]) => key),
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList?.() ?? [],
                });
            }
            callback(err, res);
        });

    const secretKeys = options.secretKeys ?? [];
    pulumi.runtime.setAllConfig(asTheEngineHandsItOver(config, stack, secretKeys), secretKeys.map((key) => (key.includes(":") ? key : `${PROJECT}:${key}`)));

    const reloaded = underStryker() ? MODULES_RELOADED_UNDER_STRYKER : PROGRAM_MODULES;
    for (const id of Object.keys(require.cache)) {
        if (reloaded.some((p) => id === p || id.startsWith(p + path.sep))) {
            delete require.cache[id];
        }
    }
    // The deploying machine's one HTTP request (the pool's JWKS), answered without the network.
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input: string | URL | Request) => {
        options.fetched?.push(String(input));
        return options.jwksRead === "fail"
            ? new Response("unavailable", { status: 503 })
            : new Response(JSON.stringify(jwksOf(POOL_KEY)), { status: 200 });
    };
    let program: Record<string, unknown>;
    const exported: Record<string, pulumi.Output<unknown>> = {};
    const outputs: Record<string, unknown> = {};
    // A resource whose inputs fail (a check inside an Output) is never registered: the SDK re-raises
    // the failure as an unhandled rejection (@pulumi/pulumi runtime/resource.js, runAsyncResourceOp),
    // and the language host fails the program on one (cmd/run/run.js, uncaughtHandler on
    // "unhandledRejection"), so `pulumi up` stops. Collected here to fail the run the same way.
    // Only here while the program runs: a test runner's own listener (mocha's, Stryker's) would
    // otherwise count the rejection against the test as well.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    const runnersListeners = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", onUnhandled);
    try {
        try {
            program = require("../index");
        } catch (err) {
            throw new ProgramFailed(err, resources);
        }
        for (const [name, value] of Object.entries(program)) {
            if (value === undefined) {
                continue; // Pulumi leaves undefined exports out of the stack's outputs.
            }
            const output = pulumi.output(value);
            exported[name] = output;
            // Internal to Pulumi's SDK (OutputImpl.promise): the value, or the failure of a check
            // inside the program's Outputs, which `pulumi up` would report.
            outputs[name] = await (output as unknown as { promise(): Promise<unknown> }).promise().catch((err: unknown) => {
                throw new ProgramFailed(err, resources);
            });
        }
        // Internal to Pulumi's SDK, typed there as such: waits until every registration has been sent.
        await require("@pulumi/pulumi/runtime/settings").waitForRPCs();
        // Node reports a rejection left unhandled once the microtasks of its turn have run.
        await new Promise((resolve) => setImmediate(resolve));
        if (unhandled.length > 0) {
            throw new ProgramFailed(unhandled[0], resources);
        }
    } finally {
        globalThis.fetch = realFetch;
        process.off("unhandledRejection", onUnhandled);
        for (const listener of runnersListeners) {
            process.on("unhandledRejection", listener);
        }
    }

    const ofType = (type: string) => resources.filter((r) => r.type === type);
    return {
        resources,
        outputs,
        exports: exported,
        all: ofType,
        one(type) {
            const found = ofType(type);
            if (found.length !== 1) {
                throw new Error(`expected one ${type}, found ${found.length}`);
            }
            return found[0];
        },
    };
}

/**
 * Whether `err` is the program's ConfigError. By name, not `instanceof`: under Stryker each run
 * loads infra/ afresh (see MODULES_RELOADED_UNDER_STRYKER), so the program's class is not the
 * one a test imported.
 */
export function isConfigError(err: unknown): err is Error & { problems: string[] } {
    return err instanceof Error && err.name === "ConfigError" && Array.isArray((err as { problems?: unknown }).problems);
}

/** Whether an Output is marked secret. */
export async function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
    return (output as unknown as { isSecret: Promise<boolean> }).isSecret;
}

/** The skill's Alexa Client Id and Secret as a stack with Alexa events on is configured. */
export const ALEXA_CLIENT_ID = "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef";
export const ALEXA_CLIENT_SECRET = "amzn1.oa2-cs.v1.0123456789abcdef-stack-test-secret";

/** A primary stack's minimal valid configuration. */
export const PRIMARY_CONFIG: Readonly<Record<string, string>> = Object.freeze({
    "aws:region": "us-east-1",
    alexaSkillId: SKILL_ID,
    alexaVendorId: VENDOR_ID,
});
