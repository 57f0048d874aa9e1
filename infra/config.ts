// The stack's configuration: every key read once, checked, and returned as one frozen object.
// A bad value stops `pulumi up` before any resource is registered, with every problem at once.
import * as pulumi from "@pulumi/pulumi";
import { ALEXA_REGIONS } from "./alexa";

export const COGNITO_SCOPES = ["openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"] as const;
export type CognitoScope = (typeof COGNITO_SCOPES)[number];

export interface CustomDomain {
    domain: string;
    certificateArn: string;
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
    mfa: "OFF" | "OPTIONAL";
    /** Set on a secondary region stack: the fully qualified name of the primary stack. */
    accountLinkingStack?: string;
    region: string;
    /** Set when the skill sends Alexa events: its Alexa Client Id and Secret (console: Permissions). */
    alexaEvents?: AlexaEventsConfig;
    /** Whether this stack serves the companion page and API (with their app client on the pool). */
    companionApp: boolean;
    /** The companion client's callback URLs; empty: the page's own URL and a localhost URL. */
    companionCallbackUrls: string[];
}

export interface AlexaEventsConfig {
    clientId: string;
    /** A Pulumi secret from first to last: it is stored as an SSM SecureString (infra/alexaGrants.ts). */
    clientSecret: pulumi.Output<string>;
}

/** Raw values as Pulumi hands them over: `undefined` for a key that is not set. */
export type RawConfig = Record<string, string | undefined>;

export const CONFIG_KEYS = [
    "alexaSkillId",
    "alexaVendorId",
    "extraCallbackUrls",
    "domainPrefix",
    "customDomain",
    "certificateArn",
    "scopes",
    "refreshTokenValidityDays",
    "accessTokenValidityMinutes",
    "mfa",
    "accountLinkingStack",
    "alexaClientId",
    "companionApp",
    "companionCallbackUrls",
] as const;

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
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Cognito refuses prefixes with these words (reserved for AWS). */
export const RESERVED_PREFIX_WORDS = ["aws", "amazon", "cognito"];
const HOSTNAME = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
// Cognito serves custom domains through CloudFront, which takes certificates from us-east-1 only.
const US_EAST_1_CERTIFICATE = /^arn:aws:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/;
// Login with Amazon's client ids (the console's Alexa Client Id is one).
const LWA_CLIENT_ID = /^amzn1\.application-oa2-client\.[0-9a-f]{32}$/;
const STACK_NAME = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Reads a list given as JSON (`["a","b"]`) or as words separated by commas or spaces. */
function parseList(text: string): string[] | undefined {
    const trimmed = text.trim();
    if (trimmed.startsWith("[")) {
        try {
            const list: unknown = JSON.parse(trimmed);
            return Array.isArray(list) && list.every((item) => typeof item === "string") ? list : undefined;
        } catch {
            return undefined;
        }
    }
    return trimmed.split(/[\s,]+/).filter((item) => item.length > 0);
}

function isHttpsUrl(text: string): boolean {
    try {
        const url = new URL(text);
        return url.protocol === "https:" && url.hash === "" && url.hostname.length > 0;
    } catch {
        return false;
    }
}

/**
 * Checks raw config values; `region` is the stack's `aws:region`; `alexaClientSecret` is the
 * secret's Output when it is set (non-empty), never its text: no message can then quote it.
 */
export function parseConfig(raw: RawConfig, region: string | undefined, alexaClientSecret?: pulumi.Output<string>): StackConfig {
    const problems: string[] = [];
    const problem = (key: string, given: string | undefined, allowed: string, fix: string) => {
        const value = given === undefined ? "is not set" : `is ${JSON.stringify(given)}`;
        problems.push(`${key} ${value}: ${allowed}. Fix: pulumi config set ${fix}`);
    };
    const integer = (key: string, fallback: number, min: number, max: number, why: string): number => {
        const text = raw[key];
        if (text === undefined) {
            return fallback;
        }
        const value = Number(text);
        if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
            problem(key, text, `it must be a whole number from ${min} to ${max}${why}`, `${key} ${fallback}`);
        }
        return value;
    };

    const accountLinkingStack = raw.accountLinkingStack;
    if (accountLinkingStack !== undefined && !STACK_NAME.test(accountLinkingStack)) {
        problem("accountLinkingStack", accountLinkingStack,
            "it must be the primary stack's fully qualified name, <organization>/<project>/<stack> (shown by `pulumi stack ls` there)",
            "accountLinkingStack organization/alexa-account-linking/dev");
    }
    const secondary = accountLinkingStack !== undefined;

    const alexaSkillId = raw.alexaSkillId;
    if (alexaSkillId === undefined || !SKILL_ID.test(alexaSkillId)) {
        problem("alexaSkillId", alexaSkillId,
            'it must be "amzn1.ask.skill." followed by a lower-case UUID, the Skill ID shown in the Alexa developer console',
            "alexaSkillId amzn1.ask.skill.00000000-0000-0000-0000-000000000000");
    }

    const alexaVendorId = raw.alexaVendorId;
    if ((alexaVendorId === undefined && !secondary) || (alexaVendorId !== undefined && !VENDOR_ID.test(alexaVendorId))) {
        problem("alexaVendorId", alexaVendorId,
            "it must be 10 to 20 upper-case letters or digits, the last path segment of the Alexa Redirect URLs on the skill's Account Linking page",
            "alexaVendorId M2AAAAAAAAAAAA");
    }

    const extraText = raw.extraCallbackUrls;
    let extraCallbackUrls: string[] = [];
    if (extraText !== undefined) {
        const list = parseList(extraText);
        const bad = list === undefined ? [extraText] : list.filter((url) => !isHttpsUrl(url));
        if (bad.length > 0) {
            problem("extraCallbackUrls", extraText,
                `every entry must be an https URL without a fragment (not: ${bad.map((b) => JSON.stringify(b)).join(", ")})`,
                `--path 'extraCallbackUrls[0]' https://example.com/callback`);
        }
        extraCallbackUrls = list ?? [];
    }

    const domainPrefix = raw.domainPrefix;
    if (domainPrefix !== undefined) {
        const reserved = RESERVED_PREFIX_WORDS.filter((word) => domainPrefix.includes(word));
        if (!DOMAIN_PREFIX.test(domainPrefix) || reserved.length > 0) {
            problem("domainPrefix", domainPrefix,
                "it must be 1 to 63 lower-case letters, digits and inner hyphens, without the words aws, amazon or cognito" +
                    (reserved.length > 0 ? ` (it has ${reserved.join(", ")})` : ""),
                "domainPrefix smartlamp-login-1234");
        }
    }

    const customDomainText = raw.customDomain;
    const certificateArn = raw.certificateArn;
    let customDomain: CustomDomain | undefined;
    if ((customDomainText === undefined) !== (certificateArn === undefined)) {
        const missing = customDomainText === undefined ? "customDomain" : "certificateArn";
        problem(missing, undefined, "customDomain and certificateArn go together: set both, or neither for the prefix domain",
            missing === "customDomain" ? "customDomain login.example.com" : "certificateArn arn:aws:acm:us-east-1:<account>:certificate/<id>");
    } else if (customDomainText !== undefined && certificateArn !== undefined) {
        if (!HOSTNAME.test(customDomainText)) {
            problem("customDomain", customDomainText, "it must be a lower-case host name such as login.example.com", "customDomain login.example.com");
        }
        if (!US_EAST_1_CERTIFICATE.test(certificateArn)) {
            problem("certificateArn", certificateArn,
                "it must be the ARN of an ACM certificate in us-east-1 (Cognito serves custom domains through CloudFront, which uses only us-east-1 certificates)",
                "certificateArn arn:aws:acm:us-east-1:<account>:certificate/<id>");
        }
        if (domainPrefix !== undefined) {
            problem("domainPrefix", domainPrefix, "a stack with customDomain has no prefix domain; remove one of the two", "(none) and run: pulumi config rm domainPrefix");
        }
        customDomain = { domain: customDomainText, certificateArn };
    }

    const scopesText = raw.scopes;
    let scopes: CognitoScope[] = ["openid"];
    if (scopesText !== undefined) {
        const list = parseList(scopesText) ?? [];
        const unknown = list.filter((scope) => !(COGNITO_SCOPES as readonly string[]).includes(scope));
        const needsOpenid = list.some((scope) => ["email", "phone", "profile"].includes(scope)) && !list.includes("openid");
        if (list.length === 0 || unknown.length > 0 || needsOpenid || new Set(list).size !== list.length) {
            problem("scopes", scopesText,
                `it must be a non-empty list without repeats drawn from ${COGNITO_SCOPES.join(", ")}; email, phone and profile need openid too` +
                    (unknown.length > 0 ? ` (unknown: ${unknown.join(", ")})` : ""),
                `--path 'scopes[0]' openid (and 'scopes[1]' email, ...; \`pulumi config rm scopes\` first to start afresh)`);
        }
        scopes = list as CognitoScope[];
    }

    const refreshTokenValidityDays = integer("refreshTokenValidityDays", 3650, 1, 3650,
        "; Alexa refreshes the access token with it, and a user is unlinked when it expires");
    const accessTokenValidityMinutes = integer("accessTokenValidityMinutes", 60, 6, 1440, " (Alexa needs at least 6 minutes)");

    const mfaText = raw.mfa;
    const mfa = mfaText ?? "OPTIONAL";
    if (mfa !== "OFF" && mfa !== "OPTIONAL") {
        problem("mfa", mfaText, "it must be OFF or OPTIONAL (OPTIONAL lets users add an authenticator app)", "mfa OPTIONAL");
    }

    if (region === undefined || !(ALEXA_REGIONS as readonly string[]).includes(region)) {
        const given = region === undefined ? "is not set" : `is ${JSON.stringify(region)}`;
        problems.push(`aws:region ${given}: Alexa calls Smart Home skill functions only in ${ALEXA_REGIONS.join(", ")}. ` +
            "Fix: pulumi config set aws:region us-east-1");
    }

    // Optional keys are declared in Pulumi.yaml with `default: ""` (a key declared without a
    // default is required by the engine: pulumi/pulumi sdk/go/common/workspace/config.go), so ""
    // means "not set" here.
    const alexaClientId = raw.alexaClientId || undefined;
    let alexaEvents: AlexaEventsConfig | undefined;
    if (alexaClientId !== undefined && !LWA_CLIENT_ID.test(alexaClientId)) {
        problem("alexaClientId", alexaClientId,
            'it must be "amzn1.application-oa2-client." followed by 32 hex digits, the Alexa Client Id on the skill\'s Permissions page (Send Alexa Events)',
            "alexaClientId amzn1.application-oa2-client.<32 hex digits>");
    }
    if ((alexaClientId === undefined) !== (alexaClientSecret === undefined)) {
        if (alexaClientId === undefined) {
            problem("alexaClientId", undefined, "alexaClientId and alexaClientSecret go together: set both to send Alexa events, or neither",
                "alexaClientId amzn1.application-oa2-client.<32 hex digits>");
        } else {
            problem("alexaClientSecret", undefined, "alexaClientId and alexaClientSecret go together: set both to send Alexa events, or neither",
                "--secret alexaClientSecret <the Alexa Client Secret from the skill's Permissions page>");
        }
    } else if (alexaClientId !== undefined && alexaClientSecret !== undefined) {
        alexaEvents = { clientId: alexaClientId, clientSecret: alexaClientSecret };
    }

    const companionText = raw.companionApp;
    if (companionText !== undefined && companionText !== "true" && companionText !== "false") {
        problem("companionApp", companionText, "it must be true or false", "companionApp true");
    }
    const companionCallbackText = raw.companionCallbackUrls;
    let companionCallbackUrls: string[] = [];
    if (companionCallbackText !== undefined) {
        const list = parseList(companionCallbackText);
        // Cognito takes https callback URLs, and http only for localhost (Cognito Developer Guide,
        // "App client settings": callback URLs).
        const bad = list === undefined ? [companionCallbackText] : list.filter((url) => !isHttpsUrl(url) && !/^http:\/\/localhost(:\d+)?(\/[^#]*)?$/.test(url));
        if (bad.length > 0) {
            problem("companionCallbackUrls", companionCallbackText,
                `every entry must be an https URL, or http://localhost for development (not: ${bad.map((b) => JSON.stringify(b)).join(", ")})`,
                "--path 'companionCallbackUrls[0]' https://lamp.example.com/");
        }
        companionCallbackUrls = list ?? [];
    }

    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return Object.freeze({
        alexaSkillId: alexaSkillId!,
        alexaVendorId,
        extraCallbackUrls,
        domainPrefix,
        customDomain,
        scopes,
        refreshTokenValidityDays,
        accessTokenValidityMinutes,
        mfa: mfa as "OFF" | "OPTIONAL",
        accountLinkingStack,
        region: region!,
        alexaEvents,
        companionApp: companionText === "true",
        companionCallbackUrls,
    });
}

/** Reads this stack's configuration (project namespace, and `aws:region`). */
export function loadConfig(): StackConfig {
    const config = new pulumi.Config();
    const raw: RawConfig = {};
    for (const key of CONFIG_KEYS) {
        raw[key] = config.get(key);
    }
    // Whether the secret is set is all that is looked at here; its text goes on as a secret Output.
    const secretSet = (config.get("alexaClientSecret") ?? "") !== "";
    return parseConfig(raw, new pulumi.Config("aws").get("region"), secretSet ? config.requireSecret("alexaClientSecret") : undefined);
}
