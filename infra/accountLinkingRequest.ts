// The account-linking settings as the Alexa Skill Management API takes them, so that
// `ask smapi update-account-linking-info --account-linking-request file:<path>` applies them
// instead of pasting each value into the console. Field names, enums and limits follow Amazon's
// "Account Linking Schemas" for SMAPI (developer.amazon.com/docs/alexa/smapi/account-linking-schemas.html).
import * as pulumi from "@pulumi/pulumi";
import type { AccountLinking } from "./accountLinking";

export interface AccountLinkingValues {
    authorizationUri: string;
    accessTokenUri: string;
    clientId: string;
    clientSecret: string;
    scopes: string[];
    accessTokenValidityMinutes: number;
    /** Further domains the login page loads content from (none for Cognito's own pages). */
    domains?: string[];
}

export interface AccountLinkingRequest {
    accountLinkingRequest: {
        type: "AUTH_CODE";
        authorizationUrl: string;
        accessTokenUrl: string;
        clientId: string;
        clientSecret: string;
        accessTokenScheme: "HTTP_BASIC";
        scopes: string[];
        domains: string[];
        defaultTokenExpirationInSeconds: number;
    };
}

/** Cognito's token endpoint authenticates clients with HTTP Basic; smart home skills need AUTH_CODE. */
export function accountLinkingRequest(values: AccountLinkingValues): AccountLinkingRequest {
    return {
        accountLinkingRequest: {
            type: "AUTH_CODE",
            authorizationUrl: values.authorizationUri,
            accessTokenUrl: values.accessTokenUri,
            clientId: values.clientId,
            clientSecret: values.clientSecret,
            accessTokenScheme: "HTTP_BASIC",
            scopes: values.scopes,
            domains: values.domains ?? [],
            defaultTokenExpirationInSeconds: values.accessTokenValidityMinutes * 60,
        },
    };
}

const FIELDS: Record<string, (value: unknown) => string | undefined> = {
    type: (v) => (v === "AUTH_CODE" || v === "IMPLICIT" ? undefined : "must be AUTH_CODE or IMPLICIT"),
    authorizationUrl: (v) => (isHttpsUrl(v) ? undefined : "must be an https URL"),
    accessTokenUrl: (v) => (isHttpsUrl(v) ? undefined : "must be an https URL"),
    clientId: (v) => (typeof v === "string" && v.length > 0 ? undefined : "must be a non-empty string"),
    clientSecret: (v) => (typeof v === "string" && v.length > 0 ? undefined : "must be a non-empty string"),
    accessTokenScheme: (v) => (v === "HTTP_BASIC" || v === "REQUEST_BODY_CREDENTIALS" ? undefined : "must be HTTP_BASIC or REQUEST_BODY_CREDENTIALS"),
    scopes: (v) => stringList(v, 15, true),
    domains: (v) => stringList(v, 15, false),
    defaultTokenExpirationInSeconds: (v) => (Number.isInteger(v) && (v as number) > 0 ? undefined : "must be a positive whole number of seconds"),
    skipOnEnablement: (v) => (typeof v === "boolean" ? undefined : "must be true or false"),
    redirectUrls: (v) => stringList(v, Infinity, false),
};

function isHttpsUrl(value: unknown): boolean {
    try {
        return typeof value === "string" && new URL(value).protocol === "https:";
    } catch {
        return false;
    }
}

function stringList(value: unknown, max: number, nonEmpty: boolean): string | undefined {
    if (!Array.isArray(value) || !value.every((item) => typeof item === "string" && item.length > 0)) {
        return "must be a list of non-empty strings";
    }
    if (value.length > max) {
        return `may hold at most ${max} entries (has ${value.length})`;
    }
    return nonEmpty && value.length === 0 ? "must not be empty for a smart home skill" : undefined;
}

/** What is wrong with a request body against Amazon's documented schema (empty: nothing). */
export function accountLinkingRequestProblems(body: unknown): string[] {
    const request = (body as { accountLinkingRequest?: unknown } | undefined)?.accountLinkingRequest;
    if (typeof request !== "object" || request === null) {
        return ["the body must be an object with an accountLinkingRequest object"];
    }
    const problems: string[] = [];
    for (const [field, value] of Object.entries(request)) {
        const check = FIELDS[field];
        const problem = check ? check(value) : "is not a field of accountLinkingRequest";
        if (problem) {
            problems.push(`${field} ${problem}`);
        }
    }
    const fields = request as Record<string, unknown>;
    for (const required of ["type", "authorizationUrl", "clientId"]) {
        if (fields[required] === undefined) {
            problems.push(`${required} is required`);
        }
    }
    if (fields.type === "AUTH_CODE") {
        for (const required of ["accessTokenUrl", "clientSecret", "accessTokenScheme", "scopes"]) {
            if (fields[required] === undefined) {
                problems.push(`${required} is required with AUTH_CODE (and scopes for smart home skills)`);
            }
        }
    }
    return problems;
}

/** The stack output: the request body, checked against the schema, secret (it holds the client secret). */
export function linkingRequestBody(linking: AccountLinking): pulumi.Output<AccountLinkingRequest> {
    const body = pulumi
        .all([linking.authorizationUri, linking.accessTokenUri, linking.clientId, linking.clientSecret, linking.scopes, linking.accessTokenValidityMinutes])
        .apply(([authorizationUri, accessTokenUri, clientId, clientSecret, scopes, accessTokenValidityMinutes]) => {
            const request = accountLinkingRequest({ authorizationUri, accessTokenUri, clientId, clientSecret, scopes, accessTokenValidityMinutes });
            const problems = accountLinkingRequestProblems(request);
            if (problems.length > 0) {
                throw new pulumi.RunError(`The account-linking request would not be accepted by Alexa: ${problems.join("; ")}`);
            }
            return request;
        });
    return pulumi.secret(body);
}
