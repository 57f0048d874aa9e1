// The pool's public keys, read by the deploying machine and handed to the skill function, so that
// a cold start verifies its first token without downloading them. The function still downloads
// the JWKS when this value is empty or lacks a token's key (Cognito rotated it).
//
// The value lives in a resource of its own so that it never flaps: it changes only when a read
// succeeds and shows other keys. A read that fails for the network's or Cognito's sake (no answer,
// a 5xx) keeps what the last successful one stored (an empty value on the very first deployment,
// which the next successful read fills in); without this, a hiccup at one `up` would switch the
// function's environment to "" and back at the next, a Lambda update each time. A pool that is not
// there is another matter: Cognito answers 404 (or a JWKS without keys) for a pool ID it does not
// know, and the function would then refuse every user's token. That stops the `up`, naming the
// setting (a secondary stack's primaryUserPoolId). The same keys always serialize the same way.
import * as pulumi from "@pulumi/pulumi";

/** Cognito publishes every pool's JWKS here. */
export function poolJwksUrl(userPoolId: string): string {
    const region = userPoolId.split("_")[0];
    return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}/.well-known/jwks.json`;
}

/** Whether `text` is a JWKS document whose key list is empty (or missing). */
function noKeys(text: string): boolean {
    try {
        const parsed = JSON.parse(text);
        return typeof parsed === "object" && parsed !== null && (!Array.isArray(parsed.keys) || parsed.keys.length === 0);
    } catch {
        return false;
    }
}

/** The canonical text of a JWKS of RSA keys (keys sorted by kid), or undefined for anything else. */
export function canonicalJwks(text: string): string | undefined {
    let jwks: { keys?: unknown };
    try {
        jwks = JSON.parse(text);
    } catch {
        return undefined;
    }
    const keys = jwks?.keys;
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((key) => typeof key?.kid === "string" && typeof key?.n === "string")) {
        return undefined;
    }
    const sorted = [...keys].sort((a, b) => (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0));
    return JSON.stringify({ keys: sorted });
}

/** A read's result: the keys, a pool that is not there (why), or no usable answer. */
export type JwksRead = { jwks: string } | { missing: string } | { unreachable: true };

export interface PoolJwksState {
    jwksUrl: string;
    /** The canonical JWKS, or "" until a read succeeds. */
    jwks: string;
}

/**
 * A dynamic provider: serialized by Pulumi like a CallbackFunction, so everything it uses is
 * built inside its methods (fetch is Node's own) and it captures no state of the deploying program.
 */
export class PoolJwksProvider implements pulumi.dynamic.ResourceProvider {
    /** `pauseMs`: the first pause between tries (doubled each time); `timeoutMs`: how long one request may take. */
    constructor(private readonly pauseMs = 250, private readonly timeoutMs = 4000) {}

    /** A pause between tries (a method, so that a test can see the pauses). */
    protected pause(ms: number): Promise<void> {
        return new Promise((resolve) => setTimeout(resolve, ms));
    }

    /**
     * The canonical JWKS at `url`. A 404 or a JWKS without keys is asked again for about 15 s (a
     * pool just made may take a moment to be published) before it counts as missing; any other
     * failure is tried three times within a few seconds.
     */
    async readJwks(url: string): Promise<JwksRead> {
        let failedTries = 0;
        let missingTries = 0;
        for (;;) {
            const read = await this.readOnce(url);
            if ("jwks" in read) {
                return read;
            }
            if ("missing" in read ? ++missingTries >= 5 : ++failedTries >= 3) {
                return "missing" in read ? read : { unreachable: true };
            }
            // 0.25, 0.5 s between failed tries; 1, 2, 4, 8 s while the pool seems missing.
            await this.pause("missing" in read ? this.pauseMs * 4 * 2 ** (missingTries - 1) : this.pauseMs * 2 ** (failedTries - 1));
        }
    }

    /** One request: the keys, a pool that seems missing, or a failure to try again. */
    private async readOnce(url: string): Promise<JwksRead> {
        try {
            const response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
            if (response.status === 404) {
                return { missing: "answered 404 (no such user pool)" };
            }
            const text = response.ok ? await response.text() : "";
            const jwks = response.ok ? canonicalJwks(text) : undefined;
            if (jwks !== undefined) {
                return { jwks };
            }
            return response.ok && noKeys(text) ? { missing: "answered with a JWKS that holds no keys" } : { unreachable: true };
        } catch {
            return { unreachable: true };
        }
    }

    /** The canonical JWKS at `url`; undefined when it cannot be read now; throws for a pool that is not there. */
    async fetchJwks(url: string): Promise<string | undefined> {
        const read = await this.readJwks(url);
        if ("missing" in read) {
            const userPoolId = url.split("/")[3];
            throw new Error(`The user pool's public keys at ${url} ${read.missing}: Cognito in ${userPoolId.split("_")[0]} does not know the pool ${userPoolId}. ` +
                'On a secondary stack, primaryUserPoolId must be the primary\'s userPoolId output. Fix: pulumi config set primaryUserPoolId "$(pulumi stack output userPoolId --stack dev)"');
        }
        return "jwks" in read ? read.jwks : undefined;
    }

    async create(inputs: { jwksUrl: string }): Promise<pulumi.dynamic.CreateResult> {
        const jwks = (await this.fetchJwks(inputs.jwksUrl)) ?? "";
        return { id: inputs.jwksUrl, outs: { jwksUrl: inputs.jwksUrl, jwks } satisfies PoolJwksState };
    }

    async diff(_id: string, olds: PoolJwksState, news: { jwksUrl: string }): Promise<pulumi.dynamic.DiffResult> {
        if (olds.jwksUrl !== news.jwksUrl) {
            return { changes: true };
        }
        const jwks = await this.fetchJwks(news.jwksUrl);
        return { changes: jwks !== undefined && jwks !== olds.jwks };
    }

    async update(_id: string, olds: PoolJwksState, news: { jwksUrl: string }): Promise<pulumi.dynamic.UpdateResult> {
        const jwks = await this.fetchJwks(news.jwksUrl);
        const kept = olds.jwksUrl === news.jwksUrl ? olds.jwks : "";
        return { outs: { jwksUrl: news.jwksUrl, jwks: jwks ?? kept } satisfies PoolJwksState };
    }

    async read(id: string, props: PoolJwksState): Promise<pulumi.dynamic.ReadResult> {
        const jwks = await this.fetchJwks(props.jwksUrl);
        return { id, props: { ...props, jwks: jwks ?? props.jwks } };
    }
}

/** The pool's JWKS as the last successful read found it, kept in the stack's state. */
export class PoolJwks extends pulumi.dynamic.Resource {
    declare readonly jwks: pulumi.Output<string>;
    declare readonly jwksUrl: pulumi.Output<string>;

    constructor(name: string, args: { userPoolId: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
        super(new PoolJwksProvider(), name, { jwksUrl: pulumi.output(args.userPoolId).apply(poolJwksUrl), jwks: undefined }, opts, undefined, "PoolJwks");
    }
}
