// How a Login with Amazon or Skill Management API failure reads to the person running `pulumi up`:
// what happened, in Amazon's own words where it gives some, and what to do next. Plain functions,
// serialized with the dynamic provider (no module state, no Pulumi).
//
// Where the answers are documented:
// - LWA token endpoint errors (`error`: invalid_grant, invalid_client, ...; RFC 6749 §5.2):
//   developer.amazon.com/docs/login-with-amazon/authorization-code-grant.html ("Access Token Errors").
// - SMAPI error bodies: `{ message, violations: [{ code, message, validationDetails }] }` (BadRequestError,
//   400 and 403) and `{ code, message, validationDetails }` (StandardizedError, 401, 404, 409, 412, 429, 5xx),
//   with the field in `validationDetails.originalInstance.propertyPath`:
//   developer.amazon.com/docs/alexa/smapi/error-codes.html and the operation pages
//   (skill-operations.html, account-linking-operations.html).

export type AmazonService = "LWA" | "SMAPI";

export interface HttpFailure {
    service: AmazonService;
    status: number;
    /** The answer's body, parsed as JSON when it was JSON, else its text. */
    body: unknown;
    /** What was being done, as a phrase: "read the skill manifest". */
    operation: string;
    skillId?: string;
}

/** A failure of LWA or SMAPI, explained; `retryable` for throttling and server errors. */
export class AmazonApiError extends Error {
    readonly status: number;
    readonly service: AmazonService;
    readonly retryable: boolean;
    constructor(failure: HttpFailure, message: string) {
        super(message);
        this.name = "AmazonApiError";
        this.status = failure.status;
        this.service = failure.service;
        this.retryable = failure.status === 429 || failure.status >= 500;
    }
}

/** Replaces every occurrence of each secret (of 4 or more characters) with [secret]. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
    let result = text;
    for (const secret of secrets) {
        if (typeof secret === "string" && secret.length >= 4) {
            result = result.split(secret).join("[secret]");
        }
    }
    return result;
}

interface AmazonErrorEntry {
    code?: unknown;
    message?: unknown;
    validationDetails?: { originalInstance?: { propertyPath?: unknown } };
}

/**
 * One line per error entry: "<field>: <Amazon's message> (<code>)" (the field when Amazon names
 * one). An entry without a message is told by its code and field only, never printed whole: its
 * other parts may quote what was sent (a client secret).
 */
export function errorLines(entries: unknown): string[] {
    if (!Array.isArray(entries)) {
        return [];
    }
    return entries.map((entry: AmazonErrorEntry) => {
        const field = entry?.validationDetails?.originalInstance?.propertyPath;
        const message = typeof entry?.message === "string" ? entry.message : "(Amazon gave no message)";
        const code = typeof entry?.code === "string" ? ` (${entry.code})` : "";
        return typeof field === "string" ? `${field}: ${message}${code}` : `${message}${code}`;
    });
}

/** Amazon's own words from an error body: its message, then each violation with its field. */
export function amazonWords(body: unknown): string {
    if (typeof body === "string") {
        return body.trim().slice(0, 500);
    }
    if (typeof body !== "object" || body === null) {
        return "";
    }
    const fields = body as { message?: unknown; violations?: unknown; error?: unknown; error_description?: unknown };
    const parts: string[] = [];
    if (typeof fields.error === "string") {
        parts.push(typeof fields.error_description === "string" ? `${fields.error}: ${fields.error_description}` : fields.error);
    }
    if (typeof fields.message === "string") {
        parts.push(fields.message);
    }
    const violations = errorLines(fields.violations);
    if (violations.length > 0) {
        parts.push(violations.map((line) => `\n    - ${line}`).join(""));
    }
    return parts.join(" ").replace(/ \n/g, "\n");
}

const NEW_REFRESH_TOKEN =
    "Get a new one once with `ask util generate-lwa-tokens --client-id <smapiClientId> --client-confirmation <smapiClientSecret>` " +
    "(signed in as the developer account that owns the skill), then `npx pulumi config set --secret smapiRefreshToken <refresh_token>` and run `npx pulumi up` again";

/** The sentence for a failed answer: what Amazon said and what to do about it. */
export function explainFailure(failure: HttpFailure): string {
    const said = amazonWords(failure.body);
    const quoted = said ? ` Amazon says: ${said}` : "";
    const status = `HTTP ${failure.status}`;
    if (failure.service === "LWA") {
        const error = (failure.body as { error?: unknown } | undefined)?.error;
        if (error === "invalid_client") {
            return `Login with Amazon refused smapiClientId/smapiClientSecret (${status}, invalid_client): they must be the Client ID and Client Secret ` +
                "of the LWA security profile the refresh token was made with (developer.amazon.com > Login with Amazon > your profile > Web Settings). " +
                "Fix: `npx pulumi config set --secret smapiClientSecret <client secret>` (and smapiClientId)." + quoted;
        }
        if (error === "invalid_grant" || failure.status === 401) {
            return `Login with Amazon refused smapiRefreshToken (${status}${typeof error === "string" ? `, ${error}` : ""}): ` +
                `it was revoked or has expired, or was made for another security profile. ${NEW_REFRESH_TOKEN}.` + quoted;
        }
        return `Login with Amazon could not give an access token for SMAPI (${status}).` + quoted +
            (failure.status >= 500 ? " Try `npx pulumi up` again in a few minutes." : "");
    }
    const skill = failure.skillId ?? "the skill";
    switch (failure.status) {
        case 401:
            return `SMAPI refused the access token while trying to ${failure.operation} (${status}): the refresh token no longer grants access. ${NEW_REFRESH_TOKEN}.` + quoted;
        case 403:
            return `SMAPI does not allow this profile to ${failure.operation} of ${skill} (${status}): the LWA security profile behind smapiRefreshToken lacks the skill scopes ` +
                "(alexa::ask:skills:readwrite, the default of `ask util generate-lwa-tokens`), or its developer account is not the skill's vendor. " +
                `${NEW_REFRESH_TOKEN}.` + quoted;
        case 404:
            return `SMAPI finds no skill ${skill} (${status}) while trying to ${failure.operation}: check alexaSkillId against the Skill ID in the Alexa developer console, ` +
                "and that the refresh token belongs to the developer account (vendor) that owns the skill." + quoted;
        case 429:
            return `SMAPI kept throttling the requests to ${failure.operation} (${status}, Too Many Requests) until the retry time ran out: wait a minute and run \`npx pulumi up\` again.` + quoted;
        default:
            if (failure.status >= 500) {
                return `SMAPI failed to ${failure.operation} (${status}) until the retry time ran out: run \`npx pulumi up\` again in a few minutes.` + quoted;
            }
            return `SMAPI refused to ${failure.operation} of ${skill} (${status}).` + quoted;
    }
}

/** The error for a FAILED manifest update: each of Amazon's errors, verbatim, with its field. */
export function manifestUpdateFailed(skillId: string, errors: unknown): string {
    const lines = errorLines(errors);
    return `SMAPI accepted the manifest of ${skillId} but its update FAILED` +
        (lines.length > 0 ? `:${lines.map((line) => `\n    - ${line}`).join("")}` : " without saying why (see the skill's Build page in the console).") +
        "\n  A region's endpoint must be the ARN of a function in that region that lets this skill invoke it (the stack's Lambda permission).";
}
