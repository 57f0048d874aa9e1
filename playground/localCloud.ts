// The stack, deployed on this machine: index.ts runs under Pulumi's mocks (as the tests run it),
// and what it declares is stood up on 127.0.0.1 with the stand-ins of local/: the three functions
// are the archives the program built, each in a warm container of its own with the environment the
// stack gives it; the tables are created as declared, in dynalite; the user pool serves the app
// clients the program declared, with their settings; the queue feeds the consumer as Lambda's event
// source mapping does. Only the services' addresses differ from AWS (local/functionEnvironment.ts).
import * as fs from "fs";
import { createServer } from "http";
import { LocalDynamo, startDynalite } from "../local/dynalite";
import { localEnvironment } from "../local/functionEnvironment";
import { startKmsEndpoint } from "../local/kmsEndpoint";
import { ArchiveContainer, lambdaRuntimeModules, MaterialisedArchive, materialiseArchive, startArchiveContainer } from "../local/lambdaArchive";
import { LWA_CLIENT_ID, LWA_CLIENT_SECRET, LwaEndpoint, startLwaEndpoint } from "../local/lwaEndpoint";
import { POOL_KEY, PRIMARY_CONFIG, ProgramRun, RecordedResource, runProgram } from "../local/pulumiProgram";
import { AlexaGateway, startAlexaGateway } from "../local/alexaGateway";
import { eventSourceMapping, LocalQueue, startLocalSqs } from "../local/sqsQueue";
import { startSsmEndpoint } from "../local/ssmEndpoint";
import { PoolClient, startUserPool, UserPool } from "../local/userPool";
import { serveLocally } from "../local/companionServer";
import type { HttpApiEvent, HttpApiResponse } from "../handler/companionApi";

/** The functions, by the names the stack gives them. */
export const FUNCTIONS = { skill: "smartlamp-function", consumer: "change-reports-consumer", companion: "companion-function" } as const;
export type FunctionName = keyof typeof FUNCTIONS;

export interface LocalCloudOptions {
    /** Where the pool and the companion page listen (0: any free port). */
    poolPort?: number;
    companionPort?: number;
    /** Where the pool sends a browser that Cognito would send to one of Alexa's redirect URLs. */
    alexaRedirectOrigin: string;
    /** Hears every line a function writes: its JSON log lines (stdout), and what it prints on stderr. */
    onLog?: (fn: FunctionName, line: string, stream: "stdout" | "stderr") => void;
    /** Hears each confirmation code the pool emails. */
    onMail?: (mail: { email: string; code: string }) => void;
    /** Users the pool holds from the start. */
    users?: { email: string; password: string }[];
}

/** What the Alexa developer console would be given: the stack's outputs. */
export interface LinkingSettings {
    authorizationUri: string;
    accessTokenUri: string;
    clientId: string;
    clientSecret: string;
    scopes: string[];
    alexaRedirectUrls: string[];
    accessTokenValidityMinutes: number;
}

export interface LocalCloud {
    linking: LinkingSettings;
    /** The companion page's address (the companion client's callback URL). */
    companionUrl: string;
    pool: UserPool;
    /** Whether the stack sends Alexa events (then Alexa sends AcceptGrant when the skill is enabled). */
    eventsOn: boolean;
    lwa: LwaEndpoint;
    gateway: AlexaGateway;
    dynamo: LocalDynamo;
    /** The skill's function: Alexa calls it with each directive. */
    skill: LocalFunction;
    stop(): Promise<void>;
}

/** A function as Lambda runs it: one warm container at a time, and a new one after it died. */
export interface LocalFunction {
    invoke(event: unknown): Promise<any>;
    stop(): Promise<void>;
}

export async function startFunction(start: () => Promise<ArchiveContainer>): Promise<LocalFunction> {
    let container = await start();
    let starting: Promise<ArchiveContainer> | undefined;
    return {
        async invoke(event) {
            if (!container.alive()) {
                // It crashed or timed out: the next invocation gets a fresh container (a cold start).
                starting ??= start().finally(() => (starting = undefined));
                container = await starting;
            }
            return container.invoke(event);
        },
        stop: () => container.stop(),
    };
}

const TYPES = {
    fn: "aws:lambda/function:Function",
    table: "aws:dynamodb/table:Table",
    client: "aws:cognito/userPoolClient:UserPoolClient",
    pool: "aws:cognito/userPool:UserPool",
    queue: "aws:sqs/queue:Queue",
    mapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
    invocation: "aws:lambda/invocation:Invocation",
} as const;

/** A port taken by another program: what the user can do about it. */
export class PortBusy extends Error {
    constructor(readonly port: number) {
        super(`port ${port} is in use by another program on this machine`);
    }
}

/** Fails with PortBusy when `port` (not 0) is taken on 127.0.0.1. */
export async function assertPortFree(port: number): Promise<void> {
    if (port === 0) {
        return;
    }
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
        probe.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? new PortBusy(port) : err));
        probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
    });
}

/** The pool's app client as the program declared it, and as the mocks answered (its id and secret). */
function poolClient(resource: RecordedResource): PoolClient {
    const { inputs, state } = resource;
    const minutes = (value: number, unit: string | undefined) => (unit === "days" ? value * 1440 : unit === "hours" ? value * 60 : unit === "seconds" ? value / 60 : value);
    const days = (value: number, unit: string | undefined) => (unit === "minutes" ? value / 1440 : unit === "hours" ? value / 24 : unit === "seconds" ? value / 86400 : value);
    return {
        clientId: resource.id,
        clientSecret: inputs.generateSecret ? state.clientSecret : undefined,
        callbackUrls: inputs.callbackUrls ?? [],
        logoutUrls: inputs.logoutUrls,
        scopes: inputs.allowedOauthScopes ?? [],
        accessTokenValidityMinutes: minutes(inputs.accessTokenValidity ?? 60, inputs.tokenValidityUnits?.accessToken),
        refreshTokenValidityDays: days(inputs.refreshTokenValidity ?? 30, inputs.tokenValidityUnits?.refreshToken),
    };
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
    const stops: (() => Promise<unknown>)[] = [];
    const archives: MaterialisedArchive[] = [];
    let runtime: string | undefined;
    const stop = async () => {
        for (const stopOne of stops.reverse()) {
            await stopOne().catch(() => undefined);
        }
        stops.length = 0;
        for (const archive of archives) {
            fs.rmSync(archive.dir, { recursive: true, force: true });
        }
        if (runtime) {
            fs.rmSync(runtime, { recursive: true, force: true });
        }
    };
    try {
        // The page's URL is its app client's callback URL: listen first, then run the program.
        let companionHandler: (event: HttpApiEvent) => Promise<HttpApiResponse> = async () => ({ statusCode: 503, headers: { "content-type": "text/plain" }, body: "starting" });
        await assertPortFree(options.companionPort ?? 0);
        const companionServer = await serveLocally((event) => companionHandler(event), options.companionPort ?? 0);
        stops.push(() => companionServer.stop());
        // Cognito takes an http callback URL for localhost only (README, "The companion app").
        const companionUrl = companionServer.url.replace("127.0.0.1", "localhost");

        const run = await runProgram({
            ...PRIMARY_CONFIG,
            alexaClientId: LWA_CLIENT_ID,
            alexaClientSecret: LWA_CLIENT_SECRET,
            companionApp: "true",
            // The alarms have nowhere to go here; the stack requires an address with events on.
            alarmEmail: "operator@example.com",
            companionCallbackUrls: JSON.stringify([companionUrl]),
        }, "dev", { secretKeys: ["alexaClientSecret"] });
        const linking = linkingSettings(run);

        const dynamo = await startDynalite();
        stops.push(() => dynamo.stop());
        for (const table of run.all(TYPES.table)) {
            await dynamo.createTable(table.state.name, { hashKey: table.inputs.hashKey, rangeKey: table.inputs.rangeKey, attributes: table.inputs.attributes });
        }
        const lwa = await startLwaEndpoint();
        stops.push(() => lwa.stop());
        const gateway = await startAlexaGateway(lwa);
        stops.push(() => gateway.stop());
        const sqs = await startLocalSqs();
        stops.push(() => sqs.stop());
        const kms = await startKmsEndpoint();
        stops.push(() => kms.stop());
        const environmentOf = (name: FunctionName) => run.all(TYPES.fn).find((f) => f.name === FUNCTIONS[name])!.inputs.environment.variables as Record<string, string>;
        const skillEnvironment = environmentOf("skill");
        kms.createKey(skillEnvironment.SKILL_GRANTS_KEY);
        const ssm = await startSsmEndpoint({ [skillEnvironment.SKILL_ALEXA_SECRET_PARAMETER]: LWA_CLIENT_SECRET });
        stops.push(() => ssm.stop());

        const userPool = run.one(TYPES.pool).inputs;
        const pool = await startUserPool({
            poolId: run.one(TYPES.pool).id,
            key: POOL_KEY,
            clients: run.all(TYPES.client).map(poolClient),
            users: options.users,
            selfSignUp: userPool.adminCreateUserConfig?.allowAdminCreateUserOnly !== true,
            redirectHosts: Object.fromEntries(linking.alexaRedirectUrls.map((url) => [new URL(url).origin, options.alexaRedirectOrigin])),
            onMail: options.onMail,
            mailHint: "Local pool: no mail leaves this machine. The code is in the terminal running npm start, and in the simulator's mailbox.",
            port: options.poolPort,
        });
        stops.push(() => pool.stop());

        // Each function in its own warm container, as Lambda keeps one between invocations.
        runtime = lambdaRuntimeModules();
        const services = { dynamoDb: dynamo.endpoint, ssm: ssm.endpoint, sqs: sqs.endpoint, kms: kms.endpoint, lwaTokenUrl: lwa.tokenUrl, gatewayUrl: gateway.url };
        const containers = {} as Record<FunctionName, LocalFunction>;
        for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
            const fn = run.all(TYPES.fn).find((f) => f.name === FUNCTIONS[name])!;
            const archive = await materialiseArchive(fn.inputs.code);
            archives.push(archive);
            const overrides: Record<string, string> = name === "companion"
                // The page signs in on the local pool and comes back to its local address.
                ? { COMPANION_AUTH_BASE_URL: pool.base, COMPANION_PAGE_URL: companionUrl }
                : {};
            containers[name] = await startFunction(() => startArchiveContainer(archive, runtime!, { ...localEnvironment(environmentOf(name), services), ...overrides }, {
                timeoutMs: (fn.inputs.timeout ?? 3) * 1000,
                onLine: (line, stream) => options.onLog?.(name, line, stream),
            }));
            stops.push(() => containers[name].stop());
        }
        companionHandler = (event) => containers.companion.invoke(event);

        // What `pulumi up` runs once: the consumer seals grants stored in the clear (none here).
        await containers.consumer.invoke(JSON.parse(run.one(TYPES.invocation).inputs.input));

        // The queue the skill and the companion send ChangeReports to, polled for the consumer.
        const queueOf = (name: string) => run.all(TYPES.queue).find((q) => q.name === name)!;
        const [queueResource, deadLetterResource] = [queueOf("change-reports-queue"), queueOf("change-reports-dead-letters")];
        const deadLetters: LocalQueue = sqs.createFifoQueue(deadLetterResource.inputs.name, deadLetterResource.state.url);
        const queue: LocalQueue = sqs.createFifoQueue(queueResource.inputs.name, queueResource.state.url);
        const mappingInputs = run.one(TYPES.mapping).inputs;
        const mapping = eventSourceMapping(queue, deadLetters, (event) => containers.consumer.invoke(event), {
            batchSize: mappingInputs.batchSize,
            maxReceiveCount: JSON.parse(queueResource.inputs.redrivePolicy).maxReceiveCount,
            visibilityTimeoutMs: queueResource.inputs.visibilityTimeoutSeconds * 1000,
        });
        let polling = true;
        const poller = (async () => {
            // Lambda polls with long polling; a quarter of a second apart is as prompt here.
            while (polling) {
                const received = await mapping.poll().catch(() => 0);
                if (received === 0) {
                    await new Promise((resolve) => setTimeout(resolve, 250));
                }
            }
        })();
        stops.push(async () => {
            polling = false;
            await poller;
        });

        return { linking, companionUrl, pool, eventsOn: Boolean(skillEnvironment.SKILL_ALEXA_CLIENT_ID), lwa, gateway, dynamo, skill: containers.skill, stop };
    } catch (err) {
        await stop();
        throw err;
    }
}

/** The stack outputs a developer pastes into the Alexa console's Account Linking page. */
function linkingSettings(run: ProgramRun): LinkingSettings {
    const out = run.outputs as Record<string, any>;
    return {
        authorizationUri: out.authorizationUri,
        accessTokenUri: out.accessTokenUri,
        clientId: out.clientId,
        clientSecret: out.clientSecret,
        scopes: out.scopes,
        alexaRedirectUrls: out.alexaRedirectUrls,
        accessTokenValidityMinutes: out.accessTokenValidityMinutes,
    };
}
