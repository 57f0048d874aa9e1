import { strict as assert } from "assert";
import fc from "fast-check";
import { startSkillHarness, SkillHarness } from "./support/skillHarness";
import { directives, errorType } from "./support/directives";
import { alexaDataPresent, assertValidAlexaMessage, SAMPLE_REQUESTS, sampleDirective } from "./support/alexaSchema";
import { accessTokenClaims, newSigningKey, signToken } from "./support/tokens";

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

describe("fuzzing the skill endpoint", function () {
    this.timeout(300000);
    let skill: SkillHarness;

    before(async () => {
        skill = await startSkillHarness();
    });
    after(() => skill.stop());

    it(`never throws, answers only valid messages, and answers only errors to unverified tokens (${RUNS} directives)`, async () => {
        console.log(`    fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED} npm test -- --grep fuzz), ${RUNS} runs, bases: ${alexaDataPresent ? "Amazon's sample directives" : "the project's own directives (Amazon's samples are absent)"}`);
        const user = skill.newUser();
        const past = Math.floor(Date.now() / 1000) - 7200;
        const tokens = [
            user.token,
            signToken(skill.key, accessTokenClaims(user.sub, { iat: past, exp: past + 3600 })),
            signToken(newSigningKey(skill.key.kid), accessTokenClaims(user.sub)),
            user.token.slice(0, -4),
            "access-token-from-skill",
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
        const counts = { answered: 0, errors: 0, successes: 0 };

        await fc.assert(
            fc.asyncProperty(
                fc.nat({ max: bases.length - 1 }),
                fc.nat({ max: tokens.length - 1 }),
                fc.array(mutation, { maxLength: 4 }),
                async (baseIndex, tokenIndex, mutations) => {
                    const event = bases[baseIndex]();
                    const scope = event.directive.payload.scope ?? event.directive.payload.grantee ?? event.directive.endpoint.scope;
                    scope.token = tokens[tokenIndex];
                    if (event.directive.endpoint) {
                        event.directive.endpoint.endpointId = user.endpointId;
                    }
                    const fuzzed = mutate(event, mutations);
                    const response: any = await skill.handle(fuzzed);
                    if (alexaDataPresent) {
                        assertValidAlexaMessage(response);
                    }
                    counts.answered++;
                    if (errorType(response) !== undefined || response.event.header.name === "ErrorResponse") {
                        counts.errors++;
                    } else {
                        counts.successes++;
                        assert.equal(tokenIn(fuzzed), user.token, "a directive whose token did not verify got a non-error answer");
                    }
                },
            ),
            { numRuns: RUNS, seed: SEED, endOnFailure: false },
        );
        console.log(`    ${counts.answered} directives: ${counts.successes} answered normally, ${counts.errors} with an error`);
        assert.equal(counts.answered >= RUNS, true);
        assert.ok(counts.successes > RUNS / 20, "the fuzzer barely reached the directives' normal paths");
    });
});
