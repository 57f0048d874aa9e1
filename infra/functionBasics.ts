// What every function of the stack has: its own log group and its own role, which only Lambda may
// assume, and the same runtime. Resources keep the names and parent they had when each component made them itself, so
// deployed stacks see no change (a new name or parent would replace the function's log group).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const projectPackage = require("../package.json") as { optionalDependencies?: Record<string, string> };

/**
 * Packages no function carries: the Node.js runtimes the tests run on (package.json's
 * optionalDependencies). A CallbackFunction's archive takes every dependency of package.json,
 * optional ones too (@pulumi/pulumi runtime/closure/codePaths.js reads it through
 * normalize-package-data, which counts them as dependencies), unless it is excluded.
 */
export const PACKAGES_NO_FUNCTION_CARRIES: readonly string[] = Object.keys(projectPackage.optionalDependencies ?? {});

export function functionLogsAndRole(name: string, parent: pulumi.Resource, logRetentionDays = 30) {
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: logRetentionDays }, { parent });
    const role = new aws.iam.Role(`${name}-role`, {
        assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "lambda.amazonaws.com" }),
    }, { parent });
    return { logGroup, role };
}

/**
 * How every function of the stack runs: Node.js 24 on arm64, 256 MB, plain-text logs in its own
 * group. nodejs24.x: in Lambda since November 2025, deprecated from April 30, 2028 (Lambda developer
 * guide, "Lambda runtimes"). Its runtime refuses a handler that takes a third (callback) argument
 * (aws-lambda-nodejs-runtime-interface-client #137; aws-cdk v2.259.0 release notes): every handler
 * here is async (event, context), and local/lambdaArchive.ts calls the archives that way.
 */
export function functionRuntime(logGroup: aws.cloudwatch.LogGroup) {
    return {
        runtime: aws.lambda.Runtime.NodeJS24dX,
        architectures: ["arm64"],
        memorySize: 256,
        loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
    };
}
