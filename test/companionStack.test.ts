import { strict as assert } from "assert";
import { ALEXA_CLIENT_ID, ALEXA_CLIENT_SECRET, PRIMARY_CONFIG, PRIMARY_OUTPUTS, ProgramFailed, ProgramRun, runProgram } from "./support/pulumiProgram";

const CLIENT = "aws:cognito/userPoolClient:UserPoolClient";
const FUNCTION = "aws:lambda/function:Function";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const API = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";

describe("a stack with the companion app", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram({ ...PRIMARY_CONFIG, companionApp: "true", alexaClientId: ALEXA_CLIENT_ID, alexaClientSecret: ALEXA_CLIENT_SECRET }, "dev", { secretKeys: ["alexaClientSecret"] });
    });

    it("adds a public companion client on the pool: code grant only, no secret, the page and localhost as callbacks", () => {
        const companion = run.all(CLIENT).find((c) => c.inputs.name === "companion")!;
        assert.equal(companion.inputs.userPoolId, "us-east-1_AbCdEf123");
        assert.equal(companion.inputs.generateSecret, false);
        assert.deepEqual(companion.inputs.allowedOauthFlows, ["code"]);
        assert.deepEqual(companion.inputs.allowedOauthScopes, ["openid"]);
        assert.deepEqual(companion.inputs.callbackUrls, [`${API}/`, "http://localhost:8080/"]);
        assert.ok(!companion.inputs.explicitAuthFlows.some((flow: string) => /PASSWORD|CUSTOM_AUTH|ADMIN/.test(flow)));
    });

    it("exports the page's URL, the API's base URL and the companion client id", () => {
        assert.equal(run.outputs.companionPageUrl, `${API}/`);
        assert.equal(run.outputs.companionApiUrl, `${API}/api`);
        assert.equal(run.outputs.companionClientId, "5companion6client7id8abcdef");
    });

    it("routes the page and the lamp to its function through an HTTP API that alone may invoke it", () => {
        const routes = run.all("aws:apigatewayv2/route:Route").map((r) => r.inputs.routeKey).sort();
        assert.deepEqual(routes, ["GET /", "GET /api/lamp", "GET /favicon.ico", "POST /api/lamp"]);
        const integration = run.one("aws:apigatewayv2/integration:Integration").inputs;
        assert.equal(integration.payloadFormatVersion, "2.0");
        assert.equal(integration.integrationUri, "arn:aws:lambda:us-east-1:123456789012:function:companion-function-fn");
        const permission = run.all("aws:lambda/permission:Permission").find((p) => p.name === "companion-api-trigger")!.inputs;
        assert.equal(permission.principal, "apigateway.amazonaws.com");
        assert.equal(permission.sourceArn, "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/*");
        assert.ok(run.one("aws:apigatewayv2/stage:Stage").inputs.defaultRouteSettings.throttlingRateLimit > 0);
    });

    it("gives the function the skill's lamp table, the companion client and the queue, and a role for exactly those", () => {
        const fn = run.all(FUNCTION).find((f) => f.name === "companion-function")!.inputs;
        assert.equal(fn.environment.variables.COMPANION_CLIENT_ID, "5companion6client7id8abcdef");
        assert.equal(fn.environment.variables.COMPANION_LAMP_TABLE, "smartlamp-lamps-tbl");
        assert.equal(fn.environment.variables.COMPANION_PAGE_URL, `${API}/`);
        assert.equal(fn.environment.variables.COMPANION_AUTH_BASE_URL, "https://" + run.one("aws:cognito/userPoolDomain:UserPoolDomain").inputs.domain + ".auth.us-east-1.amazoncognito.com");
        assert.equal(fn.environment.variables.COMPANION_CHANGE_REPORT_QUEUE_URL, "https://sqs.us-east-1.amazonaws.com/123456789012/alexa-account-linking-dev-change-reports.fifo");
        const policy = JSON.parse(run.all(ROLE_POLICY).find((p) => p.name === "companion-policy")!.inputs.policy);
        assert.deepEqual(policy.Statement.map((s: any) => [s.Action, s.Resource]), [
            [["logs:CreateLogStream", "logs:PutLogEvents"], "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/companion-logs:*"],
            [["dynamodb:GetItem", "dynamodb:UpdateItem"], "arn:aws:dynamodb:us-east-1:123456789012:table/smartlamp-lamps-tbl"],
            [["sqs:SendMessage"], "arn:aws:sqs:us-east-1:123456789012:alexa-account-linking-dev-change-reports.fifo"],
        ]);
    });

    it("builds every resource inside a component of this project", () => {
        for (const resource of run.resources.filter((r) => r.type.startsWith("aws:") && r.type !== "pulumi:providers:aws")) {
            assert.match(resource.parent, /smartlamp:(linking:AccountLinking|skill:SkillEndpoint|events:AlexaGrants|events:ChangeReportDelivery|companion:CompanionApi)/, resource.name);
        }
    });
});

describe("companion app configuration", () => {
    it("is off unless companionApp is true: no second client, no API", async () => {
        const run = await runProgram({ ...PRIMARY_CONFIG });
        assert.equal(run.all(CLIENT).length, 1);
        assert.equal(run.all("aws:apigatewayv2/api:Api").length, 0);
        assert.equal(run.outputs.companionPageUrl, undefined);
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
        assert.equal(run.outputs.companionPageUrl, "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/");
    });
});
