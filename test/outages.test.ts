import { strict as assert } from "assert";
import { createServer, get, Server } from "http";
import { AddressInfo } from "net";
import { startSkillHarness, SkillHarness } from "./support/skillHarness";
import { directives, errorType } from "./support/directives";
import { jwksOf } from "./support/tokens";
import { alexaDataPresent, assertValidAlexaMessage } from "./support/alexaSchema";

type JwksMode = "down" | "error" | "garbage" | "ok";

/** The pool's JWKS endpoint, on 127.0.0.1, in whatever state a test needs; counts downloads. */
async function startJwksEndpoint(body: () => string) {
    let mode: JwksMode = "ok";
    let downloads = 0;
    const server: Server = createServer((_req, res) => {
        downloads++;
        if (mode === "error") {
            res.writeHead(500).end("internal error");
        } else {
            res.writeHead(200, { "content-type": "application/json" }).end(mode === "garbage" ? "{not json" : body());
        }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const port = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}/.well-known/jwks.json`;
    return {
        /** aws-jwt-verify's Fetcher, pointed here instead of at cognito-idp. */
        fetcher: {
            fetch: () => new Promise<ArrayBuffer>((resolve, reject) => {
                if (mode === "down") {
                    reject(new Error("connect ECONNREFUSED"));
                    return;
                }
                get(url, (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c) => chunks.push(c));
                    res.on("end", () => (res.statusCode === 200 ? resolve(new Uint8Array(Buffer.concat(chunks)).buffer) : reject(new Error(`status ${res.statusCode}`))));
                }).on("error", reject);
            }),
        },
        setMode: (next: JwksMode) => (mode = next),
        downloads: () => downloads,
        stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

describe("outages", () => {
    let skill: SkillHarness;
    let jwks: Awaited<ReturnType<typeof startJwksEndpoint>>;

    /** The skill's answer, checked against Amazon's schema when it is at hand. */
    async function answer(event: unknown): Promise<any> {
        const response = await skill.handle(event);
        if (alexaDataPresent) {
            assertValidAlexaMessage(response);
        }
        return response;
    }

    afterEach(async () => {
        await skill?.stop();
        await jwks?.stop();
    });

    for (const mode of ["down", "error", "garbage"] as const) {
        it(`answers INTERNAL_ERROR, never an unlinking error, while the JWKS endpoint is ${mode}, and recovers by itself`, async () => {
            let keys = "";
            jwks = await startJwksEndpoint(() => keys);
            jwks.setMode(mode);
            skill = await startSkillHarness({ jwks: undefined, fetcher: jwks.fetcher, jwksRetryWaitSeconds: 0.2 });
            keys = JSON.stringify(jwksOf(skill.key));
            const user = skill.newUser();
            for (let i = 0; i < 3; i++) {
                assert.equal(errorType(await answer(directives.discover(user.token))), "INTERNAL_ERROR");
            }
            jwks.setMode("ok");
            await new Promise((resolve) => setTimeout(resolve, 250));
            assert.equal(errorType(await answer(directives.discover(user.token))), undefined);
        });
    }

    it("downloads the JWKS once per container, not per directive", async () => {
        let keys = "";
        jwks = await startJwksEndpoint(() => keys);
        skill = await startSkillHarness({ jwks: undefined, fetcher: jwks.fetcher });
        keys = JSON.stringify(jwksOf(skill.key));
        const user = skill.newUser();
        await new Promise((resolve) => setTimeout(resolve, 50));
        for (let i = 0; i < 20; i++) {
            assert.equal(errorType(await answer(directives.discover(user.token))), undefined);
        }
        assert.ok(jwks.downloads() <= 2, `${jwks.downloads()} downloads`);
    });

    it("answers INTERNAL_ERROR while DynamoDB is unreachable, and the lamp's state is intact once it is back", async () => {
        skill = await startSkillHarness();
        const user = skill.newUser();
        await answer(directives.setBrightness(user.token, user.endpointId, 44));
        await skill.dynamo.pause();
        for (const event of [directives.turnOff(user.token, user.endpointId), directives.reportState(user.token, user.endpointId)]) {
            assert.equal(errorType(await answer(event)), "INTERNAL_ERROR");
        }
        await skill.dynamo.resume();
        const state: any = await answer(directives.reportState(user.token, user.endpointId));
        const value = (name: string) => state.context.properties.find((p: any) => p.name === name).value;
        assert.equal(value("powerState"), "ON");
        assert.equal(value("brightness"), 44);
    });
});
