// Facts about Alexa that the stack is built around.

/**
 * Where Alexa calls a Smart Home skill's Lambda: North America, Europe and India, Far East
 * (https://developer.amazon.com/docs/smarthome/develop-smart-home-skills-in-multiple-languages.html).
 */
export const ALEXA_REGIONS = ["us-east-1", "eu-west-1", "us-west-2"] as const;

/** Alexa's own service principal for Smart Home skills; with the skill ID as event source token. */
export const ALEXA_SMART_HOME_PRINCIPAL = "alexa-connectedhome.amazon.com";

/** The hosts of Alexa's three account-linking redirect URLs, one per Alexa region. */
const REDIRECT_HOSTS = ["pitangui.amazon.com", "layla.amazon.com", "alexa.amazon.co.jp"];

/** The Redirect URLs the Alexa console lists on a skill's Account Linking page. */
export function alexaRedirectUrls(vendorId: string): string[] {
    return REDIRECT_HOSTS.map((host) => `https://${host}/api/skill/link/${vendorId}`);
}
