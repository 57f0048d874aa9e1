import { strict as assert } from "assert";
import * as path from "path";
import { ConfigError, CONFIG_KEYS, parseConfig, RawConfig, SMAPI_CONFIG_KEYS, StackConfig } from "../infra/config";
import { EngineRefusal, loadProject } from "./support/pulumiEngine";
import { asTheEngineHandsItOver, ProgramFailed, PROJECT, runProgram, PRIMARY_CONFIG, SKILL_ID, VENDOR_ID } from "./support/pulumiProgram";

const VALID: RawConfig = { alexaSkillId: SKILL_ID, alexaVendorId: VENDOR_ID };
const SECONDARY: RawConfig = { alexaSkillId: SKILL_ID, primaryUserPoolId: "us-east-1_AbCdEf123", primaryClientId: "4example5client6id7alexa89" };
const CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90";
const SES_DOMAIN = "arn:aws:ses:us-east-1:123456789012:identity/example.com";

/** `raw` as the engine hands it to the program: Pulumi.yaml's defaults filled in, keys without the project prefix. */
function fromEngine(raw: RawConfig): RawConfig {
    const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const all = asTheEngineHandsItOver(given, "dev");
    return Object.fromEntries(Object.entries(all).map(([key, value]) => [key.replace(`${PROJECT}:`, ""), value]));
}

/** What the program makes of `raw` after the engine: the config, or its problems. */
function parse(raw: RawConfig, region: string | undefined = "us-east-1"): StackConfig {
    return parseConfig(fromEngine(raw), region);
}

/** As parse, with the region as given (undefined: aws:region not set). */
function parseIn(raw: RawConfig, region: string | undefined): StackConfig {
    return parseConfig(fromEngine(raw), region);
}

/** The problems parseConfig reports for `raw` (fails the test if it accepts it). */
function problemsOf(raw: RawConfig, region: string | undefined): string[] {
    try {
        parseIn(raw, region);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
        return err.problems;
    }
    assert.fail(`accepted ${JSON.stringify(raw)}`);
}

/** Asserts one problem about `key` that quotes the value and gives the fixing command. */
function assertOneProblem(raw: RawConfig, key: string, given?: string, region = "us-east-1"): string {
    const problems = problemsOf(raw, region);
    assert.equal(problems.length, 1, problems.join("\n"));
    const [problem] = problems;
    assert.ok(problem.startsWith(key + " "), problem);
    if (given !== undefined) {
        assert.ok(problem.includes(JSON.stringify(given)), `the message does not quote the value: ${problem}`);
    }
    assert.match(problem, /Fix: pulumi config (set|rm|set-all) /);
    return problem;
}

describe("stack configuration", () => {
    it("applies the documented defaults", () => {
        const config = parse(VALID);
        assert.deepEqual(config.scopes, ["openid"]);
        assert.equal(config.refreshTokenValidityDays, 3650);
        assert.equal(config.accessTokenValidityMinutes, 60);
        assert.equal(config.mfa, "OFF");
        assert.equal(config.featurePlan, "LITE");
        assert.equal(config.email, undefined);
        assert.deepEqual(config.extraCallbackUrls, []);
        assert.equal(config.domainPrefix, undefined);
        assert.equal(config.customDomain, undefined);
        assert.equal(config.primaryPool, undefined);
        assert.ok(Object.isFrozen(config));
    });

    it("reads every key that Pulumi.yaml declares, and nothing it does not", () => {
        const declared = Object.keys(loadProject(path.resolve(__dirname, "../Pulumi.yaml")).config);
        // alexaClientSecret is read as a secret Output, apart from the rest.
        assert.deepEqual([...CONFIG_KEYS, ...SMAPI_CONFIG_KEYS, "alexaClientSecret"].sort(), declared.sort());
    });

    it("says what to do when the engine did not hand a key over", () => {
        const problems = (() => {
            try {
                parseConfig(VALID, "us-east-1");
            } catch (err) {
                return (err as ConfigError).problems;
            }
            return [];
        })();
        assert.ok(problems.length > 0);
        assert.ok(problems.every((p) => /was not handed over by the Pulumi engine: run the program with this project's Pulumi.yaml/.test(p)), problems.join("\n"));
    });

    it("requires alexaSkillId, as amzn1.ask.skill. and a UUID", () => {
        assert.throws(() => fromEngine({ alexaVendorId: VENDOR_ID }), (err: Error) => err instanceof EngineRefusal && /missing configuration value 'alexaSkillId'/.test(err.message));
        assertOneProblem({ ...VALID, alexaSkillId: "amzn1.ask.skill.not-a-uuid" }, "alexaSkillId", "amzn1.ask.skill.not-a-uuid");
        assertOneProblem({ ...VALID, alexaSkillId: "amzn1.echo-sdk-ams.app.0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90" }, "alexaSkillId");
    });

    it("requires alexaVendorId of 10 to 20 upper-case letters or digits on the primary stack only", () => {
        assert.match(assertOneProblem({ alexaSkillId: SKILL_ID }, "alexaVendorId"), /is not set/);
        assertOneProblem({ ...VALID, alexaVendorId: "m2aaaaaaaaaaaa" }, "alexaVendorId", "m2aaaaaaaaaaaa");
        assertOneProblem({ ...VALID, alexaVendorId: "M2AAAAAAA" }, "alexaVendorId", "M2AAAAAAA");
        assert.equal(parse({ ...VALID, alexaVendorId: "M2AAAAAAAA" }).alexaVendorId, "M2AAAAAAAA");
        assert.equal(parse({ ...VALID, alexaVendorId: "M".repeat(20) }).alexaVendorId, "M".repeat(20));
        assertOneProblem({ ...VALID, alexaVendorId: "M".repeat(21) }, "alexaVendorId");
        assert.equal(parse(SECONDARY, "eu-west-1").alexaVendorId, undefined);
    });

    it("refuses, on a secondary stack, every setting that only the primary's pool uses", () => {
        for (const [key, value] of Object.entries({
            alexaVendorId: VENDOR_ID,
            scopes: '["openid","email"]',
            refreshTokenValidityDays: "400",
            mfa: "ON",
            featurePlan: "PLUS",
            domainPrefix: "lamp-login",
            emailFrom: "no-reply@example.com",
        })) {
            const problem = assertOneProblem({ ...SECONDARY, [key]: value }, key, undefined, "eu-west-1");
            assert.match(problem, /only the primary stack uses it.*Fix: pulumi config rm /, problem);
        }
    });

    it("takes extra callback URLs as https URLs only", () => {
        assert.deepEqual(parse({ ...VALID, extraCallbackUrls: '["https://example.com/cb"]' }).extraCallbackUrls, ["https://example.com/cb"]);
        const problem = assertOneProblem({ ...VALID, extraCallbackUrls: '["http://example.com/cb","https://ok.example.com"]' }, "extraCallbackUrls");
        assert.match(problem, /"http:\/\/example.com\/cb"/);
        assert.doesNotMatch(problem, /"https:\/\/ok.example.com"[^\]]/);
    });

    it("checks domainPrefix against Cognito's pattern and reserved words", () => {
        assert.equal(parse({ ...VALID, domainPrefix: "smartlamp-login" }).domainPrefix, "smartlamp-login");
        assert.equal(parse({ ...VALID, domainPrefix: "a".repeat(63) }).domainPrefix, "a".repeat(63));
        for (const bad of ["Upper", "-leading", "trailing-", "my_lamp", "a".repeat(64)]) {
            assertOneProblem({ ...VALID, domainPrefix: bad }, "domainPrefix", bad);
        }
        for (const reserved of ["my-aws-login", "amazonlamp", "cognito1"]) {
            assert.match(assertOneProblem({ ...VALID, domainPrefix: reserved }, "domainPrefix", reserved), /without the words aws, amazon or cognito/);
        }
    });

    it("takes customDomain and certificateArn together, with a us-east-1 certificate", () => {
        const config = parse({ ...VALID, customDomain: "login.example.com", certificateArn: CERTIFICATE }, "eu-west-1");
        assert.deepEqual(config.customDomain, { domain: "login.example.com", certificateArn: CERTIFICATE });
        assertOneProblem({ ...VALID, customDomain: "login.example.com" }, "certificateArn");
        assertOneProblem({ ...VALID, certificateArn: CERTIFICATE }, "customDomain");
        const euArn = CERTIFICATE.replace("us-east-1", "eu-west-1");
        assert.match(assertOneProblem({ ...VALID, customDomain: "login.example.com", certificateArn: euArn }, "certificateArn", euArn), /us-east-1/);
        assert.match(assertOneProblem({ ...VALID, customDomain: "login.example.com", certificateArn: CERTIFICATE, domainPrefix: "lamp" }, "domainPrefix"), /rm domainPrefix/);
    });

    it("takes scopes as a non-empty subset of Cognito's, with openid for email, phone and profile", () => {
        assert.deepEqual(parse({ ...VALID, scopes: '["openid","email"]' }).scopes, ["openid", "email"]);
        assert.deepEqual(parse({ ...VALID, scopes: '["aws.cognito.signin.user.admin"]' }).scopes, ["aws.cognito.signin.user.admin"]);
        assertOneProblem({ ...VALID, scopes: "[]" }, "scopes", "[]");
        assert.match(assertOneProblem({ ...VALID, scopes: '["openid","lamp:write"]' }, "scopes"), /unknown: lamp:write/);
        assertOneProblem({ ...VALID, scopes: '["email"]' }, "scopes");
        assertOneProblem({ ...VALID, scopes: '["openid","openid"]' }, "scopes");
    });

    it("accepts refreshTokenValidityDays from 1 to 3650 and accessTokenValidityMinutes from 5 to 1440, Cognito's limits", () => {
        for (const days of ["1", "3650"]) {
            assert.equal(parse({ ...VALID, refreshTokenValidityDays: days }).refreshTokenValidityDays, Number(days));
        }
        for (const minutes of ["5", "1440"]) {
            assert.equal(parse({ ...VALID, accessTokenValidityMinutes: minutes }).accessTokenValidityMinutes, Number(minutes));
        }
        for (const bad of ["0", "3651", "-1"]) {
            assert.match(assertOneProblem({ ...VALID, refreshTokenValidityDays: bad }, "refreshTokenValidityDays", bad), /from 1 to 3650.*counts from the moment a user linked/);
        }
        for (const bad of ["4", "1441"]) {
            assert.match(assertOneProblem({ ...VALID, accessTokenValidityMinutes: bad }, "accessTokenValidityMinutes", bad), /from 5 to 1440 \(Cognito's limits/);
        }
    });

    it("leaves what is not a whole number to the engine, which refuses it before the program runs", () => {
        for (const bad of ["30.5", "forever", ""]) {
            assert.throws(() => fromEngine({ ...VALID, refreshTokenValidityDays: bad }),
                (err: Error) => err instanceof EngineRefusal && /'refreshTokenValidityDays' must be of type 'integer'/.test(err.message), bad);
        }
    });

    it("takes mfa OFF or ON, and refuses OPTIONAL saying why", () => {
        assert.equal(parse({ ...VALID, mfa: "ON" }).mfa, "ON");
        assert.match(assertOneProblem({ ...VALID, mfa: "OPTIONAL" }, "mfa", "OPTIONAL"), /no way to enrol/);
        assertOneProblem({ ...VALID, mfa: "on" }, "mfa", "on");
    });

    it("takes featurePlan LITE, ESSENTIALS or PLUS", () => {
        for (const plan of ["LITE", "ESSENTIALS", "PLUS"]) {
            assert.equal(parse({ ...VALID, featurePlan: plan }).featurePlan, plan);
        }
        assert.match(assertOneProblem({ ...VALID, featurePlan: "FREE" }, "featurePlan", "FREE"), /LITE or ESSENTIALS or PLUS/);
    });

    it("takes an SES identity in a region Cognito can send from, and a From address it covers", () => {
        assert.deepEqual(parse({ ...VALID, emailSourceArn: SES_DOMAIN, emailFrom: "SmartLamp <no-reply@example.com>" }).email,
            { sourceArn: SES_DOMAIN, from: "SmartLamp <no-reply@example.com>" });
        assert.deepEqual(parse({ ...VALID, emailSourceArn: SES_DOMAIN }).email, { sourceArn: SES_DOMAIN, from: undefined });
        const addressIdentity = "arn:aws:ses:eu-west-1:123456789012:identity/lamp@example.com";
        assert.equal(parse({ ...VALID, emailSourceArn: addressIdentity, emailFrom: "lamp@example.com" }).email?.from, "lamp@example.com");
        assertOneProblem({ ...VALID, emailSourceArn: addressIdentity, emailFrom: "other@example.com" }, "emailFrom", "other@example.com");
        assertOneProblem({ ...VALID, emailSourceArn: SES_DOMAIN, emailFrom: "no-reply@example.org" }, "emailFrom");
        assertOneProblem({ ...VALID, emailSourceArn: SES_DOMAIN, emailFrom: "not an address" }, "emailFrom");
        assert.match(assertOneProblem({ ...VALID, emailSourceArn: "arn:aws:sns:us-east-1:123456789012:topic" }, "emailSourceArn"), /verified Amazon SES identity/);
        const apSes = SES_DOMAIN.replace("us-east-1", "ap-south-1");
        assert.match(assertOneProblem({ ...VALID, emailSourceArn: apSes }, "emailSourceArn", apSes), /us-east-1 or us-west-2 or eu-west-1/);
        assert.match(assertOneProblem({ ...VALID, emailFrom: "no-reply@example.com" }, "emailSourceArn"), /emailFrom needs an SES identity/);
    });

    it("makes a stack secondary with the primary's pool and client IDs, given together and well-formed", () => {
        assert.deepEqual(parse(SECONDARY, "eu-west-1").primaryPool, { userPoolId: "us-east-1_AbCdEf123", clientId: "4example5client6id7alexa89", authorizationUri: undefined });
        assert.match(assertOneProblem({ ...SECONDARY, primaryClientId: undefined }, "primaryClientId", undefined, "eu-west-1"), /is not set.*stack output clientId --stack dev/);
        assertOneProblem({ ...SECONDARY, primaryUserPoolId: undefined }, "primaryUserPoolId", undefined, "eu-west-1");
        assertOneProblem({ ...SECONDARY, primaryUserPoolId: "AbCdEf123" }, "primaryUserPoolId", "AbCdEf123", "eu-west-1");
        assertOneProblem({ ...SECONDARY, primaryClientId: "not a client id" }, "primaryClientId", "not a client id", "eu-west-1");
    });

    it("refuses accountLinkingStack, set by an earlier version, saying what replaced it", () => {
        const problem = assertOneProblem({ ...SECONDARY, accountLinkingStack: "organization/alexa-account-linking/dev" }, "accountLinkingStack", "organization/alexa-account-linking/dev", "eu-west-1");
        assert.match(problem, /no longer used.*primaryUserPoolId and primaryClientId.*Fix: pulumi config rm accountLinkingStack/);
    });

    it("accepts only the three regions where Alexa calls skill functions", () => {
        const problems = problemsOf(VALID, "ap-southeast-2");
        assert.equal(problems.length, 1);
        assert.match(problems[0], /aws:region is "ap-southeast-2".*us-east-1, eu-west-1, us-west-2.*pulumi config set aws:region/);
        assert.match(problemsOf(VALID, undefined)[0], /aws:region is not set/);
    });

    it("reports every problem at once", () => {
        const problems = problemsOf({ alexaSkillId: "x", scopes: "[]", mfa: "sometimes" }, "us-east-1");
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
