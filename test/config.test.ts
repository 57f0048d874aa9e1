import { strict as assert } from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, CONFIG_KEYS, parseConfig, parseSmapiConfig, RawConfig, SMAPI_CONFIG_KEYS, StackConfig } from "../infra/config";
import { EngineRefusal, loadProject } from "../local/pulumiEngine";
import { ALEXA_CLIENT_ID, asTheEngineHandsItOver, ProgramFailed, PROJECT, runProgram, PRIMARY_CONFIG, SKILL_ID, VENDOR_ID } from "../local/pulumiProgram";

const VALID: RawConfig = { alexaSkillId: SKILL_ID, alexaVendorId: VENDOR_ID };
const SECONDARY: RawConfig = { alexaSkillId: SKILL_ID, primaryUserPoolId: "us-east-1_AbCdEf123", primaryClientId: "4example5client6id7alexa89" };
const CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90";
const SES_DOMAIN = "arn:aws:ses:us-east-1:123456789012:identity/example.com";
const WEB_ACL = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/login-guard/0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90";

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
    return refusal(() => parseIn(raw, region), raw);
}

/** The problems of the ConfigError that `check` throws (fails the test if it accepts `raw`). */
function refusal(check: () => unknown, raw: RawConfig): string[] {
    try {
        check();
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
    it("states each problem in full: what was given, what it must be, and the command that fixes it", () => {
        const cases: [string, RawConfig, string[]][] = [
            ["alexaSkillId", { ...VALID, alexaSkillId: "nope" }, [
                "alexaSkillId is \"nope\": it must be \"amzn1.ask.skill.\" followed by a lower-case UUID, the Skill ID shown in the Alexa developer console. Fix: pulumi config set alexaSkillId amzn1.ask.skill.00000000-0000-0000-0000-000000000000",
            ]],
            ["alexaVendorId", { ...VALID, alexaVendorId: "abc" }, [
                "alexaVendorId is \"abc\": it must be 10 to 20 upper-case letters or digits, the last path segment of the Alexa Redirect URLs on the skill's Account Linking page. Fix: pulumi config set alexaVendorId M2AAAAAAAAAAAA",
            ]],
            ["alexaVendorId unset", { alexaSkillId: SKILL_ID }, [
                "alexaVendorId is not set: it must be 10 to 20 upper-case letters or digits, the last path segment of the Alexa Redirect URLs on the skill's Account Linking page. Fix: pulumi config set alexaVendorId M2AAAAAAAAAAAA",
            ]],
            ["extraCallbackUrls", { ...VALID, extraCallbackUrls: '["http://example.com/cb"]' }, [
                "extraCallbackUrls is \"[\\\"http://example.com/cb\\\"]\": every entry must be an https URL without a fragment (not: \"http://example.com/cb\"). Fix: pulumi config rm extraCallbackUrls, then: pulumi config set-all --path --plaintext 'extraCallbackUrls[0]=https://example.com/callback'",
            ]],
            ["domainPrefix", { ...VALID, domainPrefix: "Bad_Prefix" }, [
                "domainPrefix is \"Bad_Prefix\": it must be 1 to 63 lower-case letters, digits and inner hyphens, without the words aws, amazon or cognito. Fix: pulumi config set domainPrefix smartlamp-login-1234",
            ]],
            ["domainPrefix reserved", { ...VALID, domainPrefix: "my-aws-login" }, [
                "domainPrefix is \"my-aws-login\": it must be 1 to 63 lower-case letters, digits and inner hyphens, without the words aws, amazon or cognito (it has aws). Fix: pulumi config set domainPrefix smartlamp-login-1234",
            ]],
            ["customDomain alone", { ...VALID, customDomain: "login.example.com" }, [
                "certificateArn is not set: customDomain and certificateArn go together: set both, or neither for the prefix domain. Fix: pulumi config set certificateArn arn:aws:acm:us-east-1:<account>:certificate/<id>",
            ]],
            ["customDomain", { ...VALID, customDomain: "Login", certificateArn: CERTIFICATE }, [
                "customDomain is \"Login\": it must be a lower-case host name such as login.example.com. Fix: pulumi config set customDomain login.example.com",
            ]],
            ["certificateArn", { ...VALID, customDomain: "login.example.com", certificateArn: CERTIFICATE.replace("us-east-1", "eu-west-1") }, [
                "certificateArn is \"arn:aws:acm:eu-west-1:123456789012:certificate/0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90\": it must be the ARN of an ACM certificate in us-east-1 (Cognito serves custom domains through CloudFront, which uses only us-east-1 certificates). Fix: pulumi config set certificateArn arn:aws:acm:us-east-1:<account>:certificate/<id>",
            ]],
            ["scopes", { ...VALID, scopes: '["openid","lamp:write"]' }, [
                "scopes is \"[\\\"openid\\\",\\\"lamp:write\\\"]\": it must be a non-empty list without repeats drawn from openid, email, phone, profile, aws.cognito.signin.user.admin; email, phone and profile need openid too (unknown: lamp:write). Fix: pulumi config rm scopes, then: pulumi config set-all --path --plaintext 'scopes[0]=openid' --plaintext 'scopes[1]=email'",
            ]],
            ["refreshTokenValidityDays", { ...VALID, refreshTokenValidityDays: "0" }, [
                "refreshTokenValidityDays is \"0\": it must be a whole number from 1 to 3650; it counts from the moment a user linked, and when it ends the user must link again. Fix: pulumi config set refreshTokenValidityDays 3650",
            ]],
            ["accessTokenValidityMinutes", { ...VALID, accessTokenValidityMinutes: "4" }, [
                "accessTokenValidityMinutes is \"4\": it must be a whole number from 5 to 1440 (Cognito's limits for access tokens). Fix: pulumi config set accessTokenValidityMinutes 60",
            ]],
            ["mfa", { ...VALID, mfa: "OPTIONAL" }, [
                "mfa is \"OPTIONAL\": it must be OFF or ON (ON makes every user set up an authenticator app at first sign-in; OPTIONAL is not offered, as the hosted login page gives users no way to enrol then). Fix: pulumi config set mfa OFF",
            ]],
            ["featurePlan", { ...VALID, featurePlan: "FREE" }, [
                "featurePlan is \"FREE\": it must be LITE or ESSENTIALS or PLUS (Cognito's feature plans; LITE serves the classic hosted login page at the lowest price). Fix: pulumi config set featurePlan LITE",
            ]],
            ["emailSourceArn", { ...VALID, emailSourceArn: "arn:aws:sns:us-east-1:123456789012:topic" }, [
                "emailSourceArn is \"arn:aws:sns:us-east-1:123456789012:topic\": it must be the ARN of a verified Amazon SES identity, arn:aws:ses:<region>:<account>:identity/<email or domain>. Fix: pulumi config set emailSourceArn arn:aws:ses:us-east-1:<account>:identity/example.com",
            ]],
            ["emailSourceArn region", { ...VALID, emailSourceArn: "arn:aws:ses:ap-south-1:123456789012:identity/example.com" }, [
                "emailSourceArn is \"arn:aws:ses:ap-south-1:123456789012:identity/example.com\": a user pool in us-east-1 can send only through SES in us-east-1 or us-west-2 or eu-west-1; verify the identity there. Fix: pulumi config set emailSourceArn arn:aws:ses:us-east-1:<account>:identity/example.com",
            ]],
            ["emailFrom alone", { ...VALID, emailFrom: "no-reply@example.com" }, [
                "emailSourceArn is not set: emailFrom needs an SES identity to send from; set emailSourceArn too, or remove emailFrom. Fix: pulumi config set emailSourceArn arn:aws:ses:us-east-1:<account>:identity/example.com",
            ]],
            ["emailFrom", { ...VALID, emailSourceArn: SES_DOMAIN, emailFrom: "someone@other.org" }, [
                "emailFrom is \"someone@other.org\": it must be an address that the SES identity example.com covers (SES sends only from a verified address or domain), bare or as \"Name <address>\". Fix: pulumi config set emailFrom \"SmartLamp <no-reply@example.com>\"",
            ]],
            ["primaryClientId unset", { ...SECONDARY, primaryClientId: undefined }, [
                "primaryClientId is not set: it must be the primary stack's clientId output, given together with primaryUserPoolId. Fix: pulumi config set primaryClientId \"$(pulumi stack output clientId --stack dev)\"",
            ]],
            ["mfa on a secondary", { ...SECONDARY, mfa: "ON" }, [
                "mfa is \"ON\": only the primary stack uses it (this stack verifies the primary's tokens); set it there. Fix: pulumi config rm mfa",
            ]],
            ["accountLinkingStack", { ...VALID, accountLinkingStack: "org/proj/dev" }, [
                "accountLinkingStack is \"org/proj/dev\": it is no longer used; a secondary stack now takes the primary's pool and client instead of reading its state (which held the client secret): set primaryUserPoolId and primaryClientId (README, \"One stack per Alexa region\"). Fix: pulumi config rm accountLinkingStack",
            ]],
            ["alexaClientId", { ...VALID, alexaClientId: "my-client" }, [
                "alexaClientId is \"my-client\": it must be \"amzn1.application-oa2-client.\" followed by 32 hex digits, the Alexa Client Id on the skill's Permissions page (Send Alexa Events). Fix: pulumi config set alexaClientId amzn1.application-oa2-client.<32 hex digits>",
                "alexaClientSecret is not set: alexaClientId and alexaClientSecret go together: set both to send Alexa events, or neither. Fix: pulumi config set --secret alexaClientSecret <the Alexa Client Secret from the skill's Permissions page>",
            ]],
            ["companionCallbackUrls", { ...VALID, companionApp: "true", companionCallbackUrls: '["ftp://x"]' }, [
                "companionCallbackUrls is \"[\\\"ftp://x\\\"]\": every entry must be an https URL, or http://localhost for development (not: \"ftp://x\"). Fix: pulumi config rm companionCallbackUrls, then: pulumi config set-all --path --plaintext 'companionCallbackUrls[0]=https://lamp.example.com/'",
            ]],
        ];
        for (const [name, raw, problems] of cases) {
            assert.deepEqual(problemsOf(raw, "us-east-1"), problems, name);
        }
        assert.deepEqual(problemsOf(VALID, "ap-southeast-2"), ["aws:region is \"ap-southeast-2\": Alexa calls Smart Home skill functions only in us-east-1, eu-west-1, us-west-2. Fix: pulumi config set aws:region us-east-1"]);
    });

    it("checks each value whole: text before or after a valid one is refused", () => {
        const CLIENT_SECRET = { alexaClientSecret: "lwa-secret" };
        const cases: [string, RawConfig][] = [
            ["alexaSkillId", { ...VALID, alexaSkillId: "x" + SKILL_ID }],
            ["alexaSkillId", { ...VALID, alexaSkillId: SKILL_ID + "0" }],
            ["domainPrefix", { ...VALID, domainPrefix: "lamp-" }],
            ["customDomain", { ...VALID, customDomain: "-login.example.com", certificateArn: CERTIFICATE }],
            ["customDomain", { ...VALID, customDomain: "login.example.com.", certificateArn: CERTIFICATE }],
            ["customDomain", { ...VALID, customDomain: "login-.example.com", certificateArn: CERTIFICATE }],
            ["certificateArn", { ...VALID, customDomain: "login.example.com", certificateArn: "x" + CERTIFICATE }],
            ["certificateArn", { ...VALID, customDomain: "login.example.com", certificateArn: CERTIFICATE + "0" }],
            ["emailSourceArn", { ...VALID, emailSourceArn: "x" + SES_DOMAIN }],
            ["emailSourceArn", { ...VALID, emailSourceArn: "arn:aws:ses:us-:123456789012:identity/example.com" }],
            ["primaryUserPoolId", { ...SECONDARY, primaryUserPoolId: "xus-east-1_AbCdEf123" }],
            ["primaryUserPoolId", { ...SECONDARY, primaryUserPoolId: "us-east-1_AbCdEf123!" }],
            ["primaryUserPoolId", { ...SECONDARY, primaryUserPoolId: "us-1_AbCdEf123" }],
            ["alexaClientId", { ...VALID, ...CLIENT_SECRET, alexaClientId: "x" + ALEXA_CLIENT_ID }],
            ["alexaClientId", { ...VALID, ...CLIENT_SECRET, alexaClientId: ALEXA_CLIENT_ID + "0" }],
            ["alexaClientId", { ...VALID, ...CLIENT_SECRET, alexaClientId: "amzn1.application-oa2-client.0" }],
            ["alexaClientId", { ...VALID, ...CLIENT_SECRET, alexaClientId: "amzn1.application-oa2-client." + "g".repeat(32) }],
            ["emailFrom", { ...VALID, emailSourceArn: SES_DOMAIN, emailFrom: "x no-reply@example.com" }],
            ["emailFrom", { ...VALID, emailSourceArn: SES_DOMAIN, emailFrom: "no-reply@example.com x" }],
            ["emailFrom", { ...VALID, emailSourceArn: SES_DOMAIN, emailFrom: "Lamp <no-reply@example.com> x" }],
            ["emailFrom", { ...VALID, emailSourceArn: SES_DOMAIN, emailFrom: "no-reply@notexample.com" }],
        ];
        for (const [key, raw] of cases) {
            const problems = problemsOf(raw, "us-east-1");
            assert.ok(problems.some((p) => p.startsWith(key + " ")), `${JSON.stringify(raw)}: ${problems.join(" | ")}`);
        }
        // and takes the valid forms around them
        for (const raw of [
            { ...VALID, emailSourceArn: SES_DOMAIN, emailFrom: "SmartLamp <No-Reply@Example.com>  " },
            { ...VALID, emailSourceArn: "arn:aws:ses:eu-west-1:123456789012:identity/example.com" },
            { ...VALID, customDomain: "login.example.com", certificateArn: CERTIFICATE },
        ]) {
            parse(raw);
        }
    });

    it("lets each Alexa region's pool send through SES in its own region or the three legacy ones", () => {
        for (const region of ["us-east-1", "eu-west-1", "us-west-2"]) {
            for (const ses of ["us-east-1", "eu-west-1", "us-west-2"]) {
                parseIn({ ...VALID, emailSourceArn: `arn:aws:ses:${ses}:123456789012:identity/example.com` }, region);
            }
            assert.match(problemsOf({ ...VALID, emailSourceArn: "arn:aws:ses:ap-south-1:123456789012:identity/example.com" }, region)[0],
                new RegExp(`a user pool in ${region} can send only through SES in ${region} or `));
        }
    });

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
        assert.equal(config.selfSignUp, true);
        assert.equal(config.wafWebAclArn, undefined);
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
            selfSignUp: "false",
            wafWebAclArn: WEB_ACL,
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

    it("turns self sign-up off with selfSignUp false (invite-only)", () => {
        assert.equal(parse({ ...VALID, selfSignUp: "false" }).selfSignUp, false);
        assert.equal(parse({ ...VALID, selfSignUp: "true" }).selfSignUp, true);
    });

    it("takes a regional web ACL of the stack's region for wafWebAclArn, and says why any other is refused", () => {
        assert.equal(parse({ ...VALID, wafWebAclArn: WEB_ACL }).wafWebAclArn, WEB_ACL);
        const inEurope = WEB_ACL.replace("us-east-1", "eu-west-1");
        assert.equal(parseIn({ ...VALID, wafWebAclArn: inEurope }, "eu-west-1").wafWebAclArn, inEurope);
        assert.match(assertOneProblem({ ...VALID, wafWebAclArn: inEurope }, "wafWebAclArn", inEurope),
            /a user pool takes a web ACL of its own region only, us-east-1; make one there \(scope REGIONAL\)\. Fix: pulumi config set wafWebAclArn arn:aws:wafv2:us-east-1:<account>:regional\/webacl\/<name>\/<id>$/);
        const cloudFront = WEB_ACL.replace("regional/", "global/");
        assert.match(assertOneProblem({ ...VALID, wafWebAclArn: cloudFront }, "wafWebAclArn", cloudFront), /that web ACL is for CloudFront \(scope CLOUDFRONT\)/);
        for (const wrong of [
            "login-guard",
            WEB_ACL.replace("wafv2", "waf-regional"),
            WEB_ACL.replace("webacl", "ipset"),
            WEB_ACL + "x",
            "x" + WEB_ACL,
            WEB_ACL.replace("login-guard", "login guard"),
            WEB_ACL.replace(":123456789012:", ":12345678901:"),
        ]) {
            assert.match(assertOneProblem({ ...VALID, wafWebAclArn: wrong }, "wafWebAclArn", wrong), /it must be the ARN of an AWS WAF \(WAFv2\) web ACL/, wrong);
        }
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

describe("stack configuration, at its edges", () => {
    /** The values the engine hands over for VALID, with `changes` applied as given (no engine check). */
    const handedOver = (changes: RawConfig): RawConfig => ({ ...fromEngine(VALID), ...changes });

    it("says how many problems there are, and lists each on its own line", () => {
        assert.equal(new ConfigError(["a is wrong"]).message, "The stack configuration has 1 problem; nothing was deployed.\n  - a is wrong");
        assert.equal(new ConfigError(["a is wrong", "b is wrong"]).message, "The stack configuration has 2 problems; nothing was deployed.\n  - a is wrong\n  - b is wrong");
    });

    it("takes the shortest and longest forms: a 1-character prefix (Cognito's pattern), host names of 253 characters in labels of 63 (DNS), one-character labels, region names of several words", () => {
        assert.equal(parse({ ...VALID, domainPrefix: "a" }).domainPrefix, "a");
        // A host name of 253 characters at most, in labels of 63 at most.
        const host = (last: number) => ["a", "b", "c"].map((c) => c.repeat(63)).join(".") + "." + "d".repeat(last) + ".com";
        for (const domain of ["x.example.com", host(57)]) {
            assert.equal(parse({ ...VALID, customDomain: domain, certificateArn: CERTIFICATE }).customDomain?.domain, domain);
        }
        assert.equal(host(57).length, 253);
        assertOneProblem({ ...VALID, customDomain: host(58), certificateArn: CERTIFICATE }, "customDomain", host(58));
        assertOneProblem({ ...VALID, customDomain: "a".repeat(64) + ".example.com", certificateArn: CERTIFICATE }, "customDomain");
        // A region-shaped name of more than one word (us-gov-west-1) passes the ARN's form, then is refused as a region a pool cannot use.
        assert.match(assertOneProblem({ ...VALID, emailSourceArn: SES_DOMAIN.replace("us-east-1", "us-gov-west-1") }, "emailSourceArn"), /can send only through SES in us-east-1 or us-west-2 or eu-west-1/);
        assert.equal(parse({ ...SECONDARY, primaryUserPoolId: "us-gov-west-1_AbC" }, "eu-west-1").primaryPool?.userPoolId, "us-gov-west-1_AbC");
    });

    it("hands Cognito the From address without the spaces around it", () => {
        assert.equal(parse({ ...VALID, emailSourceArn: SES_DOMAIN, emailFrom: "  no-reply@example.com " }).email?.from, "no-reply@example.com");
        assert.equal(parse({ ...VALID, emailSourceArn: SES_DOMAIN, emailFrom: " SmartLamp <no-reply@example.com> " }).email?.from, "SmartLamp <no-reply@example.com>");
    });

    it("refuses values that only begin like a valid one", () => {
        assertOneProblem({ ...VALID, emailSourceArn: SES_DOMAIN + "\nx" }, "emailSourceArn");
        assertOneProblem({ ...VALID, emailSourceArn: SES_DOMAIN, emailFrom: "no-reply@example.com x@example.com" }, "emailFrom");
        assertOneProblem({ ...VALID, extraCallbackUrls: '["https://example.com/cb#fragment"]' }, "extraCallbackUrls");
        // The URL parser reads these as https://x/, but Cognito would get the text as written.
        for (const url of ["not a url", "https:x", "https:///x", "https://?x", "xhttps://example.com/", "https://exa mple.com/"]) {
            assertOneProblem({ ...VALID, extraCallbackUrls: JSON.stringify([url]) }, "extraCallbackUrls", JSON.stringify([url]));
        }
        for (const url of ["http://localhost:3000/#x", "http://localhost.example.com/", "xhttp://localhost/", "http://localhost:/"]) {
            assertOneProblem({ ...VALID, companionCallbackUrls: JSON.stringify([url]) }, "companionCallbackUrls", JSON.stringify([url]));
        }
        for (const url of ["http://localhost", "http://localhost:3000", "http://localhost/callback"]) {
            assert.deepEqual(parse({ ...VALID, companionCallbackUrls: JSON.stringify([url]) }).companionCallbackUrls, [url]);
        }
    });

    it("names every offending entry of a list, and every reserved word of a prefix", () => {
        assert.match(assertOneProblem({ ...VALID, extraCallbackUrls: '["http://a.example/","https://ok.example/","ftp://b.example/"]' }, "extraCallbackUrls"),
            /\(not: "http:\/\/a\.example\/", "ftp:\/\/b\.example\/"\)\. Fix/);
        assert.match(assertOneProblem({ ...VALID, companionCallbackUrls: '["http://a.example/","http://b.example/"]' }, "companionCallbackUrls"),
            /\(not: "http:\/\/a\.example\/", "http:\/\/b\.example\/"\)\. Fix/);
        assert.match(assertOneProblem({ ...VALID, domainPrefix: "aws-cognito-login" }, "domainPrefix"), /\(it has aws, cognito\)\. Fix/);
        assert.match(assertOneProblem({ ...VALID, scopes: '["openid","read","write"]' }, "scopes"), /\(unknown: read, write\)\. Fix/);
        assert.equal(assertOneProblem({ ...VALID, scopes: "[]" }, "scopes"),
            "scopes is \"[]\": it must be a non-empty list without repeats drawn from openid, email, phone, profile, aws.cognito.signin.user.admin; email, phone and profile need openid too. " +
            "Fix: pulumi config rm scopes, then: pulumi config set-all --path --plaintext 'scopes[0]=openid' --plaintext 'scopes[1]=email'");
    });

    it("states the custom-domain, secondary-stack and email problems in full", () => {
        assert.equal(assertOneProblem({ ...VALID, certificateArn: CERTIFICATE }, "customDomain"),
            "customDomain is not set: customDomain and certificateArn go together: set both, or neither for the prefix domain. Fix: pulumi config set customDomain login.example.com");
        assert.equal(assertOneProblem({ ...VALID, customDomain: "login.example.com", certificateArn: CERTIFICATE, domainPrefix: "lamp-login" }, "domainPrefix"),
            "domainPrefix is \"lamp-login\": a stack with customDomain has no prefix domain; remove one of the two. Fix: pulumi config rm domainPrefix");
        assert.equal(assertOneProblem({ ...SECONDARY, primaryUserPoolId: "AbCdEf123" }, "primaryUserPoolId", "AbCdEf123", "eu-west-1"),
            "primaryUserPoolId is \"AbCdEf123\": it must be the primary stack's userPoolId output, <region>_<id>, given together with primaryClientId. " +
            "Fix: pulumi config set primaryUserPoolId \"$(pulumi stack output userPoolId --stack dev)\"");
        // No SES identity matched: the address is checked alone, and the example names no domain.
        assert.deepEqual(problemsOf({ ...VALID, emailSourceArn: "arn:aws:sns:us-east-1:123456789012:topic", emailFrom: "nobody" }, "us-east-1"), [
            "emailSourceArn is \"arn:aws:sns:us-east-1:123456789012:topic\": it must be the ARN of a verified Amazon SES identity, arn:aws:ses:<region>:<account>:identity/<email or domain>. " +
                "Fix: pulumi config set emailSourceArn arn:aws:ses:us-east-1:<account>:identity/example.com",
            "emailFrom is \"nobody\": it must be an address, bare or as \"Name <address>\". Fix: pulumi config set emailFrom \"SmartLamp <no-reply@example.com>\"",
        ]);
        assert.equal(assertOneProblem({ ...VALID, emailSourceArn: "arn:aws:ses:us-east-1:123456789012:identity/lamp.example.org", emailFrom: "a@example.org" }, "emailFrom"),
            "emailFrom is \"a@example.org\": it must be an address that the SES identity lamp.example.org covers (SES sends only from a verified address or domain), bare or as \"Name <address>\". " +
            "Fix: pulumi config set emailFrom \"SmartLamp <no-reply@lamp.example.org>\"");
        // An address identity: the example cannot be built from it.
        assert.match(assertOneProblem({ ...VALID, emailSourceArn: "arn:aws:ses:us-east-1:123456789012:identity/lamp@example.org", emailFrom: "a@example.org" }, "emailFrom"),
            /Fix: pulumi config set emailFrom "SmartLamp <no-reply@example\.com>"$/);
    });

    it("reports only the region when it is not an Alexa region, whatever SES identity is set", () => {
        // Object's own member names among them: the region table is read by its own keys only.
        for (const region of ["ap-southeast-2", "constructor", "toString", undefined]) {
            for (const identity of [SES_DOMAIN, SES_DOMAIN.replace("us-east-1", "ap-southeast-2")]) {
                const problems = problemsOf({ ...VALID, emailSourceArn: identity }, region);
                assert.deepEqual(problems.map((p) => p.split(" ")[0]), ["aws:region"], `${region}, ${identity}: ${problems.join("\n")}`);
            }
        }
    });

    it("states the Alexa events and companion problems in full", () => {
        const secret = pulumi.output("the-alexa-client-secret");
        assert.deepEqual(refusal(() => parseConfig(handedOver({}), "us-east-1", secret), handedOver({})), [
            "alexaClientId is not set: alexaClientId and alexaClientSecret go together: set both to send Alexa events, or neither. " +
                "Fix: pulumi config set alexaClientId amzn1.application-oa2-client.<32 hex digits>",
        ]);
        assert.equal(assertOneProblem({ ...VALID, alexaEvents: "true", alarmEmail: "ops@example.com" }, "alexaEvents", "true"),
            "alexaEvents is \"true\": the skill's Alexa Client Id and Secret are needed to send events: set the smapi* values so that `pulumi up` reads them from the skill (README, Deploy, A), or set alexaClientId and alexaClientSecret. " +
            "Fix: pulumi config set --secret smapiRefreshToken <refresh_token> (with smapiClientId and smapiClientSecret)");
        const companion = { ...SECONDARY, companionApp: "true" };
        assert.equal(assertOneProblem(companion, "primaryAuthorizationUri", undefined, "eu-west-1"),
            "primaryAuthorizationUri is not set: a secondary stack's companion page signs users in on the primary's hosted domain: give it the primary's authorizationUri output. " +
            "Fix: pulumi config set primaryAuthorizationUri \"$(pulumi stack output authorizationUri --stack dev)\"");
        const uri = "https://lamp.auth.us-east-1.amazoncognito.com/oauth2/authorize";
        for (const wrong of ["x" + uri, uri + "/x"]) {
            assertOneProblem({ ...companion, primaryAuthorizationUri: wrong }, "primaryAuthorizationUri", wrong, "eu-west-1");
        }
        assert.equal(parse({ ...companion, primaryAuthorizationUri: uri }, "eu-west-1").primaryPool?.authorizationUri, uri);
    });

    it("refuses an Alexa Client Secret stored in plain text, never quoting it, and takes it stored with --secret", () => {
        const secret = pulumi.output("the-alexa-client-secret");
        const raw = handedOver({ alexaClientId: ALEXA_CLIENT_ID, alarmEmail: "ops@example.com" });
        const plain = (key: string) => key !== "alexaClientSecret";
        assert.deepEqual(refusal(() => parseConfig(raw, "us-east-1", secret, plain), raw), [
            "alexaClientSecret is stored in plain text in the stack's config file: store it encrypted (and, since it was readable, consider a new secret on the skill's Permissions page). " +
                "Fix: pulumi config set --secret alexaClientSecret <the Alexa Client Secret>",
        ]);
        assert.equal(parseConfig(raw, "us-east-1", secret, () => true).alexaEvents?.fromSkill, false);
        assert.equal(parseConfig(raw, "us-east-1", secret).alexaEvents?.fromSkill, false, "stored encrypted unless said otherwise");
    });

    it("states the alarm and kept-table problems in full, and refuses them on a stack without Alexa events", () => {
        const secret = pulumi.output("the-alexa-client-secret");
        const events = (more: Record<string, string>) => handedOver({ alexaClientId: ALEXA_CLIENT_ID, alarmEmail: "ops@example.com", ...more });
        const problems = (raw: RawConfig) => refusal(() => parseConfig(raw, "us-east-1", secret), raw);
        for (const [more, expected] of [
            [{ alarmEmail: "ops" }, "alarmEmail is \"ops\": it must be one email address, such as ops@example.com. Fix: pulumi config set alarmEmail ops@example.com"],
            [{ alarmEmail: "Ops <ops@example.com>" }, "alarmEmail is \"Ops <ops@example.com>\": it must be one email address, such as ops@example.com. Fix: pulumi config set alarmEmail ops@example.com"],
            [{ alarmEmail: "", alarmTopicArn: "arn:aws:sns:us-east-1:123456789012:pager.fifo" }, "alarmTopicArn is \"arn:aws:sns:us-east-1:123456789012:pager.fifo\": it must be the ARN of a standard SNS topic, arn:aws:sns:<region>:<account>:<topic name>. Fix: pulumi config set alarmTopicArn arn:aws:sns:us-east-1:<account>:<topic name>"],
            [{ alarmEmail: "", alarmTopicArn: "arn:aws:sqs:us-east-1:123456789012:pager" }, "alarmTopicArn is \"arn:aws:sqs:us-east-1:123456789012:pager\": it must be the ARN of a standard SNS topic, arn:aws:sns:<region>:<account>:<topic name>. Fix: pulumi config set alarmTopicArn arn:aws:sns:us-east-1:<account>:<topic name>"],
            [{ alarmTopicArn: "arn:aws:sns:us-east-1:123456789012:pager" }, "alarmEmail is \"ops@example.com\": alarmEmail and alarmTopicArn are two ways to the same place: keep one (subscribe the address to your topic instead). Fix: pulumi config rm alarmEmail"],
            [{ alarmEmail: "", alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:pager" }, "alarmTopicArn is \"arn:aws:sns:eu-west-1:123456789012:pager\": it must be a topic in this stack's region, us-east-1, where its alarms are (each region stack has its own). Fix: pulumi config set alarmTopicArn arn:aws:sns:us-east-1:<account>:<topic name>"],
            [{ alarmEmail: "" }, "alarmEmail is not set: with Alexa events on, the stack's alarms need somewhere to go: an address (the stack subscribes it to a topic of its own; confirm the email AWS sends), or alarmTopicArn, your SNS topic. Fix: pulumi config set alarmEmail ops@example.com"],
            [{ alexaGrantsTable: "my table" }, "alexaGrantsTable is \"my table\": it must be the name of the grants table this stack kept when events were switched off (its alexaGrantsTableName output then). Fix: pulumi config set alexaGrantsTable <table name>"],
            [{ alexaGrantsTable: "ab" }, "alexaGrantsTable is \"ab\": it must be the name of the grants table this stack kept when events were switched off (its alexaGrantsTableName output then). Fix: pulumi config set alexaGrantsTable <table name>"],
            [{ alexaGrantsTable: "kept-table!" }, "alexaGrantsTable is \"kept-table!\": it must be the name of the grants table this stack kept when events were switched off (its alexaGrantsTableName output then). Fix: pulumi config set alexaGrantsTable <table name>"],
            [{ alarmEmail: "", alarmTopicArn: "xarn:aws:sns:us-east-1:123456789012:pager" }, "alarmTopicArn is \"xarn:aws:sns:us-east-1:123456789012:pager\": it must be the ARN of a standard SNS topic, arn:aws:sns:<region>:<account>:<topic name>. Fix: pulumi config set alarmTopicArn arn:aws:sns:us-east-1:<account>:<topic name>"],
        ] as const) {
            assert.deepEqual(problems(events(more)), [expected], JSON.stringify(more));
        }
        const taken = parseConfig(events({ alarmEmail: " ops@example.com ", alexaGrantsTable: "alexa-grants-table-1a2b3c4" }), "us-east-1", secret);
        assert.deepEqual([taken.alarms, taken.alexaGrantsTable], [{ email: "ops@example.com", topicArn: undefined }, "alexa-grants-table-1a2b3c4"]);
        assert.deepEqual(parseConfig(events({ alarmEmail: "", alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:pager_1-a" }), "eu-west-1", secret).alarms,
            { email: undefined, topicArn: "arn:aws:sns:eu-west-1:123456789012:pager_1-a" });
        for (const key of ["alarmEmail", "alarmTopicArn", "alexaGrantsTable"]) {
            const value = { alarmEmail: "ops@example.com", alarmTopicArn: "arn:aws:sns:us-east-1:123456789012:pager", alexaGrantsTable: "kept-grants" }[key]!;
            const raw = handedOver({ [key]: value });
            assert.deepEqual(refusal(() => parseConfig(raw, "us-east-1"), raw), [
                `${key} is ${JSON.stringify(value)}: it serves Alexa events, which are off on this stack: switch them on (alexaClientId and alexaClientSecret, or alexaEvents), or remove it. Fix: pulumi config rm ${key}`,
            ]);
        }
    });

    it("reads what the engine would not hand over as Pulumi.yaml declares it: an empty list, a list that is not one, a retired key set to \"\", no SMAPI token", () => {
        assert.deepEqual(parseConfig(handedOver({ extraCallbackUrls: "" }), "us-east-1").extraCallbackUrls, []);
        for (const notAList of ["not json", "[1]"]) {
            const raw = handedOver({ extraCallbackUrls: notAList });
            assert.deepEqual(refusal(() => parseConfig(raw, "us-east-1"), raw),
                ["extraCallbackUrls is not a list of strings as Pulumi.yaml declares it: run the program with the Pulumi CLI, which checks it."]);
        }
        parseConfig(handedOver({ accountLinkingStack: "" }), "us-east-1");
        // smapiRefreshToken not given at all counts as not set: alexaEvents then lacks its source.
        assert.throws(() => parseConfig(handedOver({ alexaEvents: "true", smapiRefreshToken: undefined }), "us-east-1"), /alexaEvents is "true"/);
    });
});

describe("SMAPI values, at their edges", () => {
    const secret = () => true;
    const VALUES = { smapiClientId: ALEXA_CLIENT_ID, smapiClientSecret: "0123456789abcdef", smapiRefreshToken: "Atzr|IwEBIexample" };
    const problemsOfSmapi = (raw: RawConfig): string[] => refusal(() => parseSmapiConfig(raw, secret), raw);

    it("takes each value whole, and says what each must be", () => {
        assert.deepEqual(parseSmapiConfig(VALUES, secret), { clientId: VALUES.smapiClientId, clientSecret: VALUES.smapiClientSecret, refreshToken: VALUES.smapiRefreshToken });
        const clientId = "smapiClientId does not look like the Client ID of your Login with Amazon security profile (amzn1.application-oa2-client.<32 hex digits>). " +
            "Fix: npx pulumi config set --secret smapiClientId <Client ID of your Login with Amazon security profile>";
        const clientSecret = "smapiClientSecret does not look like the Client Secret of the same security profile. " +
            "Fix: npx pulumi config set --secret smapiClientSecret <Client Secret of the same security profile>";
        const refreshToken = "smapiRefreshToken does not look like the refresh_token that `ask util generate-lwa-tokens` prints (it begins with Atzr|). " +
            "Fix: npx pulumi config set --secret smapiRefreshToken <refresh_token that `ask util generate-lwa-tokens` prints>";
        const cases: [Partial<typeof VALUES>, string][] = [
            [{ smapiClientId: "x" + ALEXA_CLIENT_ID }, clientId],
            [{ smapiClientId: ALEXA_CLIENT_ID + "0" }, clientId],
            [{ smapiClientSecret: "a 0123456789abcdef" }, clientSecret],
            [{ smapiClientSecret: "0123456789abcdef x" }, clientSecret],
            [{ smapiClientSecret: "0123456789abcde" }, clientSecret],
            [{ smapiRefreshToken: "xAtzr|IwEBIexample" }, refreshToken],
            [{ smapiRefreshToken: "Atzr|IwEB Iexample" }, refreshToken],
        ];
        for (const [change, problem] of cases) {
            assert.deepEqual(problemsOfSmapi({ ...VALUES, ...change }), [problem], JSON.stringify(change));
        }
    });

    it("names the values that are set when others are missing, with is or are", () => {
        assert.deepEqual(problemsOfSmapi({ smapiClientId: ALEXA_CLIENT_ID, smapiClientSecret: "0123456789abcdef" }), [
            "smapiRefreshToken is not set, but smapiClientId and smapiClientSecret are: set all three to configure the skill through SMAPI (README, \"Deploy\"), or none. " +
                "Fix: npx pulumi config set --secret smapiRefreshToken <refresh_token that `ask util generate-lwa-tokens` prints>",
        ]);
        assert.match(problemsOfSmapi({ smapiRefreshToken: VALUES.smapiRefreshToken })[0], /^smapiClientId is not set, but smapiRefreshToken is: set all three/);
    });
});
