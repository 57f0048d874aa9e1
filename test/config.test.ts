import { strict as assert } from "assert";
import { ConfigError, parseConfig, RawConfig } from "../infra/config";
import { ProgramFailed, runProgram, PRIMARY_CONFIG, SKILL_ID, VENDOR_ID } from "./support/pulumiProgram";

const VALID: RawConfig = { alexaSkillId: SKILL_ID, alexaVendorId: VENDOR_ID };

/** The problems parseConfig reports for `raw` (fails the test if it accepts it). */
function problemsOf(raw: RawConfig, region: string | undefined): string[] {
    try {
        parseConfig(raw, region);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
        return err.problems;
    }
    assert.fail(`accepted ${JSON.stringify(raw)}`);
}

/** Asserts one problem about `key` that quotes the value and gives the fixing command. */
function assertOneProblem(raw: RawConfig, key: string, given?: string): string {
    const problems = problemsOf(raw, "us-east-1");
    assert.equal(problems.length, 1, problems.join("\n"));
    const [problem] = problems;
    assert.ok(problem.startsWith(key + " "), problem);
    if (given !== undefined) {
        assert.ok(problem.includes(JSON.stringify(given)), `the message does not quote the value: ${problem}`);
    }
    assert.match(problem, new RegExp(`Fix: pulumi config (set|rm) .*${key === "aws:region" ? "aws:region" : ""}`));
    return problem;
}

describe("stack configuration", () => {
    it("applies the documented defaults", () => {
        const config = parseConfig(VALID, "us-east-1");
        assert.deepEqual(config.scopes, ["openid"]);
        assert.equal(config.refreshTokenValidityDays, 3650);
        assert.equal(config.accessTokenValidityMinutes, 60);
        assert.equal(config.mfa, "OPTIONAL");
        assert.deepEqual(config.extraCallbackUrls, []);
        assert.equal(config.domainPrefix, undefined);
        assert.equal(config.customDomain, undefined);
        assert.ok(Object.isFrozen(config));
    });

    it("requires alexaSkillId, as amzn1.ask.skill. and a UUID", () => {
        assert.match(assertOneProblem({ alexaVendorId: VENDOR_ID }, "alexaSkillId"), /is not set.*pulumi config set alexaSkillId/);
        assertOneProblem({ ...VALID, alexaSkillId: "amzn1.ask.skill.not-a-uuid" }, "alexaSkillId", "amzn1.ask.skill.not-a-uuid");
        assertOneProblem({ ...VALID, alexaSkillId: "amzn1.echo-sdk-ams.app.0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90" }, "alexaSkillId");
    });

    it("requires alexaVendorId of 10 to 20 upper-case letters or digits on the primary stack only", () => {
        assertOneProblem({ alexaSkillId: SKILL_ID }, "alexaVendorId");
        assertOneProblem({ ...VALID, alexaVendorId: "m2aaaaaaaaaaaa" }, "alexaVendorId", "m2aaaaaaaaaaaa");
        assertOneProblem({ ...VALID, alexaVendorId: "M2AAAAAAA" }, "alexaVendorId", "M2AAAAAAA");
        const secondary = parseConfig({ alexaSkillId: SKILL_ID, accountLinkingStack: "acme/alexa-account-linking/dev" }, "eu-west-1");
        assert.equal(secondary.alexaVendorId, undefined);
    });

    it("takes extra callback URLs as https URLs only", () => {
        const config = parseConfig({ ...VALID, extraCallbackUrls: '["https://example.com/cb"]' }, "us-east-1");
        assert.deepEqual(config.extraCallbackUrls, ["https://example.com/cb"]);
        const problem = assertOneProblem({ ...VALID, extraCallbackUrls: '["http://example.com/cb","https://ok.example.com"]' }, "extraCallbackUrls");
        assert.match(problem, /"http:\/\/example.com\/cb"/);
    });

    it("checks domainPrefix against Cognito's pattern and reserved words", () => {
        assert.equal(parseConfig({ ...VALID, domainPrefix: "smartlamp-login" }, "us-east-1").domainPrefix, "smartlamp-login");
        for (const bad of ["Upper", "-leading", "trailing-", "my_lamp", "a".repeat(64)]) {
            assertOneProblem({ ...VALID, domainPrefix: bad }, "domainPrefix", bad);
        }
        for (const reserved of ["my-aws-login", "amazonlamp", "cognito1"]) {
            assert.match(assertOneProblem({ ...VALID, domainPrefix: reserved }, "domainPrefix", reserved), /without the words aws, amazon or cognito/);
        }
    });

    it("takes customDomain and certificateArn together, with a us-east-1 certificate", () => {
        const arn = "arn:aws:acm:us-east-1:123456789012:certificate/0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90";
        const config = parseConfig({ ...VALID, customDomain: "login.example.com", certificateArn: arn }, "eu-west-1");
        assert.deepEqual(config.customDomain, { domain: "login.example.com", certificateArn: arn });
        assertOneProblem({ ...VALID, customDomain: "login.example.com" }, "certificateArn");
        assertOneProblem({ ...VALID, certificateArn: arn }, "customDomain");
        const euArn = arn.replace("us-east-1", "eu-west-1");
        assert.match(assertOneProblem({ ...VALID, customDomain: "login.example.com", certificateArn: euArn }, "certificateArn", euArn), /us-east-1/);
    });

    it("takes scopes as a non-empty subset of Cognito's, with openid for email, phone and profile", () => {
        assert.deepEqual(parseConfig({ ...VALID, scopes: '["openid","email"]' }, "us-east-1").scopes, ["openid", "email"]);
        assert.deepEqual(parseConfig({ ...VALID, scopes: "aws.cognito.signin.user.admin" }, "us-east-1").scopes, ["aws.cognito.signin.user.admin"]);
        assertOneProblem({ ...VALID, scopes: "[]" }, "scopes", "[]");
        assert.match(assertOneProblem({ ...VALID, scopes: '["openid","lamp:write"]' }, "scopes"), /unknown: lamp:write/);
        assertOneProblem({ ...VALID, scopes: '["email"]' }, "scopes");
    });

    it("keeps refreshTokenValidityDays within 1..3650 and accessTokenValidityMinutes within 6..1440", () => {
        assert.equal(parseConfig({ ...VALID, refreshTokenValidityDays: "365" }, "us-east-1").refreshTokenValidityDays, 365);
        for (const bad of ["0", "3651", "30.5", "forever"]) {
            assertOneProblem({ ...VALID, refreshTokenValidityDays: bad }, "refreshTokenValidityDays", bad);
        }
        for (const bad of ["5", "1441"]) {
            assert.match(assertOneProblem({ ...VALID, accessTokenValidityMinutes: bad }, "accessTokenValidityMinutes", bad), /at least 6 minutes/);
        }
    });

    it("takes mfa OFF or OPTIONAL", () => {
        assert.equal(parseConfig({ ...VALID, mfa: "OFF" }, "us-east-1").mfa, "OFF");
        assertOneProblem({ ...VALID, mfa: "ON" }, "mfa", "ON");
    });

    it("takes accountLinkingStack as a fully qualified stack name", () => {
        assertOneProblem({ alexaSkillId: SKILL_ID, accountLinkingStack: "dev" }, "accountLinkingStack", "dev");
    });

    it("accepts only the three regions where Alexa calls skill functions", () => {
        const problems = problemsOf(VALID, "ap-southeast-2");
        assert.equal(problems.length, 1);
        assert.match(problems[0], /aws:region is "ap-southeast-2".*us-east-1, eu-west-1, us-west-2.*pulumi config set aws:region/);
        assert.match(problemsOf(VALID, undefined)[0], /aws:region is not set/);
    });

    it("reports every problem at once", () => {
        const problems = problemsOf({ alexaVendorId: "x", scopes: "[]", mfa: "sometimes" }, "us-east-1");
        assert.deepEqual(problems.map((p) => p.split(" ")[0]), ["alexaSkillId", "alexaVendorId", "scopes", "mfa"]);
    });

    it("stops the program before any resource is registered", async () => {
        const failed = await runProgram({ ...PRIMARY_CONFIG, alexaSkillId: "nope" }).then(
            () => undefined,
            (err: unknown) => err,
        );
        assert.ok(failed instanceof ProgramFailed, String(failed));
        // The program loads its own copy of infra/config, so the class is compared by name.
        assert.equal((failed.cause as Error).name, "ConfigError", String(failed.cause));
        assert.match((failed.cause as Error).message, /alexaSkillId is "nope"/);
        assert.match((failed.cause as Error).message, /nothing was deployed/);
        assert.deepEqual(failed.resources, []);
    });
});
