// Cognito's JWKS endpoint (https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json)
// answered from memory, for the verifier the functions build from their environment: it downloads
// with aws-jwt-verify's own fetcher (Node's https.request, aws-jwt-verify/dist/cjs/https-node.js),
// whose address no setting changes. While installed, every https request to a cognito-idp host is
// counted and answered 200 with `jwks`, as Cognito answers; any other host is left alone.
import { EventEmitter } from "events";
import { Readable } from "stream";

// The module object itself (an `import * as` would be a copy): aws-jwt-verify reads its `request`
// at each call.
const https: typeof import("https") = require("https");

export interface CognitoJwksDownloads {
    /** Downloads so far. */
    count(): number;
    restore(): void;
}

export function answerCognitoJwks(jwks: unknown): CognitoJwksDownloads {
    const original = https.request;
    let count = 0;
    const fake = ((url: string | URL, ...rest: unknown[]) => {
        const host = new URL(String(url)).host;
        if (!/^cognito-idp\.[a-z0-9-]+\.amazonaws\.com$/.test(host)) {
            return (original as (...args: unknown[]) => unknown)(url, ...rest);
        }
        count++;
        const callback = rest.find((arg) => typeof arg === "function") as (response: Readable & { statusCode: number }) => void;
        const request = Object.assign(new EventEmitter(), {
            socket: undefined,
            destroy() {
                return request;
            },
            end() {
                const response = Object.assign(Readable.from([Buffer.from(JSON.stringify(jwks))]), { statusCode: 200, headers: { "content-type": "application/json" } });
                setImmediate(() => callback(response));
                return request;
            },
        });
        return request;
    }) as typeof https.request;
    (https as { request: typeof https.request }).request = fake;
    return {
        count: () => count,
        restore() {
            (https as { request: typeof https.request }).request = original;
        },
    };
}
