// The skill's account linking as SMAPI shows it, compared with what the stack wants, field by
// field. SMAPI never shows the client secret (GET accountLinkingClient answers without it:
// developer.amazon.com/docs/alexa/smapi/account-linking-operations.html), so the secret travels
// apart from the other fields: they can be shown in a preview's diff and drift-checked, and the
// secret stays a secret. Plain functions, serialized with the dynamic provider.
import type { AccountLinkingRequest } from "./accountLinkingRequest";

/** The account-linking fields SMAPI shows back: everything but the client secret. */
export type ShownLinking = Omit<AccountLinkingRequest["accountLinkingRequest"], "clientSecret">;

/** The request without its client secret. */
export function shownPart(request: AccountLinkingRequest): ShownLinking {
    const shown: Record<string, unknown> = { ...request.accountLinkingRequest };
    delete shown.clientSecret;
    return shown as ShownLinking;
}

/** The request SMAPI takes, from the shown fields and the secret. */
export function withClientSecret(shown: ShownLinking, clientSecret: string): AccountLinkingRequest {
    return { accountLinkingRequest: { ...shown, clientSecret } };
}

/** SMAPI leaves out an empty domain list. */
function shownValue(live: Record<string, unknown>, field: string): unknown {
    const value = live[field];
    return field === "domains" && value === undefined ? [] : value;
}

/** The names of the wanted fields whose live value differs (all of them when no account linking is set). */
export function linkingDifferences(live: Record<string, unknown> | undefined, wanted: ShownLinking): string[] {
    return Object.entries(wanted)
        .filter(([field, value]) => live === undefined || JSON.stringify(shownValue(live, field)) !== JSON.stringify(value))
        .map(([field]) => field);
}

/** The live values of the wanted fields, in the wanted order (so that no change compares equal); null when none is set. */
export function liveLinking(live: Record<string, unknown> | undefined, wanted: ShownLinking): ShownLinking | null {
    if (live === undefined) {
        return null;
    }
    const seen: Record<string, unknown> = {};
    for (const field of Object.keys(wanted)) {
        seen[field] = shownValue(live, field);
    }
    return seen as ShownLinking;
}
