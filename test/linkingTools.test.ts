import { strict as assert } from "assert";
import { accountLinkingRequest, accountLinkingRequestProblems } from "../infra/accountLinkingRequest";
import { checkLinking, formatResults } from "../scripts/checkLinking";
import { endpointsOfPool, formatAlexaValues, isSecondary } from "../scripts/alexaValues";
import { explainCliFailure } from "../scripts/stackOutputs";
import { startCognitoEndpoints, CognitoSetup } from "./support/cognitoEndpoints";

const REDIRECTS = [
    "https://pitangui.amazon.com/api/skill/link/M2AAAAAAAAAAAA",
    "https://layla.amazon.com/api/skill/link/M2AAAAAAAAAAAA",
    "https://alexa.amazon.co.jp/api/skill/link/M2AAAAAAAAAAAA",
];
const SECRET = "s3cr3t-client-secret-value-0123456789";

/** Stack outputs as `pulumi stack output --json --show-secrets` gives them. */
function outputsFor(base: string, overrides: Record<string, unknown> = {}) {
    return {
        authorizationUri: `${base}/oauth2/authorize`,
        accessTokenUri: `${base}/oauth2/token`,
        clientId: "1abcdefghij2klmnop3qrstuv4",
        clientSecret: SECRET,
        scopes: ["openid"],
        alexaRedirectUrls: REDIRECTS,
        accessTokenValidityMinutes: 60,
        refreshTokenValidityDays: 3650,
        jwksUri: `${base}/us-east-1_AbCdEf123/.well-known/jwks.json`,
        skillEndpointArn: "arn:aws:lambda:us-east-1:123456789012:function:smartlamp-function-1a2b3c",
        userPoolId: "us-east-1_AbCdEf123",
        region: "us-east-1",
        ...overrides,
    };
}

const COGNITO: CognitoSetup = { clientId: "1abcdefghij2klmnop3qrstuv4", clientSecret: SECRET, callbackUrls: REDIRECTS, scopes: ["openid", "email"] };

describe("npm run check-linking", () => {
    async function check(setup: Partial<CognitoSetup>, overrides: Record<string, unknown> | ((base: string) => Record<string, unknown>) = {}, timeoutMs = 2000) {
        const cognito = await startCognitoEndpoints({ ...COGNITO, ...setup });
        try {
            const results = await checkLinking(outputsFor(cognito.base, typeof overrides === "function" ? overrides(cognito.base) : overrides), { timeoutMs });
            const outputs = outputsFor(cognito.base, typeof overrides === "function" ? overrides(cognito.base) : overrides);
            return { results, outputs, failed: results.filter((r) => !r.ok), printed: formatResults(results) };
        } finally {
            await cognito.stop();
        }
    }

    it("passes all six checks against a correct deployment, and prints each with what it saw", async () => {
        const cognito = await startCognitoEndpoints(COGNITO);
        try {
            // Two scopes: they travel space-separated in one parameter.
            const outputs = outputsFor(cognito.base, { scopes: ["openid", "email"] });
            const printed = formatResults(await checkLinking(outputs, { timeoutMs: 2000 }));
            assert.equal(printed, [
                ...REDIRECTS.flatMap((url) => [`PASS  authorization URI accepts ${url}`, "      redirects to Cognito's login page"]),
                "PASS  access token URI accepts the client ID and secret (HTTP Basic)",
                "      a made-up code is refused as invalid_grant, so the client credentials are right",
                "PASS  the pool's JWKS is reachable",
                `      1 key(s) at ${outputs.jwksUri}`,
                "PASS  refresh tokens live long enough to keep users linked",
                "      3650 days",
                "",
                "All 6 checks passed.",
            ].join("\n"));
        } finally {
            await cognito.stop();
        }
    });

    it("counts the failed checks in its last line", async () => {
        const { printed } = await check({ jwksDown: true }, { refreshTokenValidityDays: 30 });
        assert.match(printed, /^FAIL {2}the pool's JWKS is reachable$/m);
        assert.equal(printed.split("\n").at(-1), "2 of 6 checks failed.");
    });

    it("takes a refresh token lifetime of exactly a year, and not a day less", async () => {
        assert.deepEqual((await check({}, { refreshTokenValidityDays: 365 })).failed, []);
        assert.equal((await check({}, { refreshTokenValidityDays: 364 })).failed.length, 1);
    });

    it("names the Alexa redirect URL that Cognito refuses (redirect_mismatch) and says how to fix it", async () => {
        const { failed } = await check({ callbackUrls: REDIRECTS.slice(0, 2) });
        assert.equal(failed.length, 1);
        assert.match(failed[0].name, /alexa\.amazon\.co\.jp/);
        assert.match(failed[0].detail, /redirect_mismatch.*alexaVendorId/);
    });

    it("fails the token check on a wrong client secret (invalid_client) without printing either secret", async () => {
        const { failed, printed } = await check({}, { clientSecret: "pasted-the-wrong-thing" });
        assert.equal(failed.length, 1);
        assert.match(failed[0].detail, /invalid_client.*Your Secret/);
        assert.ok(!printed.includes(SECRET) && !printed.includes("pasted-the-wrong-thing"));
    });

    it("fails the authorization checks for scopes the app client does not allow", async () => {
        const { failed } = await check({ scopes: ["openid"] }, { scopes: ["openid", "profile"] });
        assert.equal(failed.length, 3);
        assert.ok(failed.every((f) => /^Cognito refuses the scopes openid profile \(invalid_scope\)/.test(f.detail)), JSON.stringify(failed));
    });

    it("fails the authorization checks for a client ID the pool does not know", async () => {
        const { failed } = await check({}, { clientId: "0unknown0client0id00000000" });
        assert.equal(failed.filter((f) => /error=invalid_request/.test(f.detail)).length, 3);
        assert.ok(failed.some((f) => /invalid_client/.test(f.detail)));
    });

    it("fails when the pool's JWKS cannot be read", async () => {
        const { failed } = await check({ jwksDown: true });
        assert.deepEqual(failed.map((f) => f.name), ["the pool's JWKS is reachable"]);
        assert.match(failed[0].detail, /HTTP 503/);
        const page = await check({}, (base) => ({ jwksUri: `${base}/login` }));
        assert.deepEqual(page.failed.map((f) => f.detail), [`expected a JWKS with keys at ${page.outputs.jwksUri}, got HTTP 200`], "a page that is not a JWKS");
        const empty = await check({ jwksEmpty: true });
        assert.deepEqual(empty.failed.map((f) => f.detail), [`expected a JWKS with keys at ${empty.outputs.jwksUri}, got HTTP 200`], "a JWKS without keys");
    });

    it("fails a refresh token lifetime that would unlink users, saying when", async () => {
        const { failed } = await check({}, { refreshTokenValidityDays: 30 });
        assert.equal(failed.length, 1);
        assert.match(failed[0].detail, /unlinked 30 days after linking.*refreshTokenValidityDays 3650/);
    });

    it("gives up on an endpoint that does not answer within the timeout", async () => {
        const { failed } = await check({ silent: true }, {}, 300);
        assert.equal(failed.length, 5);
        assert.ok(failed.every((f) => /no answer from 127\.0\.0\.1:\d+ in time/.test(f.detail)));
    });

    it("fails an authorization URI that answers without a redirect, saying what it got", async () => {
        const { failed } = await check({}, (base) => ({ authorizationUri: `${base}/oauth2/authorise` }));
        assert.equal(failed.length, 3, failed.map((f) => f.name).join());
        assert.ok(failed.every((f) => /^authorization URI accepts/.test(f.name) && /expected a redirect to the login page, got HTTP 404/.test(f.detail)), JSON.stringify(failed));
    });

    it("fails an authorization URI that redirects elsewhere than the login page, naming where", async () => {
        const { failed } = await check({ loginPath: "/signup" });
        assert.equal(failed.length, 3);
        assert.ok(failed.every((f) => /expected a redirect to \/login, got one to \/signup/.test(f.detail)), JSON.stringify(failed));
        const lookalike = await check({ loginPath: "/login-elsewhere" });
        assert.ok(lookalike.failed.length === 3 && lookalike.failed.every((f) => f.detail === "expected a redirect to /login, got one to /login-elsewhere"), JSON.stringify(lookalike.failed));
    });

    it("fails a login page that is not an HTML page, saying what it answered", async () => {
        const json = await check({ loginPage: "json" });
        assert.equal(json.failed.length, 3);
        assert.ok(json.failed.every((f) => /the login page answers HTTP 200 \(application\/json\)/.test(f.detail)), JSON.stringify(json.failed));
        const broken = await check({ loginPage: "html-error" });
        assert.ok(broken.failed.length === 3 && broken.failed.every((f) => /the login page answers HTTP 500 \(text\/html/.test(f.detail)), JSON.stringify(broken.failed));
        const missing = await check({ loginPage: "missing" });
        assert.ok(missing.failed.length === 3 && missing.failed.every((f) => /the login page answers HTTP 404 \(no content type\)/.test(f.detail)), JSON.stringify(missing.failed));
    });

    it("fails a token endpoint that refuses the code grant, or answers something else, saying what it got", async () => {
        const refused = await check({ tokenAnswer: "unauthorized_client" });
        assert.equal(refused.failed.length, 1);
        assert.match(refused.failed[0].detail, /unauthorized_client.*redeploy/);
        const broken = await check({ tokenAnswer: "server_error" });
        assert.equal(broken.failed.length, 1);
        assert.equal(broken.failed[0].detail, "expected invalid_grant, got HTTP 500");
        const other = await check({ tokenAnswer: "invalid_request" });
        assert.equal(other.failed[0].detail, "expected invalid_grant, got HTTP 400 error=invalid_request");
    });

    it("says when an endpoint cannot be reached at all", async () => {
        const { failed } = await check({}, { jwksUri: "http://127.0.0.1:1/jwks.json" });
        // The cause's own words follow, so that the user sees why (fetch refuses port 1: "bad port").
        assert.match(failed[0].detail, /could not reach 127\.0\.0\.1:1: \S.+/);
    });
});

describe("the accountLinkingRequest output", () => {
    const request = accountLinkingRequest({
        authorizationUri: "https://login.example.com/oauth2/authorize",
        accessTokenUri: "https://login.example.com/oauth2/token",
        clientId: "client",
        clientSecret: "secret",
        scopes: ["openid", "email"],
        accessTokenValidityMinutes: 60,
    });

    it("is the SMAPI body for an Auth Code Grant with HTTP Basic, and passes Amazon's documented schema", () => {
        assert.deepEqual(request, {
            accountLinkingRequest: {
                type: "AUTH_CODE",
                authorizationUrl: "https://login.example.com/oauth2/authorize",
                accessTokenUrl: "https://login.example.com/oauth2/token",
                clientId: "client",
                clientSecret: "secret",
                accessTokenScheme: "HTTP_BASIC",
                scopes: ["openid", "email"],
                domains: [],
                defaultTokenExpirationInSeconds: 3600,
            },
        });
        assert.deepEqual(accountLinkingRequestProblems(request), []);
    });

    it("is refused by the schema check for unknown fields, bad enums, plain http and more than 15 scopes or domains", () => {
        const body = request.accountLinkingRequest;
        const problems = (change: Record<string, unknown>) => accountLinkingRequestProblems({ accountLinkingRequest: { ...body, ...change } });
        assert.match(problems({ accessTokenScheme: "BASIC" }).join(), /accessTokenScheme must be HTTP_BASIC or REQUEST_BODY_CREDENTIALS/);
        assert.match(problems({ type: "CODE" }).join(), /type must be AUTH_CODE or IMPLICIT/);
        assert.match(problems({ authorizationURL: "x" }).join(), /authorizationURL is not a field/);
        assert.match(problems({ accessTokenUrl: "http://login.example.com/oauth2/token" }).join(), /accessTokenUrl must be an https URL/);
        assert.match(problems({ authorizationUrl: "http://login.example.com/oauth2/authorize" }).join(), /authorizationUrl must be an https URL/);
        assert.match(problems({ authorizationUrl: "not a url" }).join(), /authorizationUrl must be an https URL/);
        assert.match(problems({ clientId: "" }).join(), /clientId must be a non-empty string/);
        assert.match(problems({ clientSecret: 42 }).join(), /clientSecret must be a non-empty string/);
        assert.match(problems({ scopes: Array.from({ length: 16 }, (_, i) => `s${i}`) }).join(), /scopes may hold at most 15/);
        assert.match(problems({ domains: Array.from({ length: 16 }, (_, i) => `d${i}.example.com`) }).join(), /domains may hold at most 15/);
        assert.match(problems({ scopes: [] }).join(), /scopes must not be empty/);
        assert.match(problems({ defaultTokenExpirationInSeconds: 1.5 }).join(), /whole number/);
        assert.deepEqual(accountLinkingRequestProblems({}), ["the body must be an object with an accountLinkingRequest object"]);
    });

    it("takes every value Amazon's schema allows: IMPLICIT, REQUEST_BODY_CREDENTIALS, skipOnEnablement, redirect URLs", () => {
        const body = request.accountLinkingRequest;
        const problems = (change: Record<string, unknown>) => accountLinkingRequestProblems({ accountLinkingRequest: { ...body, ...change } });
        assert.deepEqual(problems({ type: "IMPLICIT" }), []);
        assert.deepEqual(problems({ accessTokenScheme: "REQUEST_BODY_CREDENTIALS" }), []);
        assert.deepEqual(problems({ skipOnEnablement: true, redirectUrls: ["https://example.com/a", "https://example.com/b"] }), []);
        assert.deepEqual(problems({ redirectUrls: [] }), [], "an empty redirect URL list");
        assert.deepEqual(problems({ skipOnEnablement: "yes", redirectUrls: [""] }),
            ["skipOnEnablement must be true or false", "redirectUrls must be a list of non-empty strings"]);
    });

    it("names each missing required field, and those AUTH_CODE requires on top", () => {
        assert.deepEqual(accountLinkingRequestProblems({ accountLinkingRequest: {} }),
            ["type is required", "authorizationUrl is required", "clientId is required"]);
        assert.deepEqual(accountLinkingRequestProblems({ accountLinkingRequest: { type: "AUTH_CODE", authorizationUrl: "https://a.example.com", clientId: "c" } }), [
            "accessTokenUrl is required with AUTH_CODE (and scopes for smart home skills)",
            "clientSecret is required with AUTH_CODE (and scopes for smart home skills)",
            "accessTokenScheme is required with AUTH_CODE (and scopes for smart home skills)",
            "scopes is required with AUTH_CODE (and scopes for smart home skills)",
        ]);
        assert.deepEqual(accountLinkingRequestProblems({ accountLinkingRequest: { type: "IMPLICIT", authorizationUrl: "https://a.example.com", clientId: "c" } }), []);
    });
});

describe("npm run alexa-values", () => {
    const outputs = outputsFor("https://smartlamp-dev-0123456789.auth.us-east-1.amazoncognito.com", { scopes: ["openid", "email"] });
    const stacks = [
        { stack: "dev", outputs },
        { stack: "dev-eu", outputs: { ...outputs, region: "eu-west-1", skillEndpointArn: "arn:aws:lambda:eu-west-1:123456789012:function:eu" } },
        { stack: "other", outputs: { ...outputs, userPoolId: "us-east-1_Other9999", region: "us-west-2", skillEndpointArn: "arn:aws:lambda:us-west-2:1:function:other" } },
    ];

    it("prints every Account Linking field in the console's order, with its value", () => {
        const text = formatAlexaValues(outputs, endpointsOfPool(outputs.userPoolId, stacks));
        const order = ["Authorization Grant Type", "Your Web Authorization URI", "Access Token URI", "Your Client ID", "Your Secret", "Your Authentication Scheme", "Scope", "Domain List", "Default Access Token Expiration Time"];
        const positions = order.map((field) => text.indexOf(field));
        assert.ok(positions.every((p) => p >= 0), positions.join());
        assert.deepEqual([...positions].sort((a, b) => a - b), positions);
        assert.match(text, /Your Web Authorization URI\s+https:\/\/smartlamp-dev-0123456789\.auth\.us-east-1\.amazoncognito\.com\/oauth2\/authorize/);
        assert.match(text, new RegExp(`Your Secret\\s+${SECRET}`));
        assert.match(text, /Your Authentication Scheme\s+HTTP Basic/);
        assert.match(text, /Scope\s+openid\n.*\(Add scope\)\s+email/);
        assert.match(text, /Default Access Token Expiration Time\s+3600/);
    });

    it("lists the endpoint ARN of each region whose stack serves the same pool, and names the regions without one", () => {
        const text = formatAlexaValues(outputs, endpointsOfPool(outputs.userPoolId, stacks));
        assert.match(text, /Default endpoint\s+arn:aws:lambda:us-east-1:/);
        assert.match(text, /North America\s+arn:aws:lambda:us-east-1:.*stack dev,/);
        assert.match(text, /Europe and India\s+arn:aws:lambda:eu-west-1:.*stack dev-eu/);
        assert.ok(!text.includes("function:other"), "a stack of another pool was listed");
        assert.match(text, /No stack serves us-west-2 yet/);
    });

    it("sends a secondary region stack's user to the primary, which holds the linking values", () => {
        const secondary = { region: "eu-west-1", userPoolId: outputs.userPoolId, clientId: outputs.clientId, jwksUri: outputs.jwksUri, skillEndpointArn: "arn:aws:lambda:eu-west-1:1:function:eu" };
        assert.ok(isSecondary(secondary) && !isSecondary(outputs));
        assert.throws(() => formatAlexaValues(secondary, []), /secondary region stack.*npm run alexa-values -- --stack <the primary stack>/);
    });

    it("says to deploy when the stack lacks an output", () => {
        assert.throws(() => formatAlexaValues({ ...outputs, accessTokenUri: undefined }, []), /no output "accessTokenUri".*npx pulumi up/);
    });

    it("turns the CLI's failures into the command to run", () => {
        assert.match(explainCliFailure("error: no stack selected; please use `pulumi stack select`"), /npx pulumi stack select/);
        assert.match(explainCliFailure("error: no stack named 'dev-eu' found"), /npx pulumi stack ls/);
        assert.match(explainCliFailure("Downloading pulumi v3.265.0...\npulumi: fetch failed"), /could not be downloaded.*PULUMI_CLI/);
        assert.match(explainCliFailure("error: getting secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE"), /PULUMI_CONFIG_PASSPHRASE/);
    });
});
