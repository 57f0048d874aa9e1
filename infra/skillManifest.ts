// What one region stack owns in the skill's manifest, and nothing more: the Smart Home endpoint of
// its own Alexa region (`apis.smartHome.regions.<NA|EU|FE>.endpoint.uri`) and, on the primary
// stack, the default endpoint (`apis.smartHome.endpoint.uri`). Every other part of the manifest
// belongs to whoever wrote it (the console, another region's stack) and is handed back untouched.
// Shapes from Amazon's "Skill Manifest Schema" (developer.amazon.com/docs/alexa/smapi/skill-manifest.html,
// `apis.smartHome`: `endpoint`, `regions` keyed NA, EU, FE, each with `endpoint.uri`).
//
// Plain functions over JSON: the dynamic provider calls them, and so can a test, without SMAPI.
// They are serialized with the provider (infra/skillProviders.ts), so they keep no module state.

/** Alexa's code for the region each of this project's AWS regions serves. */
export type AlexaRegionCode = "NA" | "EU" | "FE";

/** us-east-1 serves North America, eu-west-1 Europe and India, us-west-2 the Far East (infra/alexa.ts). */
export function alexaRegionCode(awsRegion: string): AlexaRegionCode {
    switch (awsRegion) {
        case "us-east-1":
            return "NA";
        case "eu-west-1":
            return "EU";
        case "us-west-2":
            return "FE";
        default:
            throw new Error(`${awsRegion} is not a region where Alexa calls Smart Home skill functions (us-east-1, eu-west-1, us-west-2)`);
    }
}

/** The manifest entries one stack manages. */
export interface ManagedEndpoint {
    region: AlexaRegionCode;
    /** The skill function's ARN. */
    uri: string;
    /** The primary stack also sets the default endpoint, which serves regions without their own. */
    isDefault: boolean;
}

/** The current values of the managed entries (undefined: the entry is absent). */
export interface ManagedValues {
    regionUri?: string;
    defaultUri?: string;
}

/** One managed field whose value differs from the wanted one. */
export interface FieldChange {
    /** JSON path in the manifest envelope, as SMAPI's messages name fields. */
    path: string;
    current?: string;
    wanted?: string;
}

type Json = Record<string, any>;

function objectAt(parent: Json, key: string): Json {
    const value = parent[key];
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        return value;
    }
    const created: Json = {};
    parent[key] = created;
    return created;
}

function stringAt(value: unknown, ...keys: string[]): string | undefined {
    let at: any = value;
    for (const key of keys) {
        at = typeof at === "object" && at !== null ? at[key] : undefined;
    }
    return typeof at === "string" ? at : undefined;
}

/** The managed entries' current values in a manifest envelope (`{ manifest: {...} }`). */
export function managedValues(envelope: unknown, region: AlexaRegionCode): ManagedValues {
    return {
        regionUri: stringAt(envelope, "manifest", "apis", "smartHome", "regions", region, "endpoint", "uri"),
        defaultUri: stringAt(envelope, "manifest", "apis", "smartHome", "endpoint", "uri"),
    };
}

/** The JSON paths of the managed entries, as SMAPI's violations name them. */
export function regionPath(region: AlexaRegionCode): string {
    return `$.manifest.apis.smartHome.regions.${region}.endpoint.uri`;
}
const DEFAULT_ENDPOINT_PATH = "$.manifest.apis.smartHome.endpoint.uri";

/** Which managed fields must change for the manifest to hold `wanted` (empty: it already does). */
export function endpointChanges(envelope: unknown, wanted: ManagedEndpoint): FieldChange[] {
    const current = managedValues(envelope, wanted.region);
    const changes: FieldChange[] = [];
    if (current.regionUri !== wanted.uri) {
        changes.push({ path: regionPath(wanted.region), current: current.regionUri, wanted: wanted.uri });
    }
    if (wanted.isDefault && current.defaultUri !== wanted.uri) {
        changes.push({ path: DEFAULT_ENDPOINT_PATH, current: current.defaultUri, wanted: wanted.uri });
    }
    return changes;
}

/**
 * A copy of the manifest envelope with this stack's entries set to `wanted`; everything else,
 * other regions' endpoints included, as it was.
 */
export function withEndpoint(envelope: unknown, wanted: ManagedEndpoint): Json {
    const copy: Json = JSON.parse(JSON.stringify(envelope ?? {}));
    const smartHome = objectAt(objectAt(objectAt(copy, "manifest"), "apis"), "smartHome");
    const regionEntry = objectAt(objectAt(smartHome, "regions"), wanted.region);
    objectAt(regionEntry, "endpoint").uri = wanted.uri;
    if (wanted.isDefault) {
        objectAt(smartHome, "endpoint").uri = wanted.uri;
    }
    return copy;
}

/**
 * A copy of the manifest envelope without this stack's entries: its region's endpoint and (on the
 * primary) the default endpoint are removed only while they still point at this stack's function.
 * An entry someone has since pointed elsewhere is theirs, and stays.
 */
export function withoutEndpoint(envelope: unknown, owned: ManagedEndpoint): Json {
    const copy: Json = JSON.parse(JSON.stringify(envelope ?? {}));
    const smartHome = copy.manifest?.apis?.smartHome;
    if (typeof smartHome !== "object" || smartHome === null) {
        return copy;
    }
    const regions = smartHome.regions;
    if (stringAt(regions, owned.region, "endpoint", "uri") === owned.uri) {
        delete regions[owned.region];
        if (Object.keys(regions).length === 0) {
            delete smartHome.regions;
        }
    }
    if (owned.isDefault && stringAt(smartHome, "endpoint", "uri") === owned.uri) {
        delete smartHome.endpoint;
    }
    return copy;
}

/** Whether removing `owned` would change the manifest at all. */
export function ownsAnyEntry(envelope: unknown, owned: ManagedEndpoint): boolean {
    return JSON.stringify(withoutEndpoint(envelope, owned)) !== JSON.stringify(envelope ?? {});
}
