import { strict as assert } from "assert";
import { alexaRegionCode, endpointChanges, managedValues, ownsAnyEntry, withEndpoint, withoutEndpoint } from "../infra/skillManifest";
import { accountLinkingRequest } from "../infra/accountLinkingRequest";
import { linkingDifferences, liveLinking, shownPart } from "../infra/skillLinking";
import { AmazonApiError, explainFailure, HttpFailure, manifestUpdateFailed, redact } from "../infra/smapiErrors";

const NA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:smartlamp-na";
const EU_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:smartlamp-eu";
const OTHER_ARN = "arn:aws:lambda:eu-west-1:999999999999:function:someone-else";

/** A manifest as the console leaves a new Smart Home skill, with fields this project never touches. */
function consoleManifest(): any {
    return {
        manifest: {
            manifestVersion: "1.0",
            publishingInformation: { locales: { "en-US": { name: "Smart Lamp", summary: "A lamp" } }, category: "SMART_HOME" },
            privacyAndCompliance: { allowsPurchases: false },
            apis: { smartHome: { protocolVersion: "3", endpoint: { uri: "arn:aws:lambda:us-east-1:123456789012:function:placeholder" } } },
            permissions: [{ name: "alexa::async_event:write" }],
        },
    };
}

describe("the skill manifest entries a region stack owns", () => {
    it("maps the three AWS regions to Alexa's NA, EU and FE and refuses any other", () => {
        assert.deepEqual(["us-east-1", "eu-west-1", "us-west-2"].map(alexaRegionCode), ["NA", "EU", "FE"]);
        assert.throws(() => alexaRegionCode("eu-central-1"), /eu-central-1 is not a region where Alexa calls/);
    });

    it("sets the primary's region endpoint and the default endpoint, and leaves every other field as it was", () => {
        const before = consoleManifest();
        const after = withEndpoint(before, { region: "NA", uri: NA_ARN, isDefault: true });
        assert.equal(after.manifest.apis.smartHome.regions.NA.endpoint.uri, NA_ARN);
        assert.equal(after.manifest.apis.smartHome.endpoint.uri, NA_ARN);
        const untouched = consoleManifest();
        delete after.manifest.apis.smartHome.regions;
        after.manifest.apis.smartHome.endpoint = untouched.manifest.apis.smartHome.endpoint;
        assert.deepEqual(after, untouched);
        assert.deepEqual(before, consoleManifest(), "the input was changed in place");
    });

    it("sets only a secondary's own region and keeps the default endpoint and the other regions", () => {
        const withNa = withEndpoint(consoleManifest(), { region: "NA", uri: NA_ARN, isDefault: true });
        const after = withEndpoint(withNa, { region: "EU", uri: EU_ARN, isDefault: false });
        assert.deepEqual(after.manifest.apis.smartHome.regions, { NA: { endpoint: { uri: NA_ARN } }, EU: { endpoint: { uri: EU_ARN } } });
        assert.equal(after.manifest.apis.smartHome.endpoint.uri, NA_ARN);
    });

    it("builds the smartHome entries in a manifest that has none yet", () => {
        const after = withEndpoint({ manifest: { publishingInformation: {} } }, { region: "FE", uri: "arn:fe", isDefault: false });
        assert.deepEqual(after.manifest.apis, { smartHome: { regions: { FE: { endpoint: { uri: "arn:fe" } } } } });
    });

    it("lists exactly the managed fields that differ, by their JSON path", () => {
        const manifest = withEndpoint(consoleManifest(), { region: "EU", uri: OTHER_ARN, isDefault: false });
        assert.deepEqual(endpointChanges(manifest, { region: "EU", uri: EU_ARN, isDefault: false }), [
            { path: "$.manifest.apis.smartHome.regions.EU.endpoint.uri", current: OTHER_ARN, wanted: EU_ARN },
        ]);
        assert.deepEqual(endpointChanges(manifest, { region: "NA", uri: NA_ARN, isDefault: true }).map((c) => c.path), [
            "$.manifest.apis.smartHome.regions.NA.endpoint.uri",
            "$.manifest.apis.smartHome.endpoint.uri",
        ]);
        const applied = withEndpoint(manifest, { region: "NA", uri: NA_ARN, isDefault: true });
        assert.deepEqual(endpointChanges(applied, { region: "NA", uri: NA_ARN, isDefault: true }), []);
        assert.deepEqual(managedValues(applied, "NA"), { regionUri: NA_ARN, defaultUri: NA_ARN });
    });

    it("removes on delete only its own region entry (and the default on the primary) while they still point at its function", () => {
        const all = withEndpoint(withEndpoint(consoleManifest(), { region: "NA", uri: NA_ARN, isDefault: true }), { region: "EU", uri: EU_ARN, isDefault: false });
        const withoutEu = withoutEndpoint(all, { region: "EU", uri: EU_ARN, isDefault: false });
        assert.deepEqual(withoutEu.manifest.apis.smartHome.regions, { NA: { endpoint: { uri: NA_ARN } } });
        assert.equal(withoutEu.manifest.apis.smartHome.endpoint.uri, NA_ARN);
        const withoutNa = withoutEndpoint(withoutEu, { region: "NA", uri: NA_ARN, isDefault: true });
        assert.equal(withoutNa.manifest.apis.smartHome.regions, undefined);
        assert.equal(withoutNa.manifest.apis.smartHome.endpoint, undefined);
        assert.equal(withoutNa.manifest.apis.smartHome.protocolVersion, "3");
        assert.deepEqual(withoutNa.manifest.publishingInformation, consoleManifest().manifest.publishingInformation);
    });

    it("leaves an entry that someone pointed at another function since", () => {
        const repointed = withEndpoint(consoleManifest(), { region: "EU", uri: OTHER_ARN, isDefault: false });
        assert.deepEqual(withoutEndpoint(repointed, { region: "EU", uri: EU_ARN, isDefault: false }), repointed);
        assert.equal(ownsAnyEntry(repointed, { region: "EU", uri: EU_ARN, isDefault: false }), false);
        assert.equal(ownsAnyEntry(repointed, { region: "EU", uri: OTHER_ARN, isDefault: false }), true);
    });
});

describe("manifests of odd shapes", () => {
    it("removes nothing from a manifest without Smart Home entries, and copies it", () => {
        for (const envelope of [undefined, {}, { manifest: {} }, { manifest: { apis: {} } }, { manifest: { apis: { smartHome: null } } }, { manifest: { apis: { smartHome: "x" } } }]) {
            const copy = withoutEndpoint(envelope, { region: "NA", uri: NA_ARN, isDefault: true });
            assert.deepEqual(copy, envelope ?? {});
            assert.notEqual(copy, envelope, "a copy, not the envelope itself");
            assert.equal(ownsAnyEntry(envelope, { region: "NA", uri: NA_ARN, isDefault: true }), false);
        }
    });

    it("leaves the default endpoint on a secondary's delete, and on the primary's when someone pointed it elsewhere", () => {
        // A secondary's delete, with its function in the default; the primary's, with another function there.
        for (const [owned, defaultUri] of [[{ region: "EU", uri: EU_ARN, isDefault: false }, EU_ARN], [{ region: "NA", uri: NA_ARN, isDefault: true }, OTHER_ARN]] as const) {
            const envelope = withEndpoint(consoleManifest(), owned);
            envelope.manifest.apis.smartHome.endpoint = { uri: defaultUri };
            const removed = withoutEndpoint(envelope, owned);
            assert.deepEqual(removed.manifest.apis.smartHome, { protocolVersion: "3", endpoint: { uri: defaultUri } }, owned.region);
        }
    });

    it("replaces entries that are not objects, and reads no endpoint through them", () => {
        const envelope = consoleManifest();
        envelope.manifest.apis.smartHome.regions = ["not", "an", "object"];
        envelope.manifest.apis.smartHome.endpoint = "arn-as-a-string";
        assert.deepEqual(managedValues(envelope, "NA"), { regionUri: undefined, defaultUri: undefined });
        const after = withEndpoint(envelope, { region: "NA", uri: NA_ARN, isDefault: true });
        assert.deepEqual(after.manifest.apis.smartHome.regions, { NA: { endpoint: { uri: NA_ARN } } });
        assert.deepEqual(after.manifest.apis.smartHome.endpoint, { uri: NA_ARN });
        const numeric = consoleManifest();
        numeric.manifest.apis.smartHome.endpoint = { uri: 42 };
        assert.equal(managedValues(numeric, "NA").defaultUri, undefined);
        const nulls = consoleManifest();
        nulls.manifest.apis.smartHome.regions = { NA: null };
        assert.deepEqual(managedValues(nulls, "NA"), { regionUri: undefined, defaultUri: "arn:aws:lambda:us-east-1:123456789012:function:placeholder" });
        nulls.manifest.apis.smartHome.regions = null;
        assert.deepEqual(withEndpoint(nulls, { region: "NA", uri: NA_ARN, isDefault: false }).manifest.apis.smartHome.regions, { NA: { endpoint: { uri: NA_ARN } } });
    });
});

describe("account linking as SMAPI shows it", () => {
    const wanted = shownPart(accountLinkingRequest({
        authorizationUri: "https://a.example.com/oauth2/authorize", accessTokenUri: "https://a.example.com/oauth2/token",
        clientId: "c", clientSecret: "s", scopes: ["openid"], accessTokenValidityMinutes: 60,
    }));

    it("counts a missing domain list as the empty one (SMAPI leaves it out), and no other missing field", () => {
        const live: Record<string, unknown> = { ...wanted };
        delete live.domains;
        assert.deepEqual(linkingDifferences(live, wanted), []);
        assert.deepEqual(liveLinking(live, wanted), wanted);
        delete live.scopes;
        assert.deepEqual(linkingDifferences(live, wanted), ["scopes"]);
        assert.deepEqual(linkingDifferences({ ...wanted, domains: ["x.example.com"] }, wanted), ["domains"]);
        assert.deepEqual(linkingDifferences(undefined, wanted), Object.keys(wanted));
    });
});

describe("LWA and SMAPI failures, explained", () => {
    const skillId = "amzn1.ask.skill.0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90";

    it("tells how to get a new refresh token when LWA refuses it (invalid_grant, or 401)", () => {
        const text = explainFailure({ service: "LWA", status: 400, body: { error: "invalid_grant", error_description: "The request has an invalid grant parameter : refresh_token" }, operation: "get an access token" });
        assert.match(text, /refused smapiRefreshToken.*revoked or has expired/);
        assert.match(text, /ask util generate-lwa-tokens/);
        assert.match(text, /pulumi config set --secret smapiRefreshToken/);
        assert.match(text, /invalid grant parameter : refresh_token/, "LWA's own words are kept");
        assert.match(explainFailure({ service: "LWA", status: 401, body: {}, operation: "get an access token" }), /refused smapiRefreshToken \(HTTP 401\)/);
    });

    it("names the client ID and secret when LWA answers invalid_client", () => {
        const text = explainFailure({ service: "LWA", status: 401, body: { error: "invalid_client", error_description: "Client authentication failed" }, operation: "get an access token" });
        assert.match(text, /refused smapiClientId\/smapiClientSecret.*invalid_client/);
        assert.match(text, /config set --secret smapiClientSecret/);
    });

    it("says the profile lacks the skill scopes on 403, with SMAPI's message", () => {
        const text = explainFailure({ service: "SMAPI", status: 403, body: { message: "User is not authorized to access this resource." }, operation: "read the skill manifest", skillId });
        assert.match(text, /lacks the skill scopes.*alexa::ask:skills:readwrite/);
        assert.match(text, /User is not authorized to access this resource\./);
    });

    it("points at alexaSkillId and the vendor on 404", () => {
        const text = explainFailure({ service: "SMAPI", status: 404, body: { code: "RESOURCE_NOT_FOUND", message: "Resource not found." }, operation: "read the skill manifest", skillId });
        assert.match(text, new RegExp(`no skill ${skillId.replace(/\./g, "\\.")}.*alexaSkillId.*vendor`));
    });

    it("gives SMAPI's message and every violation verbatim with its field on 400", () => {
        const body = {
            message: "Request is not valid.",
            violations: [
                { code: "INVALID_URL_FORMAT", message: "Authorization URL is invalid.", validationDetails: { originalInstance: { propertyPath: "$.accountLinkingRequest.authorizationUrl", type: "BODY" } } },
                { code: "UNEXPECTED_PROPERTY", message: "Unknown property foo." },
            ],
        };
        const text = explainFailure({ service: "SMAPI", status: 400, body, operation: "update account linking", skillId });
        assert.match(text, /Request is not valid\./);
        assert.match(text, /- \$\.accountLinkingRequest\.authorizationUrl: Authorization URL is invalid\. \(INVALID_URL_FORMAT\)/);
        assert.match(text, /- Unknown property foo\. \(UNEXPECTED_PROPERTY\)/);
    });

    it("marks throttling and server errors retryable, and nothing else", () => {
        const error = (status: number) => new AmazonApiError({ service: "SMAPI", status, body: {}, operation: "x" }, "m");
        assert.deepEqual([429, 500, 503, 400, 401, 403, 404, 412].map((s) => error(s).retryable), [true, true, true, false, false, false, false, false]);
        assert.match(explainFailure({ service: "SMAPI", status: 429, body: {}, operation: "update the skill manifest" }), /throttling.*run `npx pulumi up` again/);
    });

    it("lists a FAILED manifest update's errors with their fields", () => {
        const text = manifestUpdateFailed(skillId, [
            { code: "INVALID_URL_FORMAT", message: "The Lambda ARN is not valid for region EU.", validationDetails: { originalInstance: { propertyPath: "$.manifest.apis.smartHome.regions.EU.endpoint.uri" } } },
        ]);
        assert.match(text, /update FAILED:\n    - \$\.manifest\.apis\.smartHome\.regions\.EU\.endpoint\.uri: The Lambda ARN is not valid for region EU\./);
    });

    it("removes every secret from a text", () => {
        assert.equal(redact("token Atzr|abc123 and secret s3cr3t", ["Atzr|abc123", "s3cr3t", undefined, ""]), "token [secret] and secret [secret]");
    });

    it("leaves secrets shorter than 4 characters alone (they would blank out common words), and redacts from 4", () => {
        assert.equal(redact("abc abcd", ["abc"]), "abc abcd");
        assert.equal(redact("abc abcd", ["abcd"]), "abc [secret]");
    });

    it("names its errors AmazonApiError, with the status and the service", () => {
        const error = new AmazonApiError({ service: "LWA", status: 400, body: {}, operation: "x" }, "the message");
        assert.deepEqual([error.name, error.message, error.status, error.service, error.retryable], ["AmazonApiError", "the message", 400, "LWA", false]);
    });

    // Every sentence whole: the person running `pulumi up` reads exactly this.
    const NEW_TOKEN = "Get a new one once with `ask util generate-lwa-tokens --client-id <smapiClientId> --client-confirmation <smapiClientSecret>` " +
        "(signed in as the developer account that owns the skill), then `npx pulumi config set --secret smapiRefreshToken <refresh_token>` and run `npx pulumi up` again.";
    const explained: [string, HttpFailure, string][] = [
        ["LWA, invalid_grant", { service: "LWA", status: 400, body: { error: "invalid_grant", error_description: "bad token" }, operation: "get an access token" },
            `Login with Amazon refused smapiRefreshToken (HTTP 400, invalid_grant): it was revoked or has expired, or was made for another security profile. ${NEW_TOKEN} Amazon says: invalid_grant: bad token`],
        ["LWA, 401 without a body", { service: "LWA", status: 401, body: undefined, operation: "get an access token" },
            `Login with Amazon refused smapiRefreshToken (HTTP 401): it was revoked or has expired, or was made for another security profile. ${NEW_TOKEN}`],
        ["LWA, invalid_client", { service: "LWA", status: 401, body: { error: "invalid_client" }, operation: "get an access token" },
            "Login with Amazon refused smapiClientId/smapiClientSecret (HTTP 401, invalid_client): they must be the Client ID and Client Secret of the LWA security profile " +
            "the refresh token was made with (developer.amazon.com > Login with Amazon > your profile > Web Settings). " +
            "Fix: `npx pulumi config set --secret smapiClientSecret <client secret>` (and smapiClientId). Amazon says: invalid_client"],
        ["LWA, another 400", { service: "LWA", status: 400, body: { error: "unsupported_grant_type" }, operation: "get an access token" },
            "Login with Amazon could not give an access token for SMAPI (HTTP 400). Amazon says: unsupported_grant_type"],
        ["LWA, 500 (a text body, trimmed)", { service: "LWA", status: 500, body: "  Internal failure \n", operation: "get an access token" },
            "Login with Amazon could not give an access token for SMAPI (HTTP 500). Amazon says: Internal failure Try `npx pulumi up` again in a few minutes."],
        ["LWA, 499", { service: "LWA", status: 499, body: null, operation: "get an access token" },
            "Login with Amazon could not give an access token for SMAPI (HTTP 499)."],
        ["SMAPI, 401", { service: "SMAPI", status: 401, body: { message: "Token is invalid/expired" }, operation: "read the skill manifest", skillId },
            `SMAPI refused the access token while trying to read the skill manifest (HTTP 401): the refresh token no longer grants access. ${NEW_TOKEN} Amazon says: Token is invalid/expired`],
        ["SMAPI, 403 without a skill ID", { service: "SMAPI", status: 403, body: 7, operation: "read the skill manifest" },
            "SMAPI does not allow this profile to read the skill manifest of the skill (HTTP 403): the LWA security profile behind smapiRefreshToken lacks the skill scopes " +
            `(alexa::ask:skills:readwrite, the default of \`ask util generate-lwa-tokens\`), or its developer account is not the skill's vendor. ${NEW_TOKEN}`],
        ["SMAPI, 404", { service: "SMAPI", status: 404, body: { code: "RESOURCE_NOT_FOUND" }, operation: "read the skill manifest", skillId },
            `SMAPI finds no skill ${skillId} (HTTP 404) while trying to read the skill manifest: check alexaSkillId against the Skill ID in the Alexa developer console, ` +
            "and that the refresh token belongs to the developer account (vendor) that owns the skill."],
        ["SMAPI, 429", { service: "SMAPI", status: 429, body: {}, operation: "update the skill manifest", skillId },
            "SMAPI kept throttling the requests to update the skill manifest (HTTP 429, Too Many Requests) until the retry time ran out: wait a minute and run `npx pulumi up` again."],
        ["SMAPI, 500", { service: "SMAPI", status: 500, body: { message: "Internal Server Error" }, operation: "update the skill manifest", skillId },
            "SMAPI failed to update the skill manifest (HTTP 500) until the retry time ran out: run `npx pulumi up` again in a few minutes. Amazon says: Internal Server Error"],
        ["SMAPI, 409", { service: "SMAPI", status: 409, body: { message: "Conflict", violations: [{ message: "in progress", code: "CONFLICT" }, { code: 5 }] }, operation: "update the skill manifest", skillId },
            `SMAPI refused to update the skill manifest of ${skillId} (HTTP 409). Amazon says: Conflict\n    - in progress (CONFLICT)\n    - (Amazon gave no message)`],
        ["SMAPI, 400 with violations only", { service: "SMAPI", status: 400, body: { violations: [{ message: "m", validationDetails: { originalInstance: { propertyPath: "$.a" } } }] }, operation: "update account linking", skillId },
            `SMAPI refused to update account linking of ${skillId} (HTTP 400). Amazon says: \n    - $.a: m`],
        ["LWA, an error and a message", { service: "LWA", status: 400, body: { error: "invalid_request", error_description: "bad", message: "see docs" }, operation: "get an access token" },
            "Login with Amazon could not give an access token for SMAPI (HTTP 400). Amazon says: invalid_request: bad see docs"],
        ["SMAPI, 400 with a null violation", { service: "SMAPI", status: 400, body: { violations: [null] }, operation: "update account linking", skillId },
            `SMAPI refused to update account linking of ${skillId} (HTTP 400). Amazon says: \n    - (Amazon gave no message)`],
        ["SMAPI, 400 without words", { service: "SMAPI", status: 400, body: { violations: "not a list" }, operation: "update account linking", skillId },
            `SMAPI refused to update account linking of ${skillId} (HTTP 400).`],
    ];
    for (const [name, failure, sentence] of explained) {
        it(`explains ${name} in exactly the sentence the deployer reads`, () => {
            assert.equal(explainFailure(failure), sentence);
        });
    }

    it("quotes at most 500 characters of a text body", () => {
        const text = explainFailure({ service: "SMAPI", status: 418, body: "x".repeat(600), operation: "o" });
        assert.equal(text, `SMAPI refused to o of the skill (HTTP 418). Amazon says: ${"x".repeat(500)}`);
    });

    it("lists each error of a FAILED manifest update on its own line", () => {
        assert.equal(manifestUpdateFailed(skillId, [{ message: "one" }, { message: "two", code: "C" }]), `SMAPI accepted the manifest of ${skillId} but its update FAILED:` +
            "\n    - one\n    - two (C)\n  A region's endpoint must be the ARN of a function in that region that lets this skill invoke it (the stack's Lambda permission).");
    });

    it("says so when a FAILED manifest update gives no errors", () => {
        for (const errors of [[], undefined]) {
            assert.equal(manifestUpdateFailed(skillId, errors), `SMAPI accepted the manifest of ${skillId} but its update FAILED without saying why (see the skill's Build page in the console).` +
                "\n  A region's endpoint must be the ARN of a function in that region that lets this skill invoke it (the stack's Lambda permission).");
        }
    });
});
