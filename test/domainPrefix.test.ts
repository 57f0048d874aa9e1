import { strict as assert } from "assert";
import fc from "fast-check";
import { derivedDomainPrefix } from "../infra/accountLinking";
import { RESERVED_PREFIX_WORDS } from "../infra/config";

// Cognito's rules for a prefix domain (CreateUserPoolDomain): 1 to 63 lower-case letters, digits
// and inner hyphens, and none of the words AWS reserves.
const COGNITO_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function assertValidPrefix(prefix: string, stack: string) {
    assert.match(prefix, COGNITO_PREFIX, `stack ${JSON.stringify(stack)} gave ${prefix}`);
    for (const word of RESERVED_PREFIX_WORDS) {
        assert.ok(!prefix.includes(word), `stack ${JSON.stringify(stack)} gave ${prefix}, which holds ${word}`);
    }
}

describe("the derived domain prefix", () => {
    it("holds no reserved word even where removing one joins its neighbours into another", () => {
        for (const stack of ["aawsws", "amamazonazon", "cogcognitonito", "aws-prod", "AWS", "a.w.s", "a-ws", "awsamazoncognito", "cognitaws-o"]) {
            assertValidPrefix(derivedDomainPrefix("123456789012", "us-east-1", "alexa-account-linking", stack), stack);
        }
    });

    it("meets every Cognito prefix rule for any stack name Pulumi allows, however adversarial", () => {
        // Pulumi stack names: letters, digits, hyphens, underscores and periods, up to 100 characters.
        const fragment = fc.constantFrom("a", "w", "s", "aws", "am", "azon", "amazon", "cog", "nito", "cognito", "-", ".", "_", "A", "W", "S", "AWS", "Amazon", "0", "9", "x");
        const stackName = fc.array(fragment, { minLength: 1, maxLength: 40 }).map((parts) => parts.join("").slice(0, 100));
        const account = fc.stringMatching(/^\d{12}$/);
        fc.assert(fc.property(stackName, account, fc.constantFrom("us-east-1", "eu-west-1", "us-west-2"), (stack, accountId, region) => {
            assertValidPrefix(derivedDomainPrefix(accountId, region, "alexa-account-linking", stack), stack);
        }), { numRuns: 5000 });
    });

    it("is stable for the same account, region, project and stack, and differs when any of them differs", () => {
        const base = ["123456789012", "us-east-1", "alexa-account-linking", "dev"] as const;
        const prefix = derivedDomainPrefix(...base);
        assert.equal(derivedDomainPrefix(...base), prefix);
        for (const [i, other] of [[0, "210987654321"], [1, "eu-west-1"], [2, "other-project"], [3, "prod"]] as const) {
            const changed = [...base] as [string, string, string, string];
            changed[i] = other;
            assert.notEqual(derivedDomainPrefix(...changed), prefix, `changing ${base[i]} to ${other}`);
        }
    });

    it("derives what earlier versions derived: a stack's name in lower case, and the same hash", () => {
        // A prefix that changed on upgrade would replace the stack's Cognito domain (its `domain` is
        // fixed at creation) and move the login page and token URIs Alexa has: these are pinned.
        const DEPLOYED: [string, string][] = [
            ["dev", "smartlamp-dev-08f6165aff"],
            ["My_Stack.Prod--EU", "smartlamp-my-stack-prod-eu-60fd028126"],
            ["aws-amazon-cognito-eu", "smartlamp-eu-119129c531"],
            ["a-very-long-stack-name-for-the-european-region-prod", "smartlamp-a-very-long-stack-name-for-the-0d6c290f81"],
            ["a-very-long-stack-name-for-th-eu-prod", "smartlamp-a-very-long-stack-name-for-th-0e5a8049ee"], // cut at a hyphen
            ["___", "smartlamp-8bb9f935c3"],
            ["-dev-", "smartlamp-dev-6baa9d0341"],
        ];
        for (const [stack, prefix] of DEPLOYED) {
            assert.equal(derivedDomainPrefix("123456789012", "us-east-1", "alexa-account-linking", stack), prefix, stack);
        }
    });
});
