import { strict as assert } from "assert";
import fc from "fast-check";
import { startSkillHarness, SkillHarness } from "./support/skillHarness";
import { directives, errorType } from "../local/directives";
import { alexaDataPresent, assertValidAlexaMessage, SAMPLE_REQUESTS, sampleDirective } from "./support/alexaSchema";
import { accessTokenClaims, newSigningKey, signToken } from "../local/tokens";

/** Runs per CI run (FUZZ_RUNS overrides); the seed is printed so that a failure can be replayed with FUZZ_SEED. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10000);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every (container, key) pair in a JSON tree, depth first: the places a mutation can hit. */
function places(node: Json, found: [Json[] | Record<string, Json>, string | number][] = []) {
    if (Array.isArray(node)) {
        node.forEach((child, i) => {
            found.push([node, i]);
            places(child, found);
        });
    } else if (node !== null && typeof node === "object") {
        for (const key of Object.keys(node)) {
            found.push([node, key]);
            places(node[key], found);
        }
    }
    return found;
}

/** Rebuilds objects with their keys in another order (JSON semantics must not depend on it). */
function reorder(node: Json, shift: number): Json {
    if (Array.isArray(node)) {
        return node.map((child) => reorder(child, shift));
    }
    if (node === null || typeof node !== "object") {
        return node;
    }
    const keys = Object.keys(node);
    const rotated = keys.map((_, i) => keys[(i + shift) % keys.length]).reverse();
    return Object.fromEntries(rotated.map((key) => [key, reorder(node[key], shift)]));
}

const replacement = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "grapheme", maxLength: 20 }),
    fc.string({ unit: "binary", maxLength: 20 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant("x".repeat(300 * 1024)),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);

const mutation = fc.oneof(
    fc.record({ op: fc.constant("drop" as const), at: fc.nat() }),
    fc.record({ op: fc.constant("retype" as const), at: fc.nat(), value: replacement }),
    fc.record({ op: fc.constant("reorder" as const), shift: fc.nat({ max: 7 }) }),
    fc.record({ op: fc.constant("add" as const), at: fc.nat(), key: fc.string({ maxLength: 12 }), value: replacement }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(event: Json, mutations: Mutation[]): Json {
    let root = event;
    for (const m of mutations) {
        if (m.op === "reorder") {
            root = reorder(root, m.shift);
            continue;
        }
        const all = places(root);
        if (all.length === 0) {
            continue;
        }
        const [container, key] = all[m.at % all.length];
        if (m.op === "drop") {
            if (Array.isArray(container)) {
                container.splice(key as number, 1);
            } else {
                delete container[key as string];
            }
        } else if (m.op === "retype") {
            (container as Record<string | number, Json>)[key] = m.value as Json;
        } else {
            const target = (container as Record<string | number, Json>)[key];
            if (target !== null && typeof target === "object" && !Array.isArray(target)) {
                target[m.key] = m.value as Json;
            }
        }
    }
    return root;
}

/** Where Alexa puts the token for this directive, read independently of the handler. */
function tokenIn(event: any): unknown {
    const directive = event?.directive;
    const namespace = directive?.header?.namespace;
    if (namespace === "Alexa.Discovery") {
        return directive?.payload?.scope?.token;
    }
    if (namespace === "Alexa.Authorization") {
        return directive?.payload?.grantee?.token;
    }
    return directive?.endpoint?.scope?.token;
}

const ENDPOINT_ID = /^[a-zA-Z0-9_\-=#;:?@&]{1,256}$/;
const isObject = (value: unknown): value is Record<string, any> => typeof value === "object" && value !== null && !Array.isArray(value);
const filled = (value: unknown) => typeof value === "string" && value.length > 0;

/**
 * Why a fuzzed event is not a well-formed Smart Home directive, read from the message guide
 * (https://developer.amazon.com/docs/device-apis/message-guide.html) rather than from the handler:
 * a header with namespace, name and messageId, payloadVersion "3", a payload object, and an
 * endpointId of the allowed characters (1-256 of them) wherever an endpoint names one.
 */
function malformedBecause(event: any): string | undefined {
    const directive = event?.directive;
    if (!isObject(directive) || !isObject(directive.header)) {
        return "no directive header";
    }
    const { header } = directive;
    if (!filled(header.namespace) || !filled(header.name) || !filled(header.messageId)) {
        return "no namespace, name or messageId";
    }
    if (header.payloadVersion !== "3") {
        return "payloadVersion";
    }
    if (!isObject(directive.payload)) {
        return "no payload object";
    }
    const endpointId = isObject(directive.endpoint) ? directive.endpoint.endpointId : undefined;
    if (endpointId !== undefined && !(typeof endpointId === "string" && ENDPOINT_ID.test(endpointId))) {
        return "malformed endpointId";
    }
    return undefined;
}

describe("fuzzing the skill endpoint", function () {
    this.timeout(300000);
    let skill: SkillHarness;

    before(async () => {
        skill = await startSkillHarness();
    });
    after(() => skill.stop());

    it(`never throws, answers only valid messages, errors to unverified tokens, INVALID_DIRECTIVE to malformed directives, never INTERNAL_ERROR or an unlinking error to a valid token, and successes only for the token's own lamp (${RUNS} directives)`, async () => {
        console.log(`    fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED} npm test -- --grep fuzz), ${RUNS} runs, bases: ${alexaDataPresent ? "Amazon's sample directives" : "the project's own directives (Amazon's samples are absent)"}`);
        const users = [skill.newUser(), skill.newUser(), skill.newUser()];
        const past = Math.floor(Date.now() / 1000) - 7200;
        const otherPool = "us-east-1_Other9999";
        // Each token with the user it proves (valid ones only).
        const tokens: { token: string; validFor?: (typeof users)[number] }[] = [
            ...users.map((user) => ({ token: user.token, validFor: user })),
            { token: signToken(skill.key, accessTokenClaims(users[0].sub, { iat: past, exp: past + 3600 })) },
            { token: signToken(newSigningKey(skill.key.kid), accessTokenClaims(users[1].sub)) },
            { token: signToken(skill.key, accessTokenClaims(users[2].sub, { client_id: "0ther0client0id0000000000a" })) },
            { token: signToken(skill.key, accessTokenClaims(users[0].sub, { iss: `https://cognito-idp.us-east-1.amazonaws.com/${otherPool}` })) },
            { token: users[1].token.slice(0, -4) },
            { token: "access-token-from-skill" },
        ];
        const bases: (() => any)[] = alexaDataPresent
            ? Object.values(SAMPLE_REQUESTS).map((path) => () => sampleDirective(path))
            : [
                  () => directives.discover("t"),
                  () => directives.acceptGrant("t"),
                  () => directives.turnOn("t", "e"),
                  () => directives.setBrightness("t", "e", 50),
                  () => directives.adjustBrightness("t", "e", -10),
                  () => directives.reportState("t", "e"),
              ];
        const counts = { errors: 0, successes: 0, malformed: 0 };

        await fc.assert(
            fc.asyncProperty(
                fc.nat({ max: bases.length - 1 }),
                fc.nat({ max: tokens.length - 1 }),
                // An index past the users means the token's own user (most directives address it).
                fc.nat({ max: 2 * users.length - 1 }),
                fc.array(mutation, { maxLength: 4 }),
                async (baseIndex, tokenIndex, endpointUser, mutations) => {
                    const event = bases[baseIndex]();
                    const scope = event.directive.payload.scope ?? event.directive.payload.grantee ?? event.directive.endpoint.scope;
                    scope.token = tokens[tokenIndex].token;
                    if (event.directive.endpoint) {
                        event.directive.endpoint.endpointId = (users[endpointUser] ?? tokens[tokenIndex].validFor ?? users[0]).endpointId;
                    }
                    const fuzzed = mutate(event, mutations);
                    const response: any = await skill.handle(fuzzed);
                    if (alexaDataPresent) {
                        assertValidAlexaMessage(response);
                    }
                    const error = errorType(response);
                    const owner = tokens.find((t) => t.token === tokenIn(fuzzed))?.validFor;
                    const malformed = malformedBecause(fuzzed);
                    if (malformed) {
                        counts.malformed++;
                        assert.equal(error, "INVALID_DIRECTIVE", `malformed (${malformed}) but answered ${error ?? response.event.header.name}`);
                    }
                    if (owner) {
                        assert.ok(!["INTERNAL_ERROR", "INVALID_AUTHORIZATION_CREDENTIAL", "EXPIRED_AUTHORIZATION_CREDENTIAL"].includes(String(error)), `a valid token got ${error}`);
                    }
                    if (error !== undefined) {
                        counts.errors++;
                        return;
                    }
                    counts.successes++;
                    assert.ok(owner, "a directive whose token did not verify got a non-error answer");
                    const named = response.event.endpoint?.endpointId ?? response.event.payload.endpoints?.[0]?.endpointId;
                    if (response.event.header.name !== "AcceptGrant.Response") {
                        assert.equal(named, owner.endpointId, `${response.event.header.name} names another lamp than the token's user's`);
                    }
                },
            ),
            { numRuns: RUNS, seed: SEED, endOnFailure: false },
        );
        console.log(`    ${RUNS} directives: ${counts.successes} answered normally, ${counts.errors} with an error (${counts.malformed} malformed)`);
        assert.ok(counts.successes > RUNS / 20, "the fuzzer barely reached the directives' normal paths");
        assert.ok(counts.malformed > RUNS / 50, "the fuzzer barely made malformed directives");
    });
});
