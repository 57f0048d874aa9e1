import { strict as assert } from "assert";
import { archiveEntries } from "../local/lambdaArchive";
import { ALEXA_CLIENT_ID, ALEXA_CLIENT_SECRET, PRIMARY_CONFIG, PRIMARY_OUTPUTS, ProgramFailed, ProgramRun, runProgram } from "../local/pulumiProgram";

const CLIENT = "aws:cognito/userPoolClient:UserPoolClient";
const FUNCTION = "aws:lambda/function:Function";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const API = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";

describe("a stack with the companion app", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram({ ...PRIMARY_CONFIG, companionApp: "true", alexaClientId: ALEXA_CLIENT_ID, alexaClientSecret: ALEXA_CLIENT_SECRET, alarmEmail: "ops@example.com" }, "dev", { secretKeys: ["alexaClientSecret"] });
    });

    it("adds a public companion client on the pool: code grant only, no secret, the page alone as callback and sign-out URL (no localhost), hour-long tokens, a revocable 30-day refresh token", () => {
        const companion = run.all(CLIENT).find((c) => c.inputs.name === "companion")!;
        assert.deepEqual(companion.inputs, {
            name: "companion",
            userPoolId: "us-east-1_AbCdEf123",
            generateSecret: false,
            allowedOauthFlows: ["code"],
            allowedOauthFlowsUserPoolClient: true,
            allowedOauthScopes: ["openid"],
            callbackUrls: [`${API}/`],
            logoutUrls: [`${API}/`],
            supportedIdentityProviders: ["COGNITO"],
            accessTokenValidity: 60,
            idTokenValidity: 60,
            refreshTokenValidity: 30,
            tokenValidityUnits: { accessToken: "minutes", idToken: "minutes", refreshToken: "days" },
            enableTokenRevocation: true,
            preventUserExistenceErrors: "ENABLED",
            // No password, custom or admin flow: a user signs in on the hosted page only.
            explicitAuthFlows: ["ALLOW_REFRESH_TOKEN_AUTH"],
        });
    });

    it("exports the page's URL, the API's base URL and the companion client id", () => {
        assert.equal(run.outputs.companionPageUrl, `${API}/`);
        assert.equal(run.outputs.companionApiUrl, `${API}/api`);
        assert.equal(run.outputs.companionClientId, "5companion6client7id8abcdef");
    });

    it("routes the page and the lamp to its function through an HTTP API that alone may invoke it", () => {
        assert.deepEqual(run.one("aws:apigatewayv2/api:Api").inputs, { protocolType: "HTTP", description: "SmartLamp companion page and API" });
        assert.deepEqual(run.one("aws:apigatewayv2/integration:Integration").inputs, {
            apiId: "a1b2c3d4e5",
            integrationType: "AWS_PROXY",
            integrationUri: "arn:aws:lambda:us-east-1:123456789012:function:companion-function-fn",
            payloadFormatVersion: "2.0",
        });
        // A route's name is its identity in the stack: a new name would replace it.
        const target = "integrations/companion-integration-id";
        assert.deepEqual(run.all("aws:apigatewayv2/route:Route").map((r) => [r.name, r.inputs]), [
            ["companion-route-get", { apiId: "a1b2c3d4e5", routeKey: "GET /", target }],
            ["companion-route-get-favicon-ico", { apiId: "a1b2c3d4e5", routeKey: "GET /favicon.ico", target }],
            ["companion-route-get-api-lamp", { apiId: "a1b2c3d4e5", routeKey: "GET /api/lamp", target }],
            ["companion-route-post-api-lamp", { apiId: "a1b2c3d4e5", routeKey: "POST /api/lamp", target }],
        ]);
        // The default stage serves the API at its own address, deployed on every change, with a
        // ceiling, and logs every request to a log group of its own, kept 30 days.
        const accessLogs = run.all("aws:cloudwatch/logGroup:LogGroup").find((g) => g.name === "companion-access-logs")!;
        assert.deepEqual(accessLogs.inputs, { retentionInDays: 30 });
        const stage = run.one("aws:apigatewayv2/stage:Stage").inputs;
        assert.deepEqual({ ...stage, accessLogSettings: { ...stage.accessLogSettings, format: JSON.parse(stage.accessLogSettings.format) } }, {
            apiId: "a1b2c3d4e5",
            name: "$default",
            autoDeploy: true,
            defaultRouteSettings: { throttlingBurstLimit: 100, throttlingRateLimit: 50 },
            accessLogSettings: {
                destinationArn: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/companion-access-logs",
                // What the API Gateway access log requires ($context.requestId), and nothing of the request's headers or body.
                format: {
                    requestId: "$context.requestId", time: "$context.requestTime", ip: "$context.identity.sourceIp", method: "$context.httpMethod",
                    path: "$context.path", status: "$context.status", latencyMs: "$context.responseLatency", integrationError: "$context.integrationErrorMessage",
                },
            },
        });
        assert.deepEqual(run.all("aws:lambda/permission:Permission").find((p) => p.name === "companion-api-trigger")!.inputs, {
            action: "lambda:InvokeFunction",
            function: "companion-function-fn",
            principal: "apigateway.amazonaws.com",
            sourceArn: "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/*",
        });
    });

    it("runs its function like the skill's: Node.js 24 on arm64, text logs in its own group, aws-jwt-verify's CommonJS build only, created after its policy", async () => {
        const fn = run.all(FUNCTION).find((f) => f.name === "companion-function")!;
        assert.equal(fn.inputs.runtime, "nodejs24.x");
        assert.deepEqual(fn.inputs.architectures, ["arm64"]);
        assert.equal(fn.inputs.memorySize, 256);
        assert.equal(fn.inputs.timeout, 10);
        assert.deepEqual(fn.inputs.loggingConfig, { logFormat: "Text", logGroup: "/aws/lambda/companion-logs" });
        assert.deepEqual(await archiveEntries(fn.inputs.code), ["__index.js", "node_modules/aws-jwt-verify/dist/cjs", "node_modules/aws-jwt-verify/package.json"]);
        // The function's own calls (logs, the lamp table, the queue) need the policy: an update that
        // brings new code and new permissions together (Alexa events switched on) must not run the
        // code before the policy exists. (IAM changes also take seconds to reach every service.)
        const policy = run.all(ROLE_POLICY).find((p) => p.name === "companion-policy")!;
        assert.ok(fn.dependencies.includes(policy.urn), "the function does not wait for its policy");
    });

    it("gives the function the skill's lamp table, the companion client and the queue, and a role for exactly those", () => {
        const fn = run.all(FUNCTION).find((f) => f.name === "companion-function")!.inputs;
        assert.equal(fn.environment.variables.COMPANION_CLIENT_ID, "5companion6client7id8abcdef");
        assert.equal(fn.environment.variables.COMPANION_LAMP_TABLE, "smartlamp-lamps-tbl");
        assert.equal(fn.environment.variables.COMPANION_PAGE_URL, `${API}/`);
        assert.equal(fn.environment.variables.COMPANION_AUTH_BASE_URL, "https://" + run.one("aws:cognito/userPoolDomain:UserPoolDomain").inputs.domain + ".auth.us-east-1.amazoncognito.com");
        assert.equal(fn.environment.variables.COMPANION_CHANGE_REPORT_QUEUE_URL, "https://sqs.us-east-1.amazonaws.com/123456789012/alexa-account-linking-dev-change-reports.fifo");
        assert.deepEqual(JSON.parse(run.all(ROLE_POLICY).find((p) => p.name === "companion-policy")!.inputs.policy), {
            Version: "2012-10-17",
            Statement: [
                { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/companion-logs:*" },
                { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/smartlamp-lamps-tbl" },
                { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: "arn:aws:sqs:us-east-1:123456789012:alexa-account-linking-dev-change-reports.fifo" },
            ],
        });
    });

    it("builds every resource inside a component of this project", () => {
        for (const resource of run.resources.filter((r) => r.type.startsWith("aws:") && r.type !== "pulumi:providers:aws")) {
            assert.match(resource.parent, /smartlamp:(linking:AccountLinking|skill:SkillEndpoint|events:AlexaGrants|events:ChangeReportDelivery|companion:CompanionApi|alarms:AlarmNotifications|alarms:OperatorAlarms)/, resource.name);
        }
    });

    it("counts the companion's lines that need the operator (a ChangeReport it could not queue) with the other functions'", () => {
        const filter = run.all("aws:cloudwatch/logMetricFilter:LogMetricFilter").find((f) => f.name === "operator-alarms-companion");
        assert.deepEqual(filter?.inputs, {
            logGroupName: "/aws/lambda/companion-logs",
            pattern: '{ $.needs = "operator" }',
            metricTransformation: { name: "alexa-account-linking-dev-operator-needed", namespace: "SmartLamp/Events", value: "1", unit: "Count" },
        });
    });
});

describe("companion app configuration", () => {
    it("is off unless companionApp is true: no second client, no API", async () => {
        const run = await runProgram({ ...PRIMARY_CONFIG });
        assert.equal(run.all(CLIENT).length, 1);
        assert.equal(run.all("aws:apigatewayv2/api:Api").length, 0);
        assert.equal(run.outputs.companionPageUrl, undefined);
    });

    it("without Alexa events, lets the function log and use the lamp table only, and names no queue", async () => {
        const run = await runProgram({ ...PRIMARY_CONFIG, companionApp: "true" });
        assert.deepEqual(JSON.parse(run.all(ROLE_POLICY).find((p) => p.name === "companion-policy")!.inputs.policy).Statement.map((s: any) => s.Action), [
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        ]);
        const variables = run.all(FUNCTION).find((f) => f.name === "companion-function")!.inputs.environment.variables;
        assert.equal(variables.COMPANION_CHANGE_REPORT_QUEUE_URL, undefined);
    });

    it("uses configured callback URLs instead of the defaults, and refuses plain http other than localhost", async () => {
        const run = await runProgram({ ...PRIMARY_CONFIG, companionApp: "true", companionCallbackUrls: '["https://lamp.example.com/","http://localhost:3000/"]' });
        assert.deepEqual(run.all(CLIENT).find((c) => c.inputs.name === "companion")!.inputs.callbackUrls, ["https://lamp.example.com/", "http://localhost:3000/"]);
        await assert.rejects(runProgram({ ...PRIMARY_CONFIG, companionApp: "true", companionCallbackUrls: '["http://lamp.example.com/"]' }), (err: unknown) =>
            err instanceof ProgramFailed && /companionCallbackUrls .*http:\/\/lamp\.example\.com/.test(String(err.cause)));
    });

    it("creates a secondary stack's companion client on the primary's pool, in the pool's region", async () => {
        const secondary = { "aws:region": "eu-west-1", alexaSkillId: PRIMARY_CONFIG.alexaSkillId, primaryUserPoolId: PRIMARY_OUTPUTS.userPoolId, primaryClientId: PRIMARY_OUTPUTS.clientId, companionApp: "true" };
        await assert.rejects(runProgram(secondary, "dev-eu"), (err: unknown) =>
            err instanceof ProgramFailed && /primaryAuthorizationUri is not set.*stack output authorizationUri --stack dev/.test(String(err.cause)));
        const run = await runProgram({ ...secondary, primaryAuthorizationUri: PRIMARY_OUTPUTS.authorizationUri }, "dev-eu");
        const companion = run.all(CLIENT).find((c) => c.inputs.name === "companion")!;
        assert.equal(companion.inputs.userPoolId, "us-east-1_AbCdEf123");
        const provider = run.all("pulumi:providers:aws").find((p) => p.name === "companion-pool-region")!;
        assert.equal(provider.inputs.region, "us-east-1");
        assert.match(provider.parent, /smartlamp:companion:CompanionApi::companion$/);
        // The client is made through that provider (a provider reference is "<urn>::<id>").
        assert.ok(companion.provider.startsWith(provider.urn + "::"), companion.provider);
        assert.equal(run.outputs.companionPageUrl, "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/");
    });
});
