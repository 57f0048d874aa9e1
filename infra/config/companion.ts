// The companion page and API: whether the stack serves them, and where the hosted login may send
// a signed-in user back to.
import { ConfigReader, isHttpsUrl } from "./reader";

export interface CompanionSettings {
    /** Whether this stack serves the companion page and API (with their app client on the pool). */
    companionApp: boolean;
    /** The companion client's callback and sign-out URLs; empty: the page's own URL only. */
    companionCallbackUrls: string[];
}

export const COMPANION_KEYS = ["companionApp", "companionCallbackUrls"] as const;

/** The companion's settings; on a secondary stack it signs in on the primary's hosted domain. */
export function readCompanion(reader: ConfigReader, secondary: boolean): CompanionSettings {
    const companionApp = reader.flag("companionApp");
    const primaryAuthorizationUri = reader.optional("primaryAuthorizationUri");
    if (secondary && companionApp && (primaryAuthorizationUri === undefined || !/^https:\/\/[^/]+\/oauth2\/authorize$/.test(primaryAuthorizationUri))) {
        reader.problem("primaryAuthorizationUri", primaryAuthorizationUri,
            "a secondary stack's companion page signs users in on the primary's hosted domain: give it the primary's authorizationUri output",
            'set primaryAuthorizationUri "$(pulumi stack output authorizationUri --stack dev)"');
    }
    const companionCallbackUrls = reader.list("companionCallbackUrls");
    // Cognito takes https callback URLs, and http only for localhost (Cognito developer guide,
    // "App client settings": callback URLs).
    const badCompanionUrls = companionCallbackUrls.filter((url) => !isHttpsUrl(url) && !/^http:\/\/localhost(:\d+)?(\/[^#]*)?$/.test(url));
    if (badCompanionUrls.length > 0) {
        reader.problem("companionCallbackUrls", reader.text("companionCallbackUrls"),
            `every entry must be an https URL, or http://localhost for development (not: ${badCompanionUrls.map((b) => JSON.stringify(b)).join(", ")})`,
            "rm companionCallbackUrls, then: pulumi config set-all --path --plaintext 'companionCallbackUrls[0]=https://lamp.example.com/'");
    }
    return { companionApp, companionCallbackUrls };
}
