// The skill's account linking as SMAPI shows it, compared with what the stack wants, field by
// field. SMAPI never shows the client secret (GET accountLinkingClient answers without it:
// developer.amazon.com/docs/alexa/smapi/account-linking-operations.html), so it cannot drift-check
// it: the stack's own value stands. Plain functions, serialized with the dynamic provider.
import type { AccountLinkingRequest } from "./accountLinkingRequest";

/** The fields of the request that SMAPI shows back. */
const SHOWN_FIELDS = ["type", "authorizationUrl", "accessTokenUrl", "clientId", "accessTokenScheme", "scopes", "domains", "defaultTokenExpirationInSeconds"] as const;

/** SMAPI leaves out an empty domain list. */
function shownValue(live: Record<string, unknown>, field: string): unknown {
    const value = live[field];
    return field === "domains" && value === undefined ? [] : value;
}

/** The names of the fields whose live value differs from the wanted one (all of them when none is set). */
export function linkingDifferences(live: Record<string, unknown> | undefined, wanted: AccountLinkingRequest): string[] {
    const request = wanted.accountLinkingRequest as unknown as Record<string, unknown>;
    return SHOWN_FIELDS.filter((field) => live === undefined || JSON.stringify(shownValue(live, field)) !== JSON.stringify(request[field]));
}

/** The live configuration in the request's shape, with the stack's client secret; null when none is set. */
export function linkingAsSeen(live: Record<string, unknown> | undefined, wanted: AccountLinkingRequest): AccountLinkingRequest | null {
    if (live === undefined) {
        return null;
    }
    // In the wanted request's key order, so that an unchanged configuration compares equal as JSON.
    const seen: Record<string, unknown> = {};
    for (const field of Object.keys(wanted.accountLinkingRequest)) {
        seen[field] = field === "clientSecret" ? wanted.accountLinkingRequest.clientSecret : shownValue(live, field);
    }
    return { accountLinkingRequest: seen as unknown as AccountLinkingRequest["accountLinkingRequest"] };
}
