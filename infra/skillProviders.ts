// The Pulumi dynamic providers that configure the Alexa skill through SMAPI: the Smart Home endpoint
// of one region stack in the skill manifest, (primary stack only) the skill's account linking, and
// a read-only one for the skill's messaging credentials.
//
// Pulumi serializes each provider object with everything its methods reach, like a CallbackFunction
// (pulumi/pulumi sdk/nodejs/dynamic/index.ts, serializeProvider), and runs that text in the engine's
// dynamic provider host for check/diff/create/read/update/delete. Hence:
// - every SMAPI session (and its access token) is built inside the call, from the resource's inputs;
//   the providers hold only timing numbers, never a credential, and no module here keeps state;
// - the credentials reach the provider as inputs: secret in the program, kept secret in the state
//   (`additionalSecretOutputs`, and the engine marks outputs secret whose input was: pulumi/pulumi
//   pkg/resource/plugin/provider_plugin.go, annotateSecrets, as this host does not accept secrets);
// - `check` and `diff` compare the stack's inputs with the last state and call nothing: `pulumi
//   preview` shows the managed fields that would change and writes nothing. During a preview the
//   engine does not call Create or Update of a provider that does not declare preview support
//   (pulumi/pulumi pkg/resource/plugin/provider_plugin.go: `!pcfg.supportsPreview` returns the
//   inputs), and the dynamic host declares none (sdk/nodejs/cmd/dynamic-provider, configure).
import type * as pulumi from "@pulumi/pulumi";
import { alexaRegionCode, managedValues, ManagedEndpoint } from "./skillManifest";
import { liveLinking, linkingDifferences, ShownLinking, withClientSecret } from "./skillLinking";
import {
    applyEndpoint, defaultTiming, readAccountLinking, readManifest, readMessagingCredentials, removeEndpoint, SmapiCredentials, smapiSession, SmapiTiming,
    writeAccountLinking,
} from "./smapiClient";

export interface SmapiConnection {
    credentials: SmapiCredentials;
    smapiBase: string;
    lwaTokenUrl: string;
}

export interface SkillEndpointInputs extends SmapiConnection {
    skillId: string;
    /** The AWS region of this stack's function: us-east-1, eu-west-1 or us-west-2. */
    awsRegion: string;
    /** The function's ARN. */
    endpointUri: string;
    /** The primary stack also owns the default endpoint. */
    isDefault: boolean;
}

export interface SkillEndpointOutputs extends SkillEndpointInputs {
    alexaRegion: string;
    /**
     * The entries as last seen (after our write, or by a refresh). They differ from endpointUri when
     * someone changed them in the console: that is the drift a refresh reports, and the `up` after
     * it sets them again. `endpointUri` stays the stack's own, so that a destroy never removes theirs.
     */
    liveRegionUri?: string;
    liveDefaultUri?: string;
}

export interface SkillAccountLinkingInputs extends SmapiConnection {
    skillId: string;
    /** The request's fields but the secret: plain, so that a preview shows which of them change. */
    accountLinking: ShownLinking;
    /** The app client's secret (Cognito's), a secret input. */
    clientSecret: string;
}

export interface SkillAccountLinkingOutputs extends SkillAccountLinkingInputs {
    /** The fields SMAPI showed different from the stack's at the last refresh (empty: none). */
    drift: string[];
}

export interface SkillMessagingCredentialsInputs extends SmapiConnection {
    skillId: string;
}

export interface SkillMessagingCredentialsOutputs extends SkillMessagingCredentialsInputs {
    /** The skill's Alexa Client ID and Secret (the console's Permissions page), for sending events. */
    alexaClientId: string;
    alexaClientSecret: string;
}

/** The values Pulumi passes for outputs not known during a preview (pulumi/pulumi sdk/nodejs/runtime/rpc.ts, unknownValue). */
function isUnknown(value: unknown): boolean {
    return value === "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
}

function same(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

/** A refresh passes the last state; `pulumi import` would pass none, and the credentials are in the state only. */
function knownState<T>(id: string, state: T | undefined): T {
    if (state === undefined || state === null || Object.keys(state).length === 0) {
        throw new Error(`${id} cannot be imported: it is created by \`npx pulumi up\` from the stack's configuration.`);
    }
    return state;
}

function timingOf(overrides: Partial<SmapiTiming> | undefined): SmapiTiming {
    return { ...defaultTiming(), ...(overrides ?? {}) };
}

function connectionFailures(inputs: Partial<SmapiConnection>): pulumi.dynamic.CheckFailure[] {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    for (const key of ["clientId", "clientSecret", "refreshToken"] as const) {
        const value = inputs.credentials?.[key];
        if (!isUnknown(value) && (typeof value !== "string" || value.length === 0)) {
            const configKey = `smapi${key[0].toUpperCase()}${key.slice(1)}`;
            failures.push({ property: "credentials", reason: `${configKey} is empty: set it with \`npx pulumi config set --secret ${configKey} <value>\`` });
        }
    }
    return failures;
}

/** The live entries right after a successful write. */
function applied(inputs: SkillEndpointInputs): { liveRegionUri: string; liveDefaultUri?: string } {
    return { liveRegionUri: inputs.endpointUri, liveDefaultUri: inputs.isDefault ? inputs.endpointUri : undefined };
}

function managed(inputs: SkillEndpointInputs): ManagedEndpoint {
    return { region: alexaRegionCode(inputs.awsRegion), uri: inputs.endpointUri, isDefault: inputs.isDefault };
}

/** The Smart Home endpoint entries one region stack owns in the skill manifest. */
export class SkillEndpointProvider implements pulumi.dynamic.ResourceProvider<SkillEndpointInputs, SkillEndpointOutputs> {
    constructor(private readonly timing?: Partial<SmapiTiming>) {}

    async check(_olds: SkillEndpointInputs, news: SkillEndpointInputs): Promise<pulumi.dynamic.CheckResult<SkillEndpointInputs>> {
        const failures = connectionFailures(news);
        if (!["us-east-1", "eu-west-1", "us-west-2"].includes(news.awsRegion)) {
            failures.push({ property: "awsRegion", reason: `${news.awsRegion} is not a region where Alexa calls Smart Home skill functions (us-east-1, eu-west-1, us-west-2)` });
        }
        const uri = news.endpointUri;
        if (!isUnknown(uri) && !(typeof uri === "string" && uri.startsWith(`arn:aws:lambda:${news.awsRegion}:`))) {
            failures.push({ property: "endpointUri", reason: `the endpoint must be the ARN of a Lambda function in ${news.awsRegion} (got ${String(uri)})` });
        }
        return { inputs: news, failures };
    }

    async diff(_id: string, olds: SkillEndpointOutputs, news: SkillEndpointInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces = (["skillId", "awsRegion"] as const).filter((key) => !same(olds[key], news[key]));
        const changed = (["endpointUri", "isDefault", "credentials", "smapiBase", "lwaTokenUrl"] as const).filter((key) => !same(olds[key], news[key]));
        // A refresh that saw an entry pointing elsewhere makes the next `up` set it again.
        const drift = olds.liveRegionUri !== news.endpointUri || (news.isDefault && olds.liveDefaultUri !== news.endpointUri);
        return {
            changes: replaces.length > 0 || changed.length > 0 || drift,
            replaces,
            deleteBeforeReplace: false,
        };
    }

    async create(inputs: SkillEndpointInputs): Promise<pulumi.dynamic.CreateResult<SkillEndpointOutputs>> {
        const timing = timingOf(this.timing);
        const session = smapiSession(inputs.skillId, inputs.credentials, inputs, timing);
        await applyEndpoint(session, managed(inputs), timing);
        const alexaRegion = alexaRegionCode(inputs.awsRegion);
        return {
            id: `${inputs.skillId}/${alexaRegion}`,
            outs: { ...inputs, alexaRegion, ...applied(inputs) },
        };
    }

    /** Reports the entries as the skill holds them now: a console edit shows as a change of liveRegionUri or liveDefaultUri. */
    async read(id: string, state?: SkillEndpointOutputs): Promise<pulumi.dynamic.ReadResult<SkillEndpointOutputs>> {
        const props = knownState(id, state);
        const timing = timingOf(this.timing);
        const session = smapiSession(props.skillId, props.credentials, props, timing);
        const { envelope } = await readManifest(session);
        const live = managedValues(envelope, alexaRegionCode(props.awsRegion));
        return {
            id,
            props: { ...props, liveRegionUri: live.regionUri ?? "", liveDefaultUri: props.isDefault ? (live.defaultUri ?? "") : undefined },
        };
    }

    async update(_id: string, olds: SkillEndpointOutputs, news: SkillEndpointInputs): Promise<pulumi.dynamic.UpdateResult<SkillEndpointOutputs>> {
        const timing = timingOf(this.timing);
        const session = smapiSession(news.skillId, news.credentials, news, timing);
        await applyEndpoint(session, managed(news), timing);
        return { outs: { ...news, alexaRegion: olds.alexaRegion ?? alexaRegionCode(news.awsRegion), ...applied(news) } };
    }

    /** Removes this stack's entries only; an entry someone pointed elsewhere stays, and so does the rest of the skill. */
    async delete(_id: string, props: SkillEndpointOutputs): Promise<void> {
        const timing = timingOf(this.timing);
        const session = smapiSession(props.skillId, props.credentials, props, timing);
        await removeEndpoint(session, managed(props), timing);
    }
}

/** The skill's account linking (development stage), applied by the primary stack. */
export class SkillAccountLinkingProvider implements pulumi.dynamic.ResourceProvider<SkillAccountLinkingInputs, SkillAccountLinkingOutputs> {
    constructor(private readonly timing?: Partial<SmapiTiming>) {}

    async check(_olds: SkillAccountLinkingInputs, news: SkillAccountLinkingInputs): Promise<pulumi.dynamic.CheckResult<SkillAccountLinkingInputs>> {
        return { inputs: news, failures: connectionFailures(news) };
    }

    async diff(_id: string, olds: SkillAccountLinkingOutputs, news: SkillAccountLinkingInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces = same(olds.skillId, news.skillId) ? [] : ["skillId"];
        const changed = (["accountLinking", "clientSecret", "credentials", "smapiBase", "lwaTokenUrl"] as const).filter((key) => !same(olds[key], news[key]));
        return { changes: replaces.length > 0 || changed.length > 0, replaces, deleteBeforeReplace: false };
    }

    async create(inputs: SkillAccountLinkingInputs): Promise<pulumi.dynamic.CreateResult<SkillAccountLinkingOutputs>> {
        const session = smapiSession(inputs.skillId, inputs.credentials, inputs, timingOf(this.timing), [inputs.clientSecret]);
        await writeAccountLinking(session, withClientSecret(inputs.accountLinking, inputs.clientSecret));
        return { id: `${inputs.skillId}/accountLinking`, outs: { ...inputs, drift: [] } };
    }

    /** Reports the configuration SMAPI holds now (the client secret, which SMAPI never shows, as the stack's). */
    async read(id: string, state?: SkillAccountLinkingOutputs): Promise<pulumi.dynamic.ReadResult<SkillAccountLinkingOutputs>> {
        const props = knownState(id, state);
        const session = smapiSession(props.skillId, props.credentials, props, timingOf(this.timing));
        const live = await readAccountLinking(session);
        return {
            id,
            props: { ...props, accountLinking: liveLinking(live, props.accountLinking) ?? (null as unknown as ShownLinking), drift: linkingDifferences(live, props.accountLinking) },
        };
    }

    async update(_id: string, _olds: SkillAccountLinkingOutputs, news: SkillAccountLinkingInputs): Promise<pulumi.dynamic.UpdateResult<SkillAccountLinkingOutputs>> {
        const session = smapiSession(news.skillId, news.credentials, news, timingOf(this.timing), [news.clientSecret]);
        await writeAccountLinking(session, withClientSecret(news.accountLinking, news.clientSecret));
        return { outs: { ...news, drift: [] } };
    }

    /** The skill keeps its account linking: removing it would unlink no one but stop every new link. */
    async delete(): Promise<void> {
        return;
    }
}

/**
 * The skill's messaging credentials, read (never written) through SMAPI, so that a stack sending
 * Alexa events needs no Alexa Client ID and Secret pasted into its config. A refresh reads them
 * again (a secret rotated in the console); a destroy leaves the skill as it is.
 */
export class SkillMessagingCredentialsProvider implements pulumi.dynamic.ResourceProvider<SkillMessagingCredentialsInputs, SkillMessagingCredentialsOutputs> {
    constructor(private readonly timing?: Partial<SmapiTiming>) {}

    async check(_olds: SkillMessagingCredentialsInputs, news: SkillMessagingCredentialsInputs): Promise<pulumi.dynamic.CheckResult<SkillMessagingCredentialsInputs>> {
        return { inputs: news, failures: connectionFailures(news) };
    }

    async diff(_id: string, olds: SkillMessagingCredentialsOutputs, news: SkillMessagingCredentialsInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces = same(olds.skillId, news.skillId) ? [] : ["skillId"];
        const changed = (["credentials", "smapiBase", "lwaTokenUrl"] as const).filter((key) => !same(olds[key], news[key]));
        return { changes: replaces.length > 0 || changed.length > 0, replaces, deleteBeforeReplace: false };
    }

    private async fetch(inputs: SkillMessagingCredentialsInputs): Promise<SkillMessagingCredentialsOutputs> {
        const session = smapiSession(inputs.skillId, inputs.credentials, inputs, timingOf(this.timing));
        const messaging = await readMessagingCredentials(session);
        return { ...inputs, alexaClientId: messaging.clientId, alexaClientSecret: messaging.clientSecret };
    }

    async create(inputs: SkillMessagingCredentialsInputs): Promise<pulumi.dynamic.CreateResult<SkillMessagingCredentialsOutputs>> {
        return { id: `${inputs.skillId}/credentials`, outs: await this.fetch(inputs) };
    }

    async read(id: string, state?: SkillMessagingCredentialsOutputs): Promise<pulumi.dynamic.ReadResult<SkillMessagingCredentialsOutputs>> {
        return { id, props: await this.fetch(knownState(id, state)) };
    }

    async update(_id: string, _olds: SkillMessagingCredentialsOutputs, news: SkillMessagingCredentialsInputs): Promise<pulumi.dynamic.UpdateResult<SkillMessagingCredentialsOutputs>> {
        return { outs: await this.fetch(news) };
    }

    async delete(): Promise<void> {
        return;
    }
}
