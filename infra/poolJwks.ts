// The pool's public keys, read by the deploying machine and handed to the skill function, so that
// a cold start verifies its first token without downloading them. The function still downloads
// the JWKS when this value is empty or lacks a token's key (Cognito rotated it).
//
// The value lives in a resource of its own so that it never flaps: it changes only when a read
// succeeds and shows other keys. A failed read keeps what the last successful one stored (an empty
// value on the very first deployment, which the next successful read fills in); without this, a
// network hiccup at one `up` would switch the function's environment to "" and back at the next,
// a Lambda update each time. The same keys always serialize the same way (sorted by kid).
import * as pulumi from "@pulumi/pulumi";

/** Cognito publishes every pool's JWKS here. */
export function poolJwksUrl(userPoolId: string): string {
    const region = userPoolId.split("_")[0];
    return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}/.well-known/jwks.json`;
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
    /** `pauseMs`: the first pause between tries (doubled each time). */
    constructor(private readonly pauseMs = 250) {}

    /** The canonical JWKS at `url`, or undefined when it cannot be read within a few seconds. */
    async fetchJwks(url: string): Promise<string | undefined> {
        for (let attempt = 0; attempt < 3; attempt++) {
            try {
                const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
                const jwks = response.ok ? canonicalJwks(await response.text()) : undefined;
                if (jwks !== undefined) {
                    return jwks;
                }
            } catch {
                // Another try after a short pause.
            }
            await new Promise((resolve) => setTimeout(resolve, this.pauseMs * 2 ** attempt));
        }
        return undefined;
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
