// The pool's public keys, read by the deploying machine and handed to the skill function, so that
// a cold start verifies its first token without downloading them. The function still downloads
// the JWKS when this value is empty or lacks a token's key (Cognito rotated it).
import * as pulumi from "@pulumi/pulumi";

export type JwksReader = (url: string) => Promise<string>;

/** Cognito publishes every pool's JWKS here. */
export function poolJwksUrl(userPoolId: string): string {
    const region = userPoolId.split("_")[0];
    return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}/.well-known/jwks.json`;
}

/** Reads a JWKS over HTTPS within a few seconds; the function has a fallback, so a failure only warns. */
export const readJwksOverHttps: JwksReader = async (url) => {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) {
        throw new Error(`HTTP ${response.status}`);
    }
    return response.text();
};

/**
 * The JWKS as compact JSON, or "" when it could not be read or is not a JWKS (the function then
 * downloads it at cold start, as it would without this).
 */
export function handedOverJwks(userPoolId: pulumi.Input<string>, read: JwksReader = readJwksOverHttps): pulumi.Output<string> {
    return pulumi.output(userPoolId).apply(async (id) => {
        const url = poolJwksUrl(id);
        try {
            const jwks = JSON.parse(await read(url));
            if (!Array.isArray(jwks?.keys) || jwks.keys.length === 0 || !jwks.keys.every((key: { kid?: unknown; n?: unknown }) => typeof key.kid === "string" && typeof key.n === "string")) {
                throw new Error("the answer is not a JWKS of RSA keys");
            }
            return JSON.stringify({ keys: jwks.keys });
        } catch (err) {
            pulumi.log.warn(`Could not read the user pool's JWKS from ${url} (${err instanceof Error ? err.message : err}); ` +
                "the skill function will download it at cold start instead.");
            return "";
        }
    });
}
