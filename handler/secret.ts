// The skill's Alexa Client Secret, kept in SSM Parameter Store as a SecureString under the stack's
// own KMS key (infra/alexaGrants.ts), and read only when LWA is asked (AcceptGrant, and a token
// refresh about once an hour per user), then kept for the container's life. Why not the function's
// environment: anyone allowed lambda:GetFunctionConfiguration (read-only consoles often are) reads
// environment variables in plain text. Reading the parameter takes ssm:GetParameter on it and
// kms:Decrypt on the key, which the stack gives to the functions that talk to LWA and to nobody
// else (read-only policies grant ssm:Get* but not kms:Decrypt). Why not Secrets Manager: the same
// protection at a monthly price per secret, and the same one request.
// The cost: one GetParameter (~20-40 ms in-region) on the first LWA call of a container, never on
// a directive's path. Protocol: AWS JSON 1.1, X-Amz-Target AmazonSSM.GetParameter
// (docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html).
import { AwsJsonCall, AwsJsonProtocol, createAwsJsonClient } from "./awsJson";
import type { LwaCredentials } from "./lwa";

const SSM_PROTOCOL: AwsJsonProtocol = {
    service: "ssm",
    targetPrefix: "AmazonSSM",
    contentType: "application/x-amz-json-1.1",
    endpointVariable: "AWS_ENDPOINT_URL_SSM",
    displayName: "SSM",
};

export interface SecretSettings {
    parameterName: string;
    ssm?: AwsJsonCall;
}

/** Reads the parameter on first use and keeps it; a failed read is tried again next time. */
export function createSecretReader(settings: SecretSettings): () => Promise<string> {
    let ssm = settings.ssm;
    let value: Promise<string> | undefined;
    const read = async () => {
        ssm ??= createAwsJsonClient(SSM_PROTOCOL, { region: process.env.AWS_REGION ?? "us-east-1", maxAttempts: 2, attemptTimeoutMs: 1000 });
        const out = await ssm<{ Parameter?: { Value?: unknown } }>("GetParameter", { Name: settings.parameterName, WithDecryption: true });
        const secret = out.Parameter?.Value;
        if (typeof secret !== "string" || secret.length === 0) {
            throw Object.assign(new Error(`the parameter ${settings.parameterName} holds no value; set alexaClientSecret and redeploy`), { name: "EmptyParameter" });
        }
        return secret;
    };
    return () => {
        value ??= read().catch((err) => {
            value = undefined;
            throw err;
        });
        return value;
    };
}

/** The LWA client's credentials: the id from the environment, the secret read when first needed. */
export function lwaCredentials(clientId: string, secretParameter: string): () => Promise<LwaCredentials> {
    const secret = createSecretReader({ parameterName: secretParameter });
    return async () => ({ clientId, clientSecret: await secret() });
}

// Exported here rather than at its declaration (see handler/lamp.ts).
export { SSM_PROTOCOL };
