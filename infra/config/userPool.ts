// The primary stack's user pool, its Alexa app client and hosted domain: the keys that shape them,
// their defaults, and their checks. A secondary stack has no pool and refuses every one of them.
import { ConfigReader, isHttpsUrl, mailAddress } from "./reader";

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

export interface UserPoolSettings {
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
    /** False: invite-only, users are created by an administrator (Cognito's AllowAdminCreateUserOnly). */
    selfSignUp: boolean;
    /** A regional AWS WAF web ACL in the stack's region, associated with the pool; undefined: none. */
    wafWebAclArn?: string;
}

/** What Pulumi.yaml declares as each key's default, as the engine hands it over. */
export const USER_POOL_DEFAULTS = {
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
    selfSignUp: "true",
    wafWebAclArn: "",
} as const;

/** Keys that shape the user pool or its app client, and so only the primary stack uses. */
export const USER_POOL_KEYS = Object.keys(USER_POOL_DEFAULTS) as (keyof typeof USER_POOL_DEFAULTS)[];

const VENDOR_ID = /^[A-Z0-9]{10,20}$/;
// Cognito's prefix rule (CreateUserPoolDomain, Domain: ^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$).
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Cognito refuses prefixes that contain these words (reserved for AWS). */
export const RESERVED_PREFIX_WORDS = ["aws", "amazon", "cognito"];
const HOSTNAME = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
// Cognito serves custom domains through CloudFront, which takes certificates from us-east-1 only.
const US_EAST_1_CERTIFICATE = /^arn:aws:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/;
const SES_IDENTITY = /^arn:aws:ses:([a-z]{2}(?:-[a-z]+)+-\d):\d{12}:identity\/(.+)$/;
// A WAFv2 web ACL's ARN: arn:aws:wafv2:<region>:<account>:<regional|global>/webacl/<name>/<id>
// (AWS WAF API reference, WebACL: Name 1-128 of [\w-], Id a UUID of 36 characters). A user pool
// takes a regional web ACL of its own region only (AssociateWebACL; Cognito developer guide,
// "Associate an AWS WAF web ACL with a user pool"); CloudFront's are global.
const WEB_ACL_ARN = /^arn:aws:wafv2:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):(regional|global)\/webacl\/([\w-]{1,128})\/([0-9a-f-]{36})$/;

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

/** SES sends only from the verified address itself, or from an address in the verified domain. */
function identityCovers(identity: string, address: string): boolean {
    const verified = identity.toLowerCase();
    return verified.includes("@") ? address === verified : address.endsWith("@" + verified);
}

/** A regional web ACL's name, from its ARN (what aws.wafv2.getWebAcl looks it up by). */
export function webAclName(arn: string): string {
    return WEB_ACL_ARN.exec(arn)![4];
}

/** The pool's settings, checked; `secondary`: the stack has no pool, and refuses any of them set. */
export function readUserPool(reader: ConfigReader, raw: Record<string, string | undefined>, secondary: boolean, region: string | undefined): UserPoolSettings {
    if (secondary) {
        // A secondary stack verifies the primary's tokens and has no pool: a pool setting here
        // would silently do nothing, so it is refused.
        for (const key of USER_POOL_KEYS) {
            const given = raw[key] ?? USER_POOL_DEFAULTS[key];
            if (given !== USER_POOL_DEFAULTS[key]) {
                reader.problem(key, given, "only the primary stack uses it (this stack verifies the primary's tokens); set it there", `rm ${key}`);
            }
        }
    }

    const alexaVendorId = reader.optional("alexaVendorId");
    if (!secondary && (alexaVendorId === undefined || !VENDOR_ID.test(alexaVendorId))) {
        reader.problem("alexaVendorId", alexaVendorId,
            "it must be 10 to 20 upper-case letters or digits, the last path segment of the Alexa Redirect URLs on the skill's Account Linking page",
            "set alexaVendorId M2AAAAAAAAAAAA");
    }

    const extraCallbackUrls = reader.list("extraCallbackUrls");
    const badUrls = extraCallbackUrls.filter((url) => !isHttpsUrl(url));
    if (badUrls.length > 0) {
        reader.problem("extraCallbackUrls", reader.text("extraCallbackUrls"),
            `every entry must be an https URL without a fragment (not: ${badUrls.map((b) => JSON.stringify(b)).join(", ")})`,
            "rm extraCallbackUrls, then: pulumi config set-all --path --plaintext 'extraCallbackUrls[0]=https://example.com/callback'");
    }

    const { domainPrefix, customDomain } = readDomain(reader);

    const scopes = reader.list("scopes");
    const unknown = scopes.filter((scope) => !(COGNITO_SCOPES as readonly string[]).includes(scope));
    const needsOpenid = scopes.some((scope) => ["email", "phone", "profile"].includes(scope)) && !scopes.includes("openid");
    if (scopes.length === 0 || unknown.length > 0 || needsOpenid || new Set(scopes).size !== scopes.length) {
        reader.problem("scopes", reader.text("scopes"),
            `it must be a non-empty list without repeats drawn from ${COGNITO_SCOPES.join(", ")}; email, phone and profile need openid too` +
                (unknown.length > 0 ? ` (unknown: ${unknown.join(", ")})` : ""),
            "rm scopes, then: pulumi config set-all --path --plaintext 'scopes[0]=openid' --plaintext 'scopes[1]=email'");
    }

    const refreshTokenValidityDays = reader.integer("refreshTokenValidityDays", 1, 3650,
        "; it counts from the moment a user linked, and when it ends the user must link again");
    // Cognito's limits for access tokens: 5 minutes to 1 day (UserPoolClient AccessTokenValidity).
    const accessTokenValidityMinutes = reader.integer("accessTokenValidityMinutes", 5, 1440, " (Cognito's limits for access tokens)");

    const mfa = reader.oneOf("mfa", MFA_SETTINGS, "ON makes every user set up an authenticator app at first sign-in; OPTIONAL is not offered, as the hosted login page gives users no way to enrol then");
    const featurePlan = reader.oneOf("featurePlan", FEATURE_PLANS, "Cognito's feature plans; LITE serves the classic hosted login page at the lowest price");

    return {
        alexaVendorId: secondary ? undefined : alexaVendorId,
        extraCallbackUrls,
        domainPrefix,
        customDomain,
        scopes: scopes as CognitoScope[],
        refreshTokenValidityDays,
        accessTokenValidityMinutes,
        mfa,
        featurePlan,
        email: readEmailSender(reader, region),
        selfSignUp: reader.flag("selfSignUp"),
        wafWebAclArn: readWebAcl(reader, region),
    };
}

/** The hosted domain: a prefix (given or derived), or a custom domain with its certificate. */
function readDomain(reader: ConfigReader): { domainPrefix?: string; customDomain?: CustomDomain } {
    const domainPrefix = reader.optional("domainPrefix");
    if (domainPrefix !== undefined) {
        const reserved = RESERVED_PREFIX_WORDS.filter((word) => domainPrefix.includes(word));
        if (!DOMAIN_PREFIX.test(domainPrefix) || reserved.length > 0) {
            reader.problem("domainPrefix", domainPrefix,
                "it must be 1 to 63 lower-case letters, digits and inner hyphens, without the words aws, amazon or cognito" +
                    (reserved.length > 0 ? ` (it has ${reserved.join(", ")})` : ""),
                "set domainPrefix smartlamp-login-1234");
        }
    }

    const customDomainText = reader.optional("customDomain");
    const certificateArn = reader.optional("certificateArn");
    if ((customDomainText === undefined) !== (certificateArn === undefined)) {
        const missing = customDomainText === undefined ? "customDomain" : "certificateArn";
        reader.problem(missing, undefined, "customDomain and certificateArn go together: set both, or neither for the prefix domain",
            missing === "customDomain" ? "set customDomain login.example.com" : "set certificateArn arn:aws:acm:us-east-1:<account>:certificate/<id>");
        return { domainPrefix };
    }
    if (customDomainText === undefined || certificateArn === undefined) {
        return { domainPrefix };
    }
    if (!HOSTNAME.test(customDomainText)) {
        reader.problem("customDomain", customDomainText, "it must be a lower-case host name such as login.example.com", "set customDomain login.example.com");
    }
    if (!US_EAST_1_CERTIFICATE.test(certificateArn)) {
        reader.problem("certificateArn", certificateArn,
            "it must be the ARN of an ACM certificate in us-east-1 (Cognito serves custom domains through CloudFront, which uses only us-east-1 certificates)",
            "set certificateArn arn:aws:acm:us-east-1:<account>:certificate/<id>");
    }
    if (domainPrefix !== undefined) {
        reader.problem("domainPrefix", domainPrefix, "a stack with customDomain has no prefix domain; remove one of the two", "rm domainPrefix");
    }
    return { domainPrefix, customDomain: { domain: customDomainText, certificateArn } };
}

/** Amazon SES as the sender, or undefined for Cognito's own. */
function readEmailSender(reader: ConfigReader, region: string | undefined): EmailSender | undefined {
    const emailSourceArn = reader.optional("emailSourceArn");
    const emailFrom = reader.optional("emailFrom")?.trim() || undefined;
    if (emailSourceArn === undefined) {
        if (emailFrom !== undefined) {
            reader.problem("emailSourceArn", undefined, "emailFrom needs an SES identity to send from; set emailSourceArn too, or remove emailFrom",
                "set emailSourceArn arn:aws:ses:us-east-1:<account>:identity/example.com");
        }
        return undefined;
    }
    const match = SES_IDENTITY.exec(emailSourceArn);
    // Own keys only: a region such as "constructor" must not find Object's members.
    const allowed = region !== undefined && Object.hasOwn(SES_REGIONS_FOR_POOL, region) ? SES_REGIONS_FOR_POOL[region] : [];
    if (!match) {
        reader.problem("emailSourceArn", emailSourceArn,
            "it must be the ARN of a verified Amazon SES identity, arn:aws:ses:<region>:<account>:identity/<email or domain>",
            "set emailSourceArn arn:aws:ses:us-east-1:<account>:identity/example.com");
    } else if (allowed.length > 0 && !allowed.includes(match[1])) {
        reader.problem("emailSourceArn", emailSourceArn,
            `a user pool in ${region} can send only through SES in ${allowed.join(" or ")}; verify the identity there`,
            `set emailSourceArn arn:aws:ses:${allowed[0]}:<account>:identity/${match[2]}`);
    }
    const address = emailFrom === undefined ? undefined : mailAddress(emailFrom);
    if (emailFrom !== undefined && (address === undefined || (match && !identityCovers(match[2], address)))) {
        reader.problem("emailFrom", emailFrom,
            `it must be an address${match ? ` that the SES identity ${match[2]} covers (SES sends only from a verified address or domain)` : ""}, bare or as "Name <address>"`,
            `set emailFrom "SmartLamp <no-reply@${match && !match[2].includes("@") ? match[2] : "example.com"}>"`);
    }
    return { sourceArn: emailSourceArn, from: emailFrom };
}

/** The web ACL for the pool, or undefined for none. */
function readWebAcl(reader: ConfigReader, region: string | undefined): string | undefined {
    const arn = reader.optional("wafWebAclArn");
    if (arn === undefined) {
        return undefined;
    }
    const match = WEB_ACL_ARN.exec(arn);
    const fix = `set wafWebAclArn arn:aws:wafv2:${region ?? "<region>"}:<account>:regional/webacl/<name>/<id>`;
    if (!match) {
        reader.problem("wafWebAclArn", arn, "it must be the ARN of an AWS WAF (WAFv2) web ACL, arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>", fix);
    } else if (match[3] === "global") {
        reader.problem("wafWebAclArn", arn, "that web ACL is for CloudFront (scope CLOUDFRONT); a user pool takes a web ACL of scope REGIONAL in its own region", fix);
    } else if (region !== undefined && match[1] !== region) {
        reader.problem("wafWebAclArn", arn, `a user pool takes a web ACL of its own region only, ${region}; make one there (scope REGIONAL)`, fix);
    }
    return arn;
}
