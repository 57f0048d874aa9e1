// The companion app: the "companion" app client on the user pool (public, authorization code with
// PKCE), and an API Gateway HTTP API in front of a function that serves the page and the user's
// lamp. Why an HTTP API rather than a function URL: its address exists before the function, so
// the client's callback URL (the page) and the function's client id (for token checks) do not
// wait on each other; it also brings throttling and custom domains. Why the function checks the
// token itself rather than a JWT authorizer: it is the same verifier as the skill's (one
// implementation, tested for real against signed tokens here), and the page's route must stay open.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { COMPANION_ENVIRONMENT, createCompanionFromEnvironment } from "../handler/companionApi";
import { providerInRegion } from "./regionProvider";
import { ARCHIVED_FILES_OF_AWS_JWT_VERIFY } from "./skillEndpoint";
import { functionLogsAndRole, functionRuntime, PACKAGES_NO_FUNCTION_CARRIES } from "./functionBasics";

export interface CompanionApiArgs {
    userPoolId: pulumi.Input<string>;
    /** The hosted domain's base URL, e.g. https://<prefix>.auth.us-east-1.amazoncognito.com */
    authBaseUrl: pulumi.Input<string>;
    /** Set when the pool is in another region than this stack (a secondary stack). */
    poolRegion?: pulumi.Input<string>;
    /** The skill's lamp table: the page shows and changes the same lamp Alexa does. */
    lampTable: aws.dynamodb.Table;
    /** The pool's JWKS as the skill endpoint read it at deploy time ("" when that failed: the function then downloads it). */
    poolJwks: pulumi.Input<string>;
    /** With Alexa events on: the queue each change's ChangeReport goes to. */
    changeReportQueue?: aws.sqs.Queue;
    /** Callback (and sign-out) URLs of the client; empty: the page's own URL. */
    callbackUrls: string[];
    logRetentionDays?: number;
}

/** One JSON line per request; no header, no token, no body. */
export const ACCESS_LOG_FORMAT = {
    requestId: "$context.requestId",
    time: "$context.requestTime",
    ip: "$context.identity.sourceIp",
    method: "$context.httpMethod",
    path: "$context.path",
    status: "$context.status",
    latencyMs: "$context.responseLatency",
    integrationError: "$context.integrationErrorMessage",
};

export class CompanionApi extends pulumi.ComponentResource {
    readonly api: aws.apigatewayv2.Api;
    readonly client: aws.cognito.UserPoolClient;
    readonly role: aws.iam.Role;
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly function: aws.lambda.CallbackFunction<unknown, unknown>;
    readonly pageUrl: pulumi.Output<string>;
    readonly apiBaseUrl: pulumi.Output<string>;
    readonly clientId: pulumi.Output<string>;

    constructor(name: string, args: CompanionApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("smartlamp:companion:CompanionApi", name, {}, opts);

        this.api = new aws.apigatewayv2.Api(`${name}-api`, {
            protocolType: "HTTP",
            description: "SmartLamp companion page and API",
        }, { parent: this });
        this.pageUrl = pulumi.interpolate`${this.api.apiEndpoint}/`;
        this.apiBaseUrl = pulumi.interpolate`${this.api.apiEndpoint}/api`;

        // A page cannot keep a secret: a public client, and PKCE (S256) on every sign-in, which
        // Cognito checks at its token endpoint (Cognito Developer Guide, "Authorization endpoint").
        const poolProvider = args.poolRegion
            ? providerInRegion(`${name}-pool-region`, args.poolRegion, this)
            : undefined;
        this.client = new aws.cognito.UserPoolClient(`${name}-client`, {
            name: "companion",
            userPoolId: args.userPoolId,
            generateSecret: false,
            allowedOauthFlows: ["code"],
            allowedOauthFlowsUserPoolClient: true,
            allowedOauthScopes: ["openid"],
            // A localhost page only when configured: a production client that takes one lets any
            // program on a user's machine receive their sign-in code.
            callbackUrls: args.callbackUrls.length > 0 ? args.callbackUrls : [this.pageUrl],
            // Where Cognito's /logout may send the browser back to: the page's sign-out ends there.
            logoutUrls: args.callbackUrls.length > 0 ? args.callbackUrls : [this.pageUrl],
            supportedIdentityProviders: ["COGNITO"],
            accessTokenValidity: 60,
            idTokenValidity: 60,
            refreshTokenValidity: 30,
            tokenValidityUnits: { accessToken: "minutes", idToken: "minutes", refreshToken: "days" },
            enableTokenRevocation: true,
            preventUserExistenceErrors: "ENABLED",
            explicitAuthFlows: ["ALLOW_REFRESH_TOKEN_AUTH"],
        }, { parent: this, provider: poolProvider });
        this.clientId = this.client.id;

        ({ logGroup: this.logGroup, role: this.role } = functionLogsAndRole(name, this, args.logRetentionDays));

        // Only what the handler does: log, read and update lamp items, queue ChangeReports.
        const policy = new aws.iam.RolePolicy(`${name}-policy`, {
            role: this.role.id,
            policy: pulumi.all([this.logGroup.arn, args.lampTable.arn, args.changeReportQueue?.arn]).apply(([logGroupArn, tableArn, queueArn]) =>
                JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroupArn}:*` },
                        { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: tableArn },
                        ...(queueArn ? [{ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: queueArn }] : []),
                    ],
                })),
        }, { parent: this });

        this.function = new aws.lambda.CallbackFunction(`${name}-function`, {
            callbackFactory: () => createCompanionFromEnvironment(),
            role: this.role,
            ...functionRuntime(this.logGroup),
            timeout: 10,
            environment: {
                variables: {
                    [COMPANION_ENVIRONMENT.userPoolId]: args.userPoolId,
                    [COMPANION_ENVIRONMENT.clientId]: this.client.id,
                    [COMPANION_ENVIRONMENT.tableName]: args.lampTable.name,
                    [COMPANION_ENVIRONMENT.jwks]: args.poolJwks,
                    [COMPANION_ENVIRONMENT.authBaseUrl]: args.authBaseUrl,
                    [COMPANION_ENVIRONMENT.pageUrl]: this.pageUrl,
                    ...(args.changeReportQueue ? { [COMPANION_ENVIRONMENT.queueUrl]: args.changeReportQueue.url } : {}),
                },
            },
            codePathOptions: {
                extraExcludePackages: ["aws-jwt-verify", ...PACKAGES_NO_FUNCTION_CARRIES],
                extraIncludePaths: [...ARCHIVED_FILES_OF_AWS_JWT_VERIFY],
            },
        }, { parent: this, dependsOn: [policy] });

        const integration = new aws.apigatewayv2.Integration(`${name}-integration`, {
            apiId: this.api.id,
            integrationType: "AWS_PROXY",
            integrationUri: this.function.arn,
            payloadFormatVersion: "2.0",
        }, { parent: this });

        for (const routeKey of ["GET /", "GET /favicon.ico", "GET /api/lamp", "POST /api/lamp"]) {
            const slug = routeKey.toLowerCase().replace(/[^a-z]+/g, "-").replace(/-$/, "");
            new aws.apigatewayv2.Route(`${name}-route-${slug}`, {
                apiId: this.api.id,
                routeKey,
                target: pulumi.interpolate`integrations/${integration.id}`,
            }, { parent: this });
        }

        // Who asked what, and what the API answered, before the function (or instead of it: a
        // throttled request never reaches it). For HTTP APIs, a log group's ARN and a format
        // (API Gateway Developer Guide, http-api-logging.html); it must name $context.requestId.
        const accessLogs = new aws.cloudwatch.LogGroup(`${name}-access-logs`, { retentionInDays: args.logRetentionDays ?? 30 }, { parent: this });
        new aws.apigatewayv2.Stage(`${name}-stage`, {
            apiId: this.api.id,
            name: "$default",
            autoDeploy: true,
            // A ceiling for the whole API: a flood of requests costs at most this many invocations.
            defaultRouteSettings: { throttlingBurstLimit: 100, throttlingRateLimit: 50 },
            accessLogSettings: { destinationArn: accessLogs.arn, format: JSON.stringify(ACCESS_LOG_FORMAT) },
        }, { parent: this });

        // API Gateway may invoke the function, only from this API.
        new aws.lambda.Permission(`${name}-api-trigger`, {
            action: "lambda:InvokeFunction",
            function: this.function.name,
            principal: "apigateway.amazonaws.com",
            sourceArn: pulumi.interpolate`${this.api.executionArn}/*/*`,
        }, { parent: this });

        this.registerOutputs({ pageUrl: this.pageUrl, apiBaseUrl: this.apiBaseUrl, clientId: this.clientId });
    }
}
