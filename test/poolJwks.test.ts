import { strict as assert } from "assert";
import { createServer, Server } from "http";
import { AddressInfo } from "net";
import { canonicalJwks, PoolJwksProvider, PoolJwksState } from "../infra/poolJwks";
import { jwksOf, newSigningKey } from "../local/tokens";

/** A stand-in for the pool's well-known JWKS URL that can answer, fail, or serve other keys. */
async function startJwksUrl(body: () => { status: number; text: string }) {
    let requests = 0;
    const server: Server = createServer((_req, res) => {
        requests++;
        const { status, text } = body();
        res.writeHead(status, { "content-type": "application/json" }).end(text);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/us-east-1_AbCdEf123/.well-known/jwks.json`,
        requests: () => requests,
        stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

describe("the pool's JWKS handed to the function", function () {
    this.timeout(20000);
    const first = newSigningKey("kid-b");
    const second = newSigningKey("kid-a");
    const ok = (keys = jwksOf(first, second)) => () => ({ status: 200, text: JSON.stringify(keys) });
    const failing = () => ({ status: 503, text: "unavailable" });

    it("serializes the same keys the same way, whatever order Cognito lists them in", () => {
        const one = canonicalJwks(JSON.stringify(jwksOf(first, second)));
        const other = canonicalJwks(JSON.stringify(jwksOf(second, first)));
        assert.equal(one, other);
        assert.deepEqual(JSON.parse(one!).keys.map((k: { kid: string }) => k.kid), ["kid-a", "kid-b"]);
        // One key without its modulus makes the whole set unusable: every key must be one.
        const oneBroken = JSON.stringify({ keys: [...jwksOf(first).keys, { kid: "kid-c", kty: "RSA" }] });
        for (const bad of ["", "not json", "{}", '{"keys":[]}', '{"keys":[{"kid":1}]}', oneBroken]) {
            assert.equal(canonicalJwks(bad), undefined, bad);
        }
    });

    it("stores the keys it reads at creation", async () => {
        const endpoint = await startJwksUrl(ok());
        try {
            const { outs } = await new PoolJwksProvider(5).create({ jwksUrl: endpoint.url });
            assert.equal(outs.jwks, canonicalJwks(JSON.stringify(jwksOf(first, second))));
            assert.equal(outs.jwksUrl, endpoint.url);
        } finally {
            await endpoint.stop();
        }
    });

    it("stores an empty value when the first read fails after its three tries, and fills it at the next deployment", async () => {
        let up = false;
        const endpoint = await startJwksUrl(() => (up ? ok()() : failing()));
        try {
            const provider = new PoolJwksProvider(5);
            const { outs } = await provider.create({ jwksUrl: endpoint.url });
            assert.equal(outs.jwks, "");
            assert.equal(endpoint.requests(), 3);
            up = true;
            assert.equal((await provider.diff("id", outs as PoolJwksState, { jwksUrl: endpoint.url })).changes, true);
            const updated = await provider.update("id", outs as PoolJwksState, { jwksUrl: endpoint.url });
            assert.equal(updated.outs.jwks, canonicalJwks(JSON.stringify(jwksOf(first, second))));
        } finally {
            await endpoint.stop();
        }
    });

    it("never flaps: a failed read changes nothing, the same keys change nothing, only other keys do", async () => {
        let answer = ok();
        const endpoint = await startJwksUrl(() => answer());
        try {
            const provider = new PoolJwksProvider(5);
            const stored = (await provider.create({ jwksUrl: endpoint.url })).outs as PoolJwksState;
            answer = failing;
            assert.equal((await provider.diff("id", stored, { jwksUrl: endpoint.url })).changes, false, "a failed read must not change the function");
            assert.equal((await provider.update("id", stored, { jwksUrl: endpoint.url })).outs.jwks, stored.jwks, "a failed read keeps the stored keys");
            assert.equal((await provider.read("id", stored)).props.jwks, stored.jwks, "a refresh that cannot read keeps them too");
            answer = ok(jwksOf(second, first));
            assert.equal((await provider.diff("id", stored, { jwksUrl: endpoint.url })).changes, false, "the same keys in another order are no change");
            const rotated = newSigningKey("kid-c");
            answer = ok(jwksOf(first, second, rotated));
            assert.equal((await provider.diff("id", stored, { jwksUrl: endpoint.url })).changes, true, "a rotated key is a change");
            const updated = await provider.update("id", stored, { jwksUrl: endpoint.url });
            assert.deepEqual(JSON.parse(updated.outs.jwks).keys.map((k: { kid: string }) => k.kid), ["kid-a", "kid-b", "kid-c"]);
        } finally {
            await endpoint.stop();
        }
    });

    for (const [what, answer] of [["404", { status: 404, text: '{"message":"User pool us-east-1_AbCdEf123 does not exist."}' }], ["a JWKS without keys", { status: 200, text: '{"keys":[]}' }]] as const) {
        it(`fails the deployment, naming the setting, when the pool's JWKS answers ${what} (a pool that is not there) at create, diff, update and refresh`, async () => {
            const endpoint = await startJwksUrl(() => answer);
            try {
                const provider = new PoolJwksProvider(1);
                const stored: PoolJwksState = { jwksUrl: endpoint.url, jwks: canonicalJwks(JSON.stringify(jwksOf(first)))! };
                for (const step of [() => provider.create({ jwksUrl: endpoint.url }), () => provider.diff("id", stored, { jwksUrl: endpoint.url }),
                    () => provider.update("id", stored, { jwksUrl: endpoint.url }), () => provider.read("id", stored)]) {
                    const before = endpoint.requests();
                    await assert.rejects(step(), (err: Error) => err.message === `The user pool's public keys at ${endpoint.url} ${what === "404" ? "answered 404 (no such user pool)" : "answered with a JWKS that holds no keys"}: ` +
                        "Cognito in us-east-1 does not know the pool us-east-1_AbCdEf123. On a secondary stack, primaryUserPoolId must be the primary's userPoolId output. " +
                        'Fix: pulumi config set primaryUserPoolId "$(pulumi stack output userPoolId --stack dev)"');
                    assert.equal(endpoint.requests() - before, 5, "asked five times before giving up");
                }
            } finally {
                await endpoint.stop();
            }
        });
    }

    it("waits for a pool that Cognito publishes a moment after it was made (404, then its keys)", async () => {
        let calls = 0;
        const endpoint = await startJwksUrl(() => (++calls <= 3 ? { status: 404, text: "{}" } : ok()()));
        try {
            const started = performance.now();
            const { outs } = await new PoolJwksProvider(10).create({ jwksUrl: endpoint.url });
            assert.equal(outs.jwks, canonicalJwks(JSON.stringify(jwksOf(first, second))));
            // 40, 80 and 160 ms apart: a missing pool is asked again more slowly than a failed read.
            assert.ok(performance.now() - started >= 280, `${performance.now() - started} ms`);
        } finally {
            await endpoint.stop();
        }
    });

    it("keeps the last keys through a mix of failures that prove nothing (5xx, a body that is no JWKS, no answer)", async () => {
        const answers = [{ status: 500, text: "x" }, { status: 200, text: "<html>" }, { status: 200, text: '{"keys":[{"kid":"k"}]}' }];
        const endpoint = await startJwksUrl(() => answers.shift() ?? { status: 503, text: "" });
        try {
            const provider = new PoolJwksProvider(1);
            const stored: PoolJwksState = { jwksUrl: endpoint.url, jwks: "kept" };
            assert.equal((await provider.update("id", stored, { jwksUrl: endpoint.url })).outs.jwks, "kept");
            assert.equal(endpoint.requests(), 3);
        } finally {
            await endpoint.stop();
        }
    });

    it("pauses 1, 2, 4 and 8 times four pauses while the pool seems missing, and 1 and 2 pauses after other failures", async () => {
        class Recorded extends PoolJwksProvider {
            pauses: number[] = [];
            protected override pause(ms: number): Promise<void> {
                this.pauses.push(ms);
                return Promise.resolve();
            }
        }
        for (const [answer, pauses] of [[{ status: 404, text: "{}" }, [40, 80, 160, 320]], [{ status: 503, text: "" }, [10, 20]]] as const) {
            const endpoint = await startJwksUrl(() => answer);
            try {
                const provider = new Recorded(10);
                await provider.readJwks(endpoint.url);
                assert.deepEqual(provider.pauses, pauses);
            } finally {
                await endpoint.stop();
            }
        }
    });

    it("gives up on a request that does not answer within its time, and tries again", async () => {
        const hanging = createServer(() => undefined);
        await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", () => resolve()));
        try {
            const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/us-east-1_AbCdEf123/.well-known/jwks.json`;
            assert.deepEqual(await new PoolJwksProvider(1, 100).readJwks(url), { unreachable: true });
        } finally {
            hanging.closeAllConnections();
            await new Promise<void>((resolve) => hanging.close(() => resolve()));
        }
    });

    it("takes a 200 whose body is JSON but no object (null, a number, a string) for a failed read, not a missing pool", async () => {
        for (const text of ["null", "42", '"keys"']) {
            const endpoint = await startJwksUrl(() => ({ status: 200, text }));
            try {
                assert.deepEqual(await new PoolJwksProvider(1).readJwks(endpoint.url), { unreachable: true }, text);
                assert.equal(endpoint.requests(), 3, text);
            } finally {
                await endpoint.stop();
            }
        }
    });

    it("treats another pool's URL as a change, and never keeps the old pool's keys for it", async () => {
        const endpoint = await startJwksUrl(failing);
        try {
            const provider = new PoolJwksProvider(5);
            const stored: PoolJwksState = { jwksUrl: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Old/.well-known/jwks.json", jwks: canonicalJwks(JSON.stringify(jwksOf(first)))! };
            assert.equal((await provider.diff("id", stored, { jwksUrl: endpoint.url })).changes, true);
            assert.equal((await provider.update("id", stored, { jwksUrl: endpoint.url })).outs.jwks, "");
        } finally {
            await endpoint.stop();
        }
    });
});
