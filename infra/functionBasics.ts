// What every function of the stack has: its own log group and its own role, which only Lambda may
// assume, and the same runtime. Resources keep the names and parent they had when each component made them itself, so
// deployed stacks see no change (a new name or parent would replace the function's log group).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export function functionLogsAndRole(name: string, parent: pulumi.Resource, logRetentionDays = 30) {
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: logRetentionDays }, { parent });
    const role = new aws.iam.Role(`${name}-role`, {
        assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "lambda.amazonaws.com" }),
    }, { parent });
    return { logGroup, role };
}

/** How every function of the stack runs: Node.js 22 on arm64, 256 MB, plain-text logs in its own group. */
export function functionRuntime(logGroup: aws.cloudwatch.LogGroup) {
    return {
        runtime: aws.lambda.Runtime.NodeJS22dX,
        architectures: ["arm64"],
        memorySize: 256,
        loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
    };
}
