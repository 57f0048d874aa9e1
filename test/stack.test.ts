import { strict as assert } from "assert";
import { archiveEntries } from "../local/lambdaArchive";
import { jwksOf } from "../local/tokens";
import { ACCOUNT_ID, isConfigError, ProgramFailed, isSecret, POOL_JWKS, POOL_KEY, PRIMARY_CONFIG, PRIMARY_OUTPUTS, ProgramRun, runProgram, SKILL_ID, webAclArn, WEB_ACLS } from "../local/pulumiProgram";

const POOL = "aws:cognito/userPool:UserPool";
const CLIENT = "aws:cognito/userPoolClient:UserPoolClient";
const DOMAIN = "aws:cognito/userPoolDomain:UserPoolDomain";
const FUNCTION = "aws:lambda/function:Function";
const PERMISSION = "aws:lambda/permission:Permission";
const TABLE = "aws:dynamodb/table:Table";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation";

const REDIRECTS = [
    "https://pitangui.amazon.com/api/skill/link/M2AAAAAAAAAAAA",
    "https://layla.amazon.com/api/skill/link/M2AAAAAAAAAAAA",
    "https://alexa.amazon.co.jp/api/skill/link/M2AAAAAAAAAAAA",
];

describe("the primary stack", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram({ ...PRIMARY_CONFIG });
    });

    it("keeps the user pool: email usernames, self sign-up by default, deletion protection and protect", () => {
        const pool = run.one(POOL);
        assert.deepEqual(pool.inputs.usernameAttributes, ["email"]);
        assert.deepEqual(pool.inputs.usernameConfiguration, { caseSensitive: false });
        assert.deepEqual(pool.inputs.autoVerifiedAttributes, ["email"]);
        assert.equal(pool.inputs.adminCreateUserConfig.allowAdminCreateUserOnly, false);
        assert.deepEqual(pool.inputs.accountRecoverySetting.recoveryMechanisms, [{ name: "verified_email", priority: 1 }]);
        assert.ok(pool.inputs.passwordPolicy.minimumLength >= 12);
        for (const rule of ["requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols"]) {
            assert.equal(pool.inputs.passwordPolicy[rule], true, rule);
        }
        assert.equal(pool.inputs.mfaConfiguration, "OFF");
        assert.equal(pool.inputs.softwareTokenMfaConfiguration, undefined);
        assert.equal(pool.inputs.userPoolTier, "LITE", "the feature plan is chosen, not left to Cognito's default (Essentials)");
        assert.deepEqual(pool.inputs.emailConfiguration, { emailSendingAccount: "COGNITO_DEFAULT" });
        assert.equal(pool.inputs.deletionProtection, "ACTIVE");
        assert.equal(pool.protect, true);
        assert.equal(pool.inputs.schemas, undefined, "schema attributes make Pulumi plan replacements");
        // A new user confirms the address with a code typed into the hosted page, not a link.
        assert.deepEqual(pool.inputs.verificationMessageTemplate, { defaultEmailOption: "CONFIRM_WITH_CODE" });
    });

    it("configures the app client for Alexa: code grant, secret, Alexa's redirect URLs, long-lived refresh tokens", () => {
        const client = run.one(CLIENT).inputs;
        assert.equal(client.name, "alexa");
        assert.equal(client.userPoolId, `us-east-1_AbCdEf123`);
        assert.equal(client.generateSecret, true);
        assert.deepEqual(client.allowedOauthFlows, ["code"]);
        assert.equal(client.allowedOauthFlowsUserPoolClient, true);
        assert.deepEqual(client.allowedOauthScopes, ["openid"]);
        assert.deepEqual(client.callbackUrls, REDIRECTS);
        assert.deepEqual(client.supportedIdentityProviders, ["COGNITO"]);
        assert.equal(client.refreshTokenValidity, 3650);
        assert.equal(client.accessTokenValidity, 60);
        assert.equal(client.idTokenValidity, 60);
        assert.deepEqual(client.tokenValidityUnits, { refreshToken: "days", accessToken: "minutes", idToken: "minutes" });
        assert.equal(client.enableTokenRevocation, true);
        assert.equal(client.preventUserExistenceErrors, "ENABLED");
        assert.deepEqual(client.explicitAuthFlows, ["ALLOW_REFRESH_TOKEN_AUTH"]);
    });

    it("protects the app client, whose replacement would unlink every user", () => {
        assert.equal(run.one(CLIENT).protect, true);
    });

    it("protects the hosted domain, and deletes the old one before making a new one on a deliberate change", () => {
        const domain = run.one(DOMAIN);
        assert.equal(domain.protect, true);
        assert.equal(domain.deleteBeforeReplace, true);
    });

    it("derives a valid domain prefix that is stable for the stack and the account", async () => {
        const prefix = run.one(DOMAIN).inputs.domain as string;
        assert.match(prefix, /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
        assert.doesNotMatch(prefix, /aws|amazon|cognito/);
        const again = await runProgram({ ...PRIMARY_CONFIG });
        assert.equal(again.one(DOMAIN).inputs.domain, prefix);
        const otherStack = await runProgram({ ...PRIMARY_CONFIG }, "aws-prod");
        const otherPrefix = otherStack.one(DOMAIN).inputs.domain as string;
        assert.notEqual(otherPrefix, prefix);
        assert.doesNotMatch(otherPrefix, /aws/);
        assert.ok(prefix.length <= 63 && !prefix.includes(ACCOUNT_ID));
        const otherAccount = await runProgram({ ...PRIMARY_CONFIG }, "dev", { accountId: "210987654321" });
        assert.notEqual(otherAccount.one(DOMAIN).inputs.domain, prefix, "another account must get another prefix");
    });

    it("exports exactly what the Alexa console takes, without redirect_uri or state", () => {
        const host = `${run.one(DOMAIN).inputs.domain}.auth.us-east-1.amazoncognito.com`;
        assert.deepEqual(run.outputs, {
            authorizationUri: `https://${host}/oauth2/authorize`,
            accessTokenUri: `https://${host}/oauth2/token`,
            clientId: "1abcdefghij2klmnop3qrstuv4",
            clientSecret: "mock-client-secret-0123456789abcdef",
            scopes: ["openid"],
            alexaRedirectUrls: REDIRECTS,
            accessTokenValidityMinutes: 60,
            refreshTokenValidityDays: 3650,
            jwksUri: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123/.well-known/jwks.json",
            accountLinkingRequest: {
                accountLinkingRequest: {
                    type: "AUTH_CODE",
                    authorizationUrl: `https://${host}/oauth2/authorize`,
                    accessTokenUrl: `https://${host}/oauth2/token`,
                    clientId: "1abcdefghij2klmnop3qrstuv4",
                    clientSecret: "mock-client-secret-0123456789abcdef",
                    accessTokenScheme: "HTTP_BASIC",
                    scopes: ["openid"],
                    domains: [],
                    defaultTokenExpirationInSeconds: 3600,
                },
            },
            skillEndpointArn: `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:smartlamp-function-fn`,
            userPoolId: "us-east-1_AbCdEf123",
            region: "us-east-1",
        });
    });

    it("exports the client secret, and the request body that holds it, as secrets and nothing else as one", async () => {
        assert.equal(await isSecret(run.exports.clientSecret), true);
        assert.equal(await isSecret(run.exports.accountLinkingRequest), true);
        for (const name of ["authorizationUri", "accessTokenUri", "clientId", "skillEndpointArn"]) {
            assert.equal(await isSecret(run.exports[name]), false, name);
        }
    });

    it("runs the skill function on Node.js 24, arm64, with a timeout from Alexa's 8 s to 10 s, with the pool and client in its environment", () => {
        const fn = run.one(FUNCTION).inputs;
        assert.equal(fn.runtime, "nodejs24.x");
        assert.deepEqual(fn.architectures, ["arm64"]);
        assert.equal(fn.memorySize, 256);
        // Alexa waits 8 s for an answer, and Amazon's troubleshooting guide asks for a function
        // timeout of at least that; past it nobody hears the answer, so a longer timeout only holds
        // a concurrency slot in the traffic spikes the same guide warns about (a 2 s margin at most).
        // https://developer.amazon.com/en-US/docs/alexa/smarthome/troubleshooting-guide.html
        assert.ok(fn.timeout >= 8 && fn.timeout <= 10, `timeout ${fn.timeout}`);
        assert.equal(fn.handler, "__index.handler");
        assert.deepEqual(fn.environment.variables, {
            SKILL_USER_POOL_ID: "us-east-1_AbCdEf123",
            SKILL_CLIENT_ID: "1abcdefghij2klmnop3qrstuv4",
            SKILL_LAMP_TABLE: "smartlamp-lamps-tbl",
            SKILL_POOL_JWKS: JSON.stringify(jwksOf(POOL_KEY)),
        });
        assert.equal(fn.loggingConfig.logGroup, "/aws/lambda/smartlamp-logs");
        assert.equal(fn.role, "arn:aws:iam::123456789012:role/smartlamp-role");
    });

    it("ships the skill function's own code and aws-jwt-verify's CommonJS build, nothing more", async () => {
        assert.deepEqual(await archiveEntries(run.one(FUNCTION).inputs.code), ["__index.js", "node_modules/aws-jwt-verify/dist/cjs", "node_modules/aws-jwt-verify/package.json"]);
    });

    it("hands the pool's JWKS, read at deploy time from Cognito's well-known URL, to the function through a resource that keeps it", async () => {
        const fetched: string[] = [];
        const again = await runProgram({ ...PRIMARY_CONFIG }, "dev", { fetched });
        const url = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123/.well-known/jwks.json";
        assert.deepEqual(fetched, [url]);
        const jwks = again.one(POOL_JWKS);
        assert.equal(jwks.inputs.jwksUrl, url);
        assert.match(jwks.parent, /smartlamp:skill:SkillEndpoint/);
        assert.deepEqual(JSON.parse(again.one(FUNCTION).inputs.environment.variables.SKILL_POOL_JWKS), jwksOf(POOL_KEY));
    });

    it("hands over an empty JWKS on a first deployment whose read fails (the function then downloads it at cold start)", async () => {
        const failed = await runProgram({ ...PRIMARY_CONFIG }, "dev", { jwksRead: "fail" });
        assert.equal(failed.one(FUNCTION).inputs.environment.variables.SKILL_POOL_JWKS, "");
    });

    it("gives the function a log group with a retention period and its own narrow role", () => {
        assert.ok(run.one("aws:cloudwatch/logGroup:LogGroup").inputs.retentionInDays > 0);
        // The role's whole shape: trusted by Lambda alone, and nothing else set on it (no managed
        // policy ARNs, inline policies or boundary of its own), so its one RolePolicy is all it may do.
        const role = run.one("aws:iam/role:Role");
        assert.deepEqual(role.inputs, {
            assumeRolePolicy: {
                Version: "2012-10-17",
                Statement: [{ Sid: "AllowAssumeRole", Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "lambda.amazonaws.com" } }],
            },
        });
        assert.equal(run.one(FUNCTION).inputs.role, "arn:aws:iam::123456789012:role/smartlamp-role");
        for (const type of ["aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment", "aws:iam/policy:Policy", "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive"]) {
            assert.equal(run.all(type).length, 0, type);
        }
        assert.equal(run.one(ROLE_POLICY).inputs.role, "smartlamp-role-id", "the policy belongs to the function's role");
        const policy = JSON.parse(run.one(ROLE_POLICY).inputs.policy);
        assert.deepEqual(policy.Statement, [
            { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/smartlamp-logs:*" },
            { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/smartlamp-lamps-tbl" },
        ]);
    });

    it("keeps the lamp table: on-demand, keyed by user, point-in-time recovery, deletion protection and protect", () => {
        const table = run.one(TABLE);
        assert.equal(table.inputs.billingMode, "PAY_PER_REQUEST");
        assert.equal(table.inputs.hashKey, "userId");
        assert.deepEqual(table.inputs.attributes, [{ name: "userId", type: "S" }]);
        assert.deepEqual(table.inputs.pointInTimeRecovery, { enabled: true });
        assert.equal(table.inputs.deletionProtectionEnabled, true);
        assert.equal(table.protect, true);
    });

    it("lets only Alexa's Smart Home service invoke the function, and only for this skill", () => {
        const permission = run.one(PERMISSION).inputs;
        assert.deepEqual(permission, {
            action: "lambda:InvokeFunction",
            function: "smartlamp-function-fn",
            principal: "alexa-connectedhome.amazon.com",
            eventSourceToken: SKILL_ID,
        });
    });

    it("grants no wildcard: every action is named, every resource is this stack's own (log streams aside)", () => {
        const { Statement } = JSON.parse(run.one(ROLE_POLICY).inputs.policy);
        for (const statement of Statement) {
            for (const action of [statement.Action].flat()) {
                assert.doesNotMatch(action, /\*/, `wildcard action ${action}`);
            }
            for (const resource of [statement.Resource].flat()) {
                assert.ok(!resource.includes("*") || /^arn:aws:logs:.*:log-group:[^*]+:\*$/.test(resource), `wildcard resource ${resource}`);
            }
        }
    });

    it("offers no implicit grant and no password flows that bypass the hosted login", () => {
        const client = run.one(CLIENT).inputs;
        assert.ok(!client.allowedOauthFlows.includes("implicit"));
        assert.ok(!client.allowedOauthFlows.includes("client_credentials"));
        assert.ok(!client.explicitAuthFlows.some((flow: string) => /PASSWORD|CUSTOM_AUTH|ADMIN/.test(flow)));
    });

    it("builds every resource inside a component", () => {
        for (const resource of run.resources.filter((r) => r.type.startsWith("aws:"))) {
            assert.match(resource.parent, /smartlamp:(linking:AccountLinking|skill:SkillEndpoint)/, resource.name);
        }
    });
});

describe("stack settings from config", () => {
    it("adds extra callback URLs, scopes and lifetimes as configured", async () => {
        const run = await runProgram({
            ...PRIMARY_CONFIG,
            extraCallbackUrls: '["https://test.example.com/callback"]',
            scopes: '["openid","email","profile"]',
            refreshTokenValidityDays: "400",
            accessTokenValidityMinutes: "15",
        });
        const client = run.one(CLIENT).inputs;
        assert.deepEqual(client.callbackUrls, [...REDIRECTS, "https://test.example.com/callback"]);
        assert.deepEqual(client.allowedOauthScopes, ["openid", "email", "profile"]);
        assert.equal(client.refreshTokenValidity, 400);
        assert.equal(client.accessTokenValidity, 15);
        assert.deepEqual(run.outputs.alexaRedirectUrls, REDIRECTS);
        assert.equal(run.outputs.refreshTokenValidityDays, 400);
    });

    it("requires an authenticator app (TOTP) for every user with mfa ON", async () => {
        const pool = (await runProgram({ ...PRIMARY_CONFIG, mfa: "ON" })).one(POOL).inputs;
        assert.equal(pool.mfaConfiguration, "ON");
        assert.deepEqual(pool.softwareTokenMfaConfiguration, { enabled: true });
    });

    it("uses the configured feature plan and SES identity", async () => {
        const sourceArn = "arn:aws:ses:us-east-1:123456789012:identity/example.com";
        const pool = (await runProgram({ ...PRIMARY_CONFIG, featurePlan: "ESSENTIALS", emailSourceArn: sourceArn, emailFrom: "SmartLamp <no-reply@example.com>" })).one(POOL).inputs;
        assert.equal(pool.userPoolTier, "ESSENTIALS");
        assert.deepEqual(pool.emailConfiguration, { emailSendingAccount: "DEVELOPER", sourceArn, fromEmailAddress: "SmartLamp <no-reply@example.com>" });
    });

    it("uses a configured domain prefix as is", async () => {
        const run = await runProgram({ ...PRIMARY_CONFIG, domainPrefix: "lamp-login" });
        assert.equal(run.one(DOMAIN).inputs.domain, "lamp-login");
        assert.equal(run.outputs.authorizationUri, "https://lamp-login.auth.us-east-1.amazoncognito.com/oauth2/authorize");
    });

    it("serves the OAuth endpoints from a custom domain with its certificate, and says where its alias record points", async () => {
        const certificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/0f3b6c2e-7d14-4c8e-9a55-2b7e8f1d3c90";
        const run = await runProgram({ ...PRIMARY_CONFIG, customDomain: "login.example.com", certificateArn });
        assert.equal(run.one(DOMAIN).inputs.domain, "login.example.com");
        assert.equal(run.one(DOMAIN).inputs.certificateArn, certificateArn);
        assert.equal(run.outputs.accessTokenUri, "https://login.example.com/oauth2/token");
        assert.equal(run.outputs.customDomainTarget, "d111111abcdef8.cloudfront.net");
        assert.equal(run.outputs.customDomainHostedZoneId, "Z2FDTNDATAQYW2");
    });
});

describe("sign-up and the web ACL", () => {
    it("lets anyone sign up by default, and only an administrator make accounts with selfSignUp false", async () => {
        const open = (await runProgram({ ...PRIMARY_CONFIG })).one(POOL).inputs;
        assert.equal(open.adminCreateUserConfig.allowAdminCreateUserOnly, false);
        const inviteOnly = (await runProgram({ ...PRIMARY_CONFIG, selfSignUp: "false" })).one(POOL).inputs;
        assert.equal(inviteOnly.adminCreateUserConfig.allowAdminCreateUserOnly, true);
    });

    it("associates no web ACL unless one is configured", async () => {
        const invokes: { token: string; inputs: Record<string, any> }[] = [];
        const run = await runProgram({ ...PRIMARY_CONFIG }, "dev", { invokes });
        assert.deepEqual(run.all(WEB_ACL_ASSOCIATION), []);
        assert.deepEqual(invokes.filter((i) => i.token.startsWith("aws:wafv2")), []);
    });

    it("associates the configured web ACL with the user pool, after finding it in the account and region, replacing it by deleting first", async () => {
        const arn = webAclArn("login-guard");
        const invokes: { token: string; inputs: Record<string, any> }[] = [];
        const run = await runProgram({ ...PRIMARY_CONFIG, wafWebAclArn: arn }, "dev", { invokes });
        const association = run.one(WEB_ACL_ASSOCIATION);
        assert.equal(association.inputs.resourceArn, `arn:aws:cognito-idp:us-east-1:${ACCOUNT_ID}:userpool/us-east-1_AbCdEf123`);
        assert.equal(association.inputs.webAclArn, arn);
        assert.equal(association.deleteBeforeReplace, true, "a new association made first would be removed by the old one's delete");
        assert.deepEqual(invokes.filter((i) => i.token.startsWith("aws:wafv2")).map((i) => i.inputs), [{ name: "login-guard", scope: "REGIONAL" }]);
    });

    for (const [what, arn, problem] of [
        // (Pulumi's mocks hand the program a failed look-up without AWS's message: "found nothing".)
        ["a web ACL the account does not have", webAclArn("no-such-acl", "us-east-1", WEB_ACLS["login-guard"]),
            'AWS WAF has no regional web ACL named "no-such-acl" that this account can see in this region (the look-up found nothing). ' +
            "Fix: pulumi config set wafWebAclArn <one of the ARNs that `aws wafv2 list-web-acls --scope REGIONAL` lists in the stack's region>"],
        ["a web ACL made again under the same name (a new id)", webAclArn("login-guard", "us-east-1", "11111111-2222-4333-8444-555555555555"),
            `the regional web ACL named "login-guard" here is ${webAclArn("login-guard")}, another one (made again since?). Fix: pulumi config set wafWebAclArn ${webAclArn("login-guard")}`],
    ] as const) {
        it(`refuses ${what} at preview and up, before anything is associated`, async () => {
            const failure = await runProgram({ ...PRIMARY_CONFIG, wafWebAclArn: arn }).then(() => undefined, (err: unknown) => err);
            assert.ok(failure instanceof ProgramFailed, String(failure));
            assert.ok(isConfigError(failure.cause), String(failure.cause));
            assert.equal(failure.cause.problems.length, 1);
            assert.ok(failure.cause.problems[0].startsWith(`wafWebAclArn is ${JSON.stringify(arn)}: `), failure.cause.problems[0]);
            assert.ok(failure.cause.problems[0].includes(problem), failure.cause.problems[0]);
            assert.match(failure.cause.problems[0], /Fix: pulumi config set wafWebAclArn /);
        });
    }
});

describe("a secondary region stack", () => {
    const SECONDARY = { "aws:region": "eu-west-1", alexaSkillId: SKILL_ID, primaryUserPoolId: PRIMARY_OUTPUTS.userPoolId, primaryClientId: PRIMARY_OUTPUTS.clientId };
    let run: ProgramRun;
    before(async () => {
        run = await runProgram(SECONDARY, "dev-eu");
    });

    it("creates only the skill endpoint: function, role, logs, table and permission, no pool", () => {
        const types = run.resources.filter((r) => r.type.startsWith("aws:")).map((r) => r.type).sort();
        assert.deepEqual(types, [
            "aws:cloudwatch/logGroup:LogGroup",
            "aws:dynamodb/table:Table",
            "aws:iam/role:Role",
            "aws:iam/rolePolicy:RolePolicy",
            "aws:lambda/function:Function",
            "aws:lambda/permission:Permission",
        ]);
    });

    it("reads nothing of the primary's state, whose outputs hold the client secret", () => {
        assert.deepEqual(run.all("pulumi:pulumi:StackReference"), []);
    });

    it("looks the primary's pool and client up in the pool's region at every preview and up, before the function gets them", async () => {
        const invokes: { token: string; inputs: Record<string, any> }[] = [];
        const again = await runProgram(SECONDARY, "dev-eu", { invokes });
        assert.deepEqual(invokes.map((i) => [i.token, i.inputs]), [
            ["aws:cognito/getUserPool:getUserPool", { userPoolId: PRIMARY_OUTPUTS.userPoolId }],
            ["aws:cognito/getUserPoolClient:getUserPoolClient", { userPoolId: PRIMARY_OUTPUTS.userPoolId, clientId: PRIMARY_OUTPUTS.clientId }],
        ]);
        // Asked through a provider in the pool's region (us-east-1), not the stack's (eu-west-1).
        const provider = again.one("pulumi:providers:aws");
        assert.deepEqual([provider.name, provider.inputs.region], ["primary-pool-region", "us-east-1"]);
    });

    it("asks through a provider set up as the stack's default one: its profile, roles, accounts and tags, secrets kept secret", async () => {
        const run = await runProgram({
            ...SECONDARY,
            "aws:profile": "lamps-prod",
            "aws:allowedAccountIds": '["123456789012"]',
            "aws:defaultTags": '{"tags":{"team":"lamps"}}',
            "aws:skipMetadataApiCheck": "false",
            "aws:secretKey": "not-for-the-state",
        }, "dev-eu", { secretKeys: ["aws:secretKey"] });
        const provider = run.one("pulumi:providers:aws");
        assert.equal(provider.inputs.region, "us-east-1");
        assert.equal(provider.inputs.profile, "lamps-prod");
        assert.equal(provider.inputs.skipMetadataApiCheck, "false");
        assert.deepEqual(JSON.parse(provider.inputs.allowedAccountIds), ["123456789012"]);
        assert.deepEqual(JSON.parse(provider.inputs.defaultTags), { tags: { team: "lamps" } });
        assert.deepEqual(provider.secretInputs, ["secretKey"]);
    });

    // (Pulumi's mocks hand a failed look-up over without its message; the engine hands AWS's words.)
    for (const [what, change, problem] of [
        ["another pool's client ID", { primaryClientId: "9someone9elses9client9id9" },
            `primaryClientId is "9someone9elses9client9id9": the pool ${PRIMARY_OUTPUTS.userPoolId} has no such app client (the look-up found nothing); ` +
            "it must be the primary stack's clientId output. Fix: pulumi config set primaryClientId \"$(pulumi stack output clientId --stack dev)\""],
        ["the companion app's client ID", { primaryClientId: "5companion6client7id8abcdef" },
            "primaryClientId is \"5companion6client7id8abcdef\": that is the pool's app client \"companion\", not the one Alexa links with (\"alexa\"); " +
            "it must be the primary stack's clientId output. Fix: pulumi config set primaryClientId \"$(pulumi stack output clientId --stack dev)\""],
        ["a pool ID Cognito does not know", { primaryUserPoolId: "us-east-1_Mistyped1" },
            "primaryUserPoolId is \"us-east-1_Mistyped1\": Cognito in us-east-1 has no such user pool that this account can see (the look-up found nothing); " +
            "it must be the primary stack's userPoolId output. Fix: pulumi config set primaryUserPoolId \"$(pulumi stack output userPoolId --stack dev)\""],
    ] as const) {
        it(`refuses ${what} at up, naming the key and the command that gives the right value, before the function is given it`, async () => {
            const failure = await runProgram({ ...SECONDARY, ...change }, "dev-eu").then(() => undefined, (err: unknown) => err);
            assert.ok(failure instanceof ProgramFailed, String(failure));
            assert.ok(isConfigError(failure.cause), String(failure.cause));
            assert.deepEqual(failure.cause.problems, [problem]);
            // The function was never registered with the wrong ID.
            assert.ok(!failure.resources.some((r) => r.type === FUNCTION && r.inputs.environment?.variables?.SKILL_CLIENT_ID === (change as { primaryClientId?: string }).primaryClientId));
        });
    }

    it("verifies tokens of the primary stack's pool and client", () => {
        const env = run.one(FUNCTION).inputs.environment.variables;
        assert.equal(env.SKILL_USER_POOL_ID, PRIMARY_OUTPUTS.userPoolId);
        assert.equal(env.SKILL_CLIENT_ID, PRIMARY_OUTPUTS.clientId);
        assert.deepEqual(JSON.parse(env.SKILL_POOL_JWKS), jwksOf(POOL_KEY));
        assert.equal(run.one(PERMISSION).inputs.eventSourceToken, SKILL_ID);
    });

    it("exports its own function ARN and region and the pool it serves, but no client secret or linking request", async () => {
        assert.deepEqual(run.outputs, {
            skillEndpointArn: `arn:aws:lambda:eu-west-1:${ACCOUNT_ID}:function:smartlamp-function-fn`,
            region: "eu-west-1",
            userPoolId: PRIMARY_OUTPUTS.userPoolId,
            clientId: PRIMARY_OUTPUTS.clientId,
            jwksUri: PRIMARY_OUTPUTS.jwksUri,
        });
        for (const output of Object.values(run.exports)) {
            assert.equal(await isSecret(output), false);
        }
    });
});
