// The stack's configuration: every key read once, checked, and returned as one frozen object.
// A bad value stops `pulumi up` before any resource is registered, with every problem at once.
//
// The Pulumi engine runs first (pulumi/pulumi sdk/go/common/workspace/config.go, mergeConfig and
// validateStackConfigValue): it fills in Pulumi.yaml's defaults, refuses a stack that lacks
// alexaSkillId (the one key without a default), and refuses a value of the wrong type. So here
// every key is present, integers parse, lists are JSON arrays of strings, and "" means "not set".
import * as pulumi from "@pulumi/pulumi";
import { ALEXA_REGIONS } from "./alexa";

export const COGNITO_SCOPES = ["openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"] as const;
export type CognitoScope = (typeof COGNITO_SCOPES)[number];

export const MFA_SETTINGS = ["OFF", "ON"] as const;
export type MfaSetting = (typeof MFA_SETTINGS)[number];

/** Cognito's feature plans (UserPoolTier). */
export const FEATURE_PLANS = ["LITE", "ESSENTIALS", "PLUS"] as const;
export type FeaturePlan = (typeof FEATURE_PLANS)[number];

export interface CustomDomain {
    domain: string;
    certificateArn: string;
}

/** Amazon SES as the pool's email sender. */
export interface EmailSender {
    sourceArn: string;
    /** Undefined: the SES identity's own address. */
    from?: string;
}

export interface StackConfig {
    alexaSkillId: string;
    /** Undefined on a secondary region stack, which takes the linking settings from the primary. */
    alexaVendorId?: string;
    extraCallbackUrls: string[];
    /** Undefined: derived from the account, region and stack (see AccountLinking). */
    domainPrefix?: string;
    customDomain?: CustomDomain;
    scopes: CognitoScope[];
    refreshTokenValidityDays: number;
    accessTokenValidityMinutes: number;
    mfa: MfaSetting;
    featurePlan: FeaturePlan;
    /** Undefined: Cognito's own sender (about 50 emails a day). */
    email?: EmailSender;
    /** Set on a secondary region stack: the primary's pool and client, whose tokens it verifies. */
    primaryPool?: PrimaryPool;
    region: string;
    /** Set when the skill sends Alexa events: its Alexa Client Id and Secret (console: Permissions). */
    alexaEvents?: AlexaEventsSource;
    /**
     * With events on: the name of a grants table kept from an earlier time with events on, used
     * instead of a new one. Undefined: the stack makes (or already has) its own.
     */
    alexaGrantsTable?: string;
    /** Where alarms notify; both undefined: nowhere but the CloudWatch console. */
    alarms: AlarmTargets;
    /** Whether this stack serves the companion page and API (with their app client on the pool). */
    companionApp: boolean;
    /** The companion client's callback URLs; empty: the page's own URL and a localhost URL. */
    companionCallbackUrls: string[];
}

export interface AlexaEventsConfig {
    clientId: pulumi.Input<string>;
    /** A Pulumi secret from first to last: it is stored as an SSM SecureString (infra/alexaGrants.ts). */
    clientSecret: pulumi.Output<string>;
}

/**
 * Where the skill's event credentials come from: the stack's config, or (`fromSkill`) the skill
 * itself through SMAPI, which needs the smapi* values (infra/skillConfiguration.ts reads them).
 */
export type AlexaEventsSource = { fromSkill: false; credentials: AlexaEventsConfig } | { fromSkill: true };

/** At most one of the two: an address subscribed to a topic the stack makes, or a topic of yours. */
export interface AlarmTargets {
    email?: string;
    topicArn?: string;
}

/** The primary stack's pool and app client, as its userPoolId and clientId outputs give them. */
export interface PrimaryPool {
    userPoolId: string;
    clientId: string;
    /** The primary's authorizationUri output: only the companion app needs it (its sign-in page). */
    authorizationUri?: string;
}

/** Raw values as the engine hands them over: text, lists as JSON. */
export type RawConfig = Record<string, string | undefined>;

/** Keys that shape the user pool or its app client, and so only the primary stack uses. */
const PRIMARY_ONLY_KEYS = [
    "alexaVendorId",
    "extraCallbackUrls",
    "domainPrefix",
    "customDomain",
    "certificateArn",
    "scopes",
    "refreshTokenValidityDays",
    "accessTokenValidityMinutes",
    "mfa",
    "featurePlan",
    "emailSourceArn",
    "emailFrom",
] as const;

export const CONFIG_KEYS = [
    "alexaSkillId",
    ...PRIMARY_ONLY_KEYS,
    "primaryUserPoolId",
    "primaryClientId",
    "primaryAuthorizationUri",
    "alexaClientId",
    "alexaEvents",
    "alexaGrantsTable",
    "alarmEmail",
    "alarmTopicArn",
    "companionApp",
    "companionCallbackUrls",
] as const;

/**
 * Keys an earlier version declared: the engine still hands them over from a stack file, so one that
 * is set gets a problem that says what replaced it rather than being silently ignored.
 */
const RETIRED_KEYS: Record<string, string> = {
    accountLinkingStack: "a secondary stack now takes the primary's pool and client instead of reading its state (which held the client secret): " +
        "set primaryUserPoolId and primaryClientId (README, \"One stack per Alexa region\")",
};

/** What Pulumi.yaml declares as each optional key's default, as the engine hands it over. */
const DEFAULTS: Record<(typeof PRIMARY_ONLY_KEYS)[number], string> = {
    alexaVendorId: "",
    extraCallbackUrls: "[]",
    domainPrefix: "",
    customDomain: "",
    certificateArn: "",
    scopes: '["openid"]',
    refreshTokenValidityDays: "3650",
    accessTokenValidityMinutes: "60",
    mfa: "OFF",
    featurePlan: "LITE",
    emailSourceArn: "",
    emailFrom: "",
};

/** All the problems of one configuration, said at once. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(
            `The stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was deployed.\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

const SKILL_ID = /^amzn1\.ask\.skill\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const VENDOR_ID = /^[A-Z0-9]{10,20}$/;
// Cognito's prefix rule (CreateUserPoolDomain, Domain: ^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$).
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Cognito refuses prefixes that contain these words (reserved for AWS). */
export const RESERVED_PREFIX_WORDS = ["aws", "amazon", "cognito"];
const HOSTNAME = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
// Cognito serves custom domains through CloudFront, which takes certificates from us-east-1 only.
const US_EAST_1_CERTIFICATE = /^arn:aws:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/;
const SES_IDENTITY = /^arn:aws:ses:([a-z]{2}(?:-[a-z]+)+-\d):\d{12}:identity\/(.+)$/;
// Cognito's formats (UserPoolType Id: <region>_<id>; UserPoolClientType ClientId: [\w+]+, up to 128).
const USER_POOL_ID = /^[a-z]{2}(?:-[a-z]+)+-\d_[0-9A-Za-z]+$/;
const CLIENT_ID = /^[\w+]{1,128}$/;
// Login with Amazon's client ids (the console's Alexa Client Id is one).
const LWA_CLIENT_ID = /^amzn1\.application-oa2-client\.[0-9a-f]{32}$/;
// DynamoDB table names: 3 to 255 of a-z, A-Z, 0-9, _, - and . (Developer Guide, "Naming rules").
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
// An SNS topic's ARN: standard topics only (CloudWatch alarm actions do not publish to FIFO topics).
const SNS_TOPIC_ARN = /^arn:aws:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/**
 * The SES regions a user pool may send through, by the pool's region: its own, or one of the three
 * legacy ones (Cognito developer guide, "Email settings for Amazon Cognito user pools", Amazon SES
 * email configuration Regions). Every Alexa region's pool may use all three.
 */
export const SES_REGIONS_FOR_POOL: Record<string, readonly string[]> = {
    "us-east-1": ["us-east-1", "us-west-2", "eu-west-1"],
    "eu-west-1": ["eu-west-1", "us-east-1", "us-west-2"],
    "us-west-2": ["us-west-2", "us-east-1", "eu-west-1"],
};

/** The address in `From`, whether given bare or as `Name <address>`. */
function mailAddress(from: string): string | undefined {
    const address = (/<([^<>]+)>\s*$/.exec(from)?.[1] ?? from).trim().toLowerCase();
    return /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(address) ? address : undefined;
}

/** SES sends only from the verified address itself, or from an address in the verified domain. */
function identityCovers(identity: string, address: string): boolean {
    const verified = identity.toLowerCase();
    return verified.includes("@") ? address === verified : address.endsWith("@" + verified);
}

/**
 * An https URL written out in full: `https://` and a host. (The URL parser also takes "https:x" and
 * "https:///x" as https://x/, but Cognito receives the text as given.)
 */
function isHttpsUrl(text: string): boolean {
    if (!/^https:\/\/[^/?#]/.test(text)) {
        return false;
    }
    try {
        return new URL(text).hash === "";
    } catch {
        return false;
    }
}

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
    // The SMAPI values are checked on their own (parseSmapiConfig); here only whether they are set counts.
    const smapiConfigured = (raw.smapiRefreshToken ?? "") !== "";
    const problems: string[] = [];
    const problem = (key: string, given: string | undefined, allowed: string, fix: string) => {
        const value = given === undefined || given === "" ? "is not set" : `is ${JSON.stringify(given)}`;
        problems.push(`${key} ${value}: ${allowed}. Fix: pulumi config ${fix}`);
    };
    // The engine hands every declared key over (alexaSkillId is required, the rest have defaults):
    // a missing one means the program ran without this project's Pulumi.yaml.
    const missing = CONFIG_KEYS.filter((key) => raw[key] === undefined);
    if (missing.length > 0) {
        throw new ConfigError(missing.map((key) =>
            `${key} was not handed over by the Pulumi engine: run the program with this project's Pulumi.yaml, which declares it.`));
    }
    // On a secondary stack the pool settings are refused below if set, and otherwise unused.
    const secondary = raw.primaryUserPoolId !== "" || raw.primaryClientId !== "";
    const source: RawConfig = secondary ? { ...raw, ...DEFAULTS } : raw;
    const text = (key: string): string => source[key]!;
    const optional = (key: string): string | undefined => text(key) || undefined;
    const list = (key: string): string[] => {
        try {
            const value: unknown = JSON.parse(text(key) || "[]");
            if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
                return value;
            }
        } catch {
            // Reported below.
        }
        problems.push(`${key} is not a list of strings as Pulumi.yaml declares it: run the program with the Pulumi CLI, which checks it.`);
        return [];
    };
    const integer = (key: string, min: number, max: number, why: string): number => {
        const given = text(key);
        const value = Number(given);
        if (!Number.isInteger(value) || value < min || value > max) {
            problem(key, given, `it must be a whole number from ${min} to ${max}${why}`, `set ${key} ${DEFAULTS[key as keyof typeof DEFAULTS]}`);
        }
        return value;
    };
    const oneOf = <T extends string>(key: string, allowed: readonly T[], meaning: string): T => {
        const given = text(key);
        if (!(allowed as readonly string[]).includes(given)) {
            problem(key, given, `it must be ${allowed.join(" or ")} (${meaning})`, `set ${key} ${DEFAULTS[key as keyof typeof DEFAULTS]}`);
        }
        return given as T;
    };

    for (const [key, replacement] of Object.entries(RETIRED_KEYS)) {
        if (raw[key] !== undefined && raw[key] !== "") {
            problem(key, raw[key], `it is no longer used; ${replacement}`, `rm ${key}`);
        }
    }

    let primaryPool: PrimaryPool | undefined;
    if (secondary) {
        const userPoolId = text("primaryUserPoolId");
        const clientId = text("primaryClientId");
        if (!USER_POOL_ID.test(userPoolId)) {
            problem("primaryUserPoolId", userPoolId, "it must be the primary stack's userPoolId output, <region>_<id>, given together with primaryClientId",
                'set primaryUserPoolId "$(pulumi stack output userPoolId --stack dev)"');
        }
        if (!CLIENT_ID.test(clientId)) {
            problem("primaryClientId", clientId, "it must be the primary stack's clientId output, given together with primaryUserPoolId",
                'set primaryClientId "$(pulumi stack output clientId --stack dev)"');
        }
        primaryPool = { userPoolId, clientId, authorizationUri: optional("primaryAuthorizationUri") };
    }

    const alexaSkillId = text("alexaSkillId");
    if (!SKILL_ID.test(alexaSkillId)) {
        problem("alexaSkillId", alexaSkillId,
            'it must be "amzn1.ask.skill." followed by a lower-case UUID, the Skill ID shown in the Alexa developer console',
            "set alexaSkillId amzn1.ask.skill.00000000-0000-0000-0000-000000000000");
    }

    if (secondary) {
        // A secondary stack verifies the primary's tokens and has no pool: a pool setting here
        // would silently do nothing, so it is refused.
        for (const key of PRIMARY_ONLY_KEYS) {
            const given = raw[key] ?? DEFAULTS[key];
            if (given !== DEFAULTS[key]) {
                problem(key, given, "only the primary stack uses it (this stack verifies the primary's tokens); set it there", `rm ${key}`);
            }
        }
    }

    const alexaVendorId = optional("alexaVendorId");
    if (!secondary && (alexaVendorId === undefined || !VENDOR_ID.test(alexaVendorId))) {
        problem("alexaVendorId", alexaVendorId,
            "it must be 10 to 20 upper-case letters or digits, the last path segment of the Alexa Redirect URLs on the skill's Account Linking page",
            "set alexaVendorId M2AAAAAAAAAAAA");
    }

    const extraCallbackUrls = list("extraCallbackUrls");
    const badUrls = extraCallbackUrls.filter((url) => !isHttpsUrl(url));
    if (badUrls.length > 0) {
        problem("extraCallbackUrls", text("extraCallbackUrls"),
            `every entry must be an https URL without a fragment (not: ${badUrls.map((b) => JSON.stringify(b)).join(", ")})`,
            "rm extraCallbackUrls, then: pulumi config set-all --path --plaintext 'extraCallbackUrls[0]=https://example.com/callback'");
    }

    const domainPrefix = optional("domainPrefix");
    if (domainPrefix !== undefined) {
        const reserved = RESERVED_PREFIX_WORDS.filter((word) => domainPrefix.includes(word));
        if (!DOMAIN_PREFIX.test(domainPrefix) || reserved.length > 0) {
            problem("domainPrefix", domainPrefix,
                "it must be 1 to 63 lower-case letters, digits and inner hyphens, without the words aws, amazon or cognito" +
                    (reserved.length > 0 ? ` (it has ${reserved.join(", ")})` : ""),
                "set domainPrefix smartlamp-login-1234");
        }
    }

    const customDomainText = optional("customDomain");
    const certificateArn = optional("certificateArn");
    let customDomain: CustomDomain | undefined;
    if ((customDomainText === undefined) !== (certificateArn === undefined)) {
        const missing = customDomainText === undefined ? "customDomain" : "certificateArn";
        problem(missing, undefined, "customDomain and certificateArn go together: set both, or neither for the prefix domain",
            missing === "customDomain" ? "set customDomain login.example.com" : "set certificateArn arn:aws:acm:us-east-1:<account>:certificate/<id>");
    } else if (customDomainText !== undefined && certificateArn !== undefined) {
        if (!HOSTNAME.test(customDomainText)) {
            problem("customDomain", customDomainText, "it must be a lower-case host name such as login.example.com", "set customDomain login.example.com");
        }
        if (!US_EAST_1_CERTIFICATE.test(certificateArn)) {
            problem("certificateArn", certificateArn,
                "it must be the ARN of an ACM certificate in us-east-1 (Cognito serves custom domains through CloudFront, which uses only us-east-1 certificates)",
                "set certificateArn arn:aws:acm:us-east-1:<account>:certificate/<id>");
        }
        if (domainPrefix !== undefined) {
            problem("domainPrefix", domainPrefix, "a stack with customDomain has no prefix domain; remove one of the two", "rm domainPrefix");
        }
        customDomain = { domain: customDomainText, certificateArn };
    }

    const scopes = list("scopes");
    const unknown = scopes.filter((scope) => !(COGNITO_SCOPES as readonly string[]).includes(scope));
    const needsOpenid = scopes.some((scope) => ["email", "phone", "profile"].includes(scope)) && !scopes.includes("openid");
    if (scopes.length === 0 || unknown.length > 0 || needsOpenid || new Set(scopes).size !== scopes.length) {
        problem("scopes", text("scopes"),
            `it must be a non-empty list without repeats drawn from ${COGNITO_SCOPES.join(", ")}; email, phone and profile need openid too` +
                (unknown.length > 0 ? ` (unknown: ${unknown.join(", ")})` : ""),
            "rm scopes, then: pulumi config set-all --path --plaintext 'scopes[0]=openid' --plaintext 'scopes[1]=email'");
    }

    const refreshTokenValidityDays = integer("refreshTokenValidityDays", 1, 3650,
        "; it counts from the moment a user linked, and when it ends the user must link again");
    // Cognito's limits for access tokens: 5 minutes to 1 day (UserPoolClient AccessTokenValidity).
    const accessTokenValidityMinutes = integer("accessTokenValidityMinutes", 5, 1440, " (Cognito's limits for access tokens)");

    const mfa = oneOf("mfa", MFA_SETTINGS, "ON makes every user set up an authenticator app at first sign-in; OPTIONAL is not offered, as the hosted login page gives users no way to enrol then");
    const featurePlan = oneOf("featurePlan", FEATURE_PLANS, "Cognito's feature plans; LITE serves the classic hosted login page at the lowest price");

    const emailSourceArn = optional("emailSourceArn");
    const emailFrom = optional("emailFrom")?.trim() || undefined;
    let email: EmailSender | undefined;
    if (emailSourceArn !== undefined) {
        const match = SES_IDENTITY.exec(emailSourceArn);
        // Own keys only: a region such as "constructor" must not find Object's members.
        const allowed = region !== undefined && Object.hasOwn(SES_REGIONS_FOR_POOL, region) ? SES_REGIONS_FOR_POOL[region] : [];
        if (!match) {
            problem("emailSourceArn", emailSourceArn,
                "it must be the ARN of a verified Amazon SES identity, arn:aws:ses:<region>:<account>:identity/<email or domain>",
                "set emailSourceArn arn:aws:ses:us-east-1:<account>:identity/example.com");
        } else if (allowed.length > 0 && !allowed.includes(match[1])) {
            problem("emailSourceArn", emailSourceArn,
                `a user pool in ${region} can send only through SES in ${allowed.join(" or ")}; verify the identity there`,
                `set emailSourceArn arn:aws:ses:${allowed[0]}:<account>:identity/${match[2]}`);
        }
        const address = emailFrom === undefined ? undefined : mailAddress(emailFrom);
        if (emailFrom !== undefined && (address === undefined || (match && !identityCovers(match[2], address)))) {
            problem("emailFrom", emailFrom,
                `it must be an address${match ? ` that the SES identity ${match[2]} covers (SES sends only from a verified address or domain)` : ""}, bare or as "Name <address>"`,
                `set emailFrom "SmartLamp <no-reply@${match && !match[2].includes("@") ? match[2] : "example.com"}>"`);
        }
        email = { sourceArn: emailSourceArn, from: emailFrom };
    } else if (emailFrom !== undefined) {
        problem("emailSourceArn", undefined, "emailFrom needs an SES identity to send from; set emailSourceArn too, or remove emailFrom",
            "set emailSourceArn arn:aws:ses:us-east-1:<account>:identity/example.com");
    }

    if (region === undefined || !(ALEXA_REGIONS as readonly string[]).includes(region)) {
        const given = region === undefined ? "is not set" : `is ${JSON.stringify(region)}`;
        problems.push(`aws:region ${given}: Alexa calls Smart Home skill functions only in ${ALEXA_REGIONS.join(", ")}. ` +
            "Fix: pulumi config set aws:region us-east-1");
    }

    // Alexa events: every region's function exchanges grants and sends ChangeReports, so these are
    // set on every region stack, not only the primary.
    const alexaClientId = optional("alexaClientId");
    let alexaEvents: AlexaEventsSource | undefined;
    if (alexaClientId !== undefined && !LWA_CLIENT_ID.test(alexaClientId)) {
        problem("alexaClientId", alexaClientId,
            'it must be "amzn1.application-oa2-client." followed by 32 hex digits, the Alexa Client Id on the skill\'s Permissions page (Send Alexa Events)',
            "set alexaClientId amzn1.application-oa2-client.<32 hex digits>");
    }
    if ((alexaClientId === undefined) !== (alexaClientSecret === undefined)) {
        if (alexaClientId === undefined) {
            problem("alexaClientId", undefined, "alexaClientId and alexaClientSecret go together: set both to send Alexa events, or neither",
                "set alexaClientId amzn1.application-oa2-client.<32 hex digits>");
        } else {
            problem("alexaClientSecret", undefined, "alexaClientId and alexaClientSecret go together: set both to send Alexa events, or neither",
                "set --secret alexaClientSecret <the Alexa Client Secret from the skill's Permissions page>");
        }
    } else if (alexaClientId !== undefined && alexaClientSecret !== undefined) {
        if (!isSecret("alexaClientSecret")) {
            // Never quoted: the value is in the stack's file already, and need not be in a log too.
            problems.push("alexaClientSecret is stored in plain text in the stack's config file: store it encrypted (and, since it was readable, " +
                "consider a new secret on the skill's Permissions page). Fix: pulumi config set --secret alexaClientSecret <the Alexa Client Secret>");
        }
        alexaEvents = { fromSkill: false, credentials: { clientId: alexaClientId, clientSecret: alexaClientSecret } };
    } else if (text("alexaEvents") === "true") {
        if (!smapiConfigured) {
            problem("alexaEvents", "true",
                "the skill's Alexa Client Id and Secret are needed to send events: set the smapi* values so that `pulumi up` reads them from the skill (README, Deploy, A), or set alexaClientId and alexaClientSecret",
                "set --secret smapiRefreshToken <refresh_token> (with smapiClientId and smapiClientSecret)");
        }
        alexaEvents = { fromSkill: true };
    }

    const alexaGrantsTable = optional("alexaGrantsTable");
    const alarms: AlarmTargets = { email: optional("alarmEmail")?.trim(), topicArn: optional("alarmTopicArn") };
    if (alexaEvents === undefined) {
        // Each of these serves Alexa events only: set without them it would silently do nothing.
        for (const key of ["alexaGrantsTable", "alarmEmail", "alarmTopicArn"]) {
            if (optional(key) !== undefined) {
                problem(key, text(key), "it serves Alexa events, which are off on this stack: switch them on (alexaClientId and alexaClientSecret, or alexaEvents), or remove it", `rm ${key}`);
            }
        }
    }
    if (alexaGrantsTable !== undefined && !TABLE_NAME.test(alexaGrantsTable)) {
        problem("alexaGrantsTable", alexaGrantsTable, "it must be the name of the grants table this stack kept when events were switched off (its alexaGrantsTableName output then)",
            "set alexaGrantsTable <table name>");
    }
    if (alarms.email !== undefined && mailAddress(alarms.email) !== alarms.email.toLowerCase()) {
        problem("alarmEmail", alarms.email, "it must be one email address, such as ops@example.com", "set alarmEmail ops@example.com");
    }
    if (alarms.topicArn !== undefined && !SNS_TOPIC_ARN.test(alarms.topicArn)) {
        problem("alarmTopicArn", alarms.topicArn, "it must be the ARN of a standard SNS topic, arn:aws:sns:<region>:<account>:<topic name>",
            "set alarmTopicArn arn:aws:sns:us-east-1:<account>:<topic name>");
    }
    if (alarms.email !== undefined && alarms.topicArn !== undefined) {
        problem("alarmEmail", alarms.email, "alarmEmail and alarmTopicArn are two ways to the same place: keep one (subscribe the address to your topic instead)", "rm alarmEmail");
    }
    const topicRegion = alarms.topicArn?.split(":")[3];
    if (topicRegion !== undefined && SNS_TOPIC_ARN.test(alarms.topicArn!) && region !== undefined && topicRegion !== region) {
        problem("alarmTopicArn", alarms.topicArn, `it must be a topic in this stack's region, ${region}, where its alarms are (each region stack has its own)`,
            `set alarmTopicArn arn:aws:sns:${region}:<account>:<topic name>`);
    }
    if (alexaEvents !== undefined && alarms.email === undefined && alarms.topicArn === undefined) {
        // An alarm nobody hears is no alarm: a wrong secret would hold every event unnoticed.
        problem("alarmEmail", undefined, "with Alexa events on, the stack's alarms need somewhere to go: an address (the stack subscribes it to a topic of its own; " +
            "confirm the email AWS sends), or alarmTopicArn, your SNS topic", "set alarmEmail ops@example.com");
    }

    const companionApp = text("companionApp") === "true";
    const primaryAuthorizationUri = optional("primaryAuthorizationUri");
    if (secondary && companionApp && (primaryAuthorizationUri === undefined || !/^https:\/\/[^/]+\/oauth2\/authorize$/.test(primaryAuthorizationUri))) {
        problem("primaryAuthorizationUri", primaryAuthorizationUri,
            "a secondary stack's companion page signs users in on the primary's hosted domain: give it the primary's authorizationUri output",
            'set primaryAuthorizationUri "$(pulumi stack output authorizationUri --stack dev)"');
    }
    const companionCallbackUrls = list("companionCallbackUrls");
    // Cognito takes https callback URLs, and http only for localhost (Cognito developer guide,
    // "App client settings": callback URLs).
    const badCompanionUrls = companionCallbackUrls.filter((url) => !isHttpsUrl(url) && !/^http:\/\/localhost(:\d+)?(\/[^#]*)?$/.test(url));
    if (badCompanionUrls.length > 0) {
        problem("companionCallbackUrls", text("companionCallbackUrls"),
            `every entry must be an https URL, or http://localhost for development (not: ${badCompanionUrls.map((b) => JSON.stringify(b)).join(", ")})`,
            "rm companionCallbackUrls, then: pulumi config set-all --path --plaintext 'companionCallbackUrls[0]=https://lamp.example.com/'");
    }

    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return Object.freeze({
        alexaSkillId,
        alexaVendorId: secondary ? undefined : alexaVendorId,
        extraCallbackUrls,
        domainPrefix,
        customDomain,
        scopes: scopes as CognitoScope[],
        refreshTokenValidityDays,
        accessTokenValidityMinutes,
        mfa,
        featurePlan,
        email,
        primaryPool,
        region: region!,
        alexaEvents,
        alexaGrantsTable,
        alarms,
        companionApp,
        companionCallbackUrls,
    });
}

/** Reads this stack's configuration (project namespace, and `aws:region`). */
export function loadConfig(): StackConfig {
    const config = new pulumi.Config();
    const raw: RawConfig = {};
    for (const key of [...CONFIG_KEYS, ...Object.keys(RETIRED_KEYS)]) {
        raw[key] = config.get(key);
    }
    // Whether a secret is set is all that is looked at here (through the runtime's own map, as
    // Config.get would warn about a secret); its text goes on as a secret Output.
    const isSet = (key: string) => (pulumi.runtime.getConfig(`${pulumi.getProject()}:${key}`) ?? "") !== "";
    raw.smapiRefreshToken = isSet("smapiRefreshToken") ? "(set)" : "";
    const secretSet = isSet("alexaClientSecret");
    return parseConfig(raw, new pulumi.Config("aws").get("region"), secretSet ? config.requireSecret("alexaClientSecret") : undefined, storedEncrypted);
}

/**
 * Whether `pulumi config set --secret` stored the key. Not in the SDK's typings, but how it knows
 * (@pulumi/pulumi runtime/config.js, isConfigSecret: the language host passes the list of secret
 * keys to the program as PULUMI_CONFIG_SECRET_KEYS).
 */
function storedEncrypted(key: string): boolean {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (key: string) => boolean };
    return runtimeConfig.isConfigSecret?.(`${pulumi.getProject()}:${key}`) ?? true;
}

// ---- SMAPI (issue 12): the three values that let `pulumi up` configure the Alexa skill itself ----
// Declared in Pulumi.yaml with `default: ""` and without `secret: true`: the engine requires every
// declared key without a default, and refuses a plain-text default for a key declared secret
// (pulumi/pulumi sdk/go/common/workspace/config.go, mergeConfig and validateStackConfigValue). So
// "" means not set, and the program itself insists that a set value be stored encrypted.

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
