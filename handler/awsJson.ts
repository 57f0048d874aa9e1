// The functions' AWS client: the AWS JSON protocol over HTTPS, signed with Signature Version 4,
// with the credentials and region that Lambda puts in the environment. DynamoDB, SQS and SSM
// Parameter Store all speak it (only the signing name, target prefix and content type differ:
// `AwsJsonProtocol`), and the functions need a handful of their operations. It exists for the cold
// start: loading the AWS SDK's DynamoDB client takes about 100 ms, this takes well under one.
// Protocol: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/Welcome.html
// Signing: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html
import { createHash, createHmac } from "crypto";
import * as http from "http";
import * as https from "https";

export interface Credentials {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
}

export interface AwsJsonSettings {
    region: string;
    /** Default: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, or the region's public endpoint. */
    endpoint?: string;
    /** Default: Lambda's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. */
    credentials?: () => Credentials;
    /** Tries per request (retrying throttling, server errors and network failures). */
    maxAttempts?: number;
    /** Milliseconds one try may take, from connecting to the last byte. */
    attemptTimeoutMs?: number;
}

/** An AWS service's answer to a request it refused; `name` is its error type, e.g. ConditionalCheckFailedException. */
export class AwsJsonError extends Error {
    constructor(readonly name: string, message: string, readonly status: number, readonly body: Record<string, unknown>) {
        super(message);
    }
    /** The item as it was, when a condition failed with ReturnValuesOnConditionCheckFailure ALL_OLD. */
    get Item(): unknown {
        return this.body.Item;
    }
}

export type DynamoDbCall = <T = Record<string, unknown>>(operation: "GetItem" | "UpdateItem" | "PutItem" | "DeleteItem" | "Scan", input: object) => Promise<T>;

/** Any AWS JSON-protocol service: `operation` is the part of X-Amz-Target after the prefix. */
export type AwsJsonCall = <T = Record<string, unknown>>(operation: string, input: object) => Promise<T>;

/** What tells one AWS JSON-protocol service from another. */
export interface AwsJsonProtocol {
    /** The SigV4 signing name, e.g. "dynamodb", "sqs", "ssm". */
    service: string;
    /** X-Amz-Target's prefix, e.g. "DynamoDB_20120810", "AmazonSQS", "AmazonSSM". */
    targetPrefix: string;
    /** "application/x-amz-json-1.0" or "application/x-amz-json-1.1". */
    contentType: string;
    /** The service-specific endpoint variable of the AWS SDKs, e.g. AWS_ENDPOINT_URL_SQS. */
    endpointVariable: string;
    /** Name used in error messages. */
    displayName: string;
}

const DYNAMODB_PROTOCOL: AwsJsonProtocol = {
    service: "dynamodb",
    targetPrefix: "DynamoDB_20120810",
    contentType: "application/x-amz-json-1.0",
    endpointVariable: "AWS_ENDPOINT_URL_DYNAMODB",
    displayName: "DynamoDB",
};

// DynamoDB's, SQS's (RequestThrottled) and SSM's throttling and server-side error types.
const RETRYABLE = ["RequestThrottled", "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable", "LimitExceededException"];

const sha256 = (data: string) => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();

export function environmentCredentials(env: NodeJS.ProcessEnv = process.env): Credentials {
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
        throw new Error("no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)");
    }
    return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
}

/**
 * The derived signing key depends only on the day, region and secret, so a client keeps the last
 * one. (Per client, never in a module-level variable: Pulumi would serialize its deploy-time value
 * into the Lambda archive.)
 */
export type SigningKeys = (secret: string, day: string, region: string) => Buffer;

export function signingKeys(service: string): SigningKeys {
    let last: { id: string; key: Buffer } | undefined;
    return (secret, day, region) => {
        const id = `${day}/${region}/${secret}`;
        if (last?.id !== id) {
            last = { id, key: hmac(hmac(hmac(hmac("AWS4" + secret, day), region), service), "aws4_request") };
        }
        return last.key;
    };
}

/** The headers that sign an AWS JSON request with Signature Version 4 (default: DynamoDB's). */
export function signedHeaders(
    url: URL,
    target: string,
    body: string,
    region: string,
    credentials: Credentials,
    now: Date,
    keys?: SigningKeys,
    protocol: Pick<AwsJsonProtocol, "service" | "contentType"> = DYNAMODB_PROTOCOL,
): Record<string, string> {
    keys ??= signingKeys(protocol.service);
    const amzDate = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    const day = amzDate.slice(0, 8);
    const headers: Record<string, string> = {
        "content-type": protocol.contentType,
        host: url.host,
        "x-amz-date": amzDate,
        "x-amz-target": target,
        ...(credentials.sessionToken ? { "x-amz-security-token": credentials.sessionToken } : {}),
    };
    const names = Object.keys(headers).sort();
    const canonicalRequest = [
        "POST",
        url.pathname || "/",
        "",
        ...names.map((name) => `${name}:${headers[name]}`),
        "",
        names.join(";"),
        sha256(body),
    ].join("\n");
    const scope = `${day}/${region}/${protocol.service}/aws4_request`;
    const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
    const signature = createHmac("sha256", keys(credentials.secretAccessKey, day, region)).update(stringToSign).digest("hex");
    return {
        ...headers,
        authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
    };
}

/** A JSON object body, {} for an empty one, undefined for anything else. */
function parseBody(text: string): Record<string, unknown> | undefined {
    if (text === "") {
        return {};
    }
    try {
        const parsed: unknown = JSON.parse(text);
        return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
    } catch {
        return undefined;
    }
}

export function createDynamoDb(settings: AwsJsonSettings): DynamoDbCall {
    return createAwsJsonClient(DYNAMODB_PROTOCOL, settings);
}

export function createAwsJsonClient(protocol: AwsJsonProtocol, settings: AwsJsonSettings): AwsJsonCall {
    const endpoint = new URL(settings.endpoint ?? process.env[protocol.endpointVariable] ?? process.env.AWS_ENDPOINT_URL ?? `https://${protocol.service}.${settings.region}.amazonaws.com`);
    const secure = endpoint.protocol === "https:";
    const transport = secure ? https : http;
    // Keep-alive: after the first directive, a request is one round trip on an open TLS connection.
    const agent = new transport.Agent({ keepAlive: true, maxSockets: 50 });
    const credentials = settings.credentials ?? (() => environmentCredentials());
    const maxAttempts = settings.maxAttempts ?? 3;
    const attemptTimeoutMs = settings.attemptTimeoutMs ?? 1500;
    const keys = signingKeys(protocol.service);

    function attempt(operation: string, body: string): Promise<{ status: number; text: string }> {
        const headers = signedHeaders(endpoint, `${protocol.targetPrefix}.${operation}`, body, settings.region, credentials(), new Date(), keys, protocol);
        return new Promise((resolve, reject) => {
            const request = transport.request(endpoint, { method: "POST", agent, headers: { ...headers, "content-length": Buffer.byteLength(body) } }, (response) => {
                let text = "";
                response.setEncoding("utf8");
                response.on("data", (chunk: string) => (text += chunk));
                response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
                response.on("error", reject);
            });
            const timer = setTimeout(() => request.destroy(new Error(`no answer from ${protocol.displayName} within ${attemptTimeoutMs} ms`)), attemptTimeoutMs);
            request.on("close", () => clearTimeout(timer));
            request.on("error", reject);
            request.end(body);
        });
    }

    return async function call<T>(operation: string, input: object): Promise<T> {
        const body = JSON.stringify(input);
        for (let tries = 1; ; tries++) {
            let failure: Error;
            try {
                const { status, text } = await attempt(operation, body);
                const parsed = parseBody(text);
                if (status === 200 && parsed !== undefined) {
                    return parsed as T;
                }
                // An answer arrived, so it is classified by its status whatever its body: a proxy's
                // HTML error page for a 4xx stands like DynamoDB's own refusal. A 200 that is not
                // JSON is not retried either: the write it answers may have been applied.
                const fields = parsed ?? {};
                const type = String(fields.__type ?? (status === 200 ? "InvalidResponse" : `HTTP${status}`)).split("#").pop()!;
                failure = new AwsJsonError(type, String(fields.message ?? fields.Message ?? `${protocol.displayName} answered ${status}${parsed === undefined ? " with a body that is not JSON" : ""}`), status, fields);
            } catch (err) {
                failure = err instanceof Error ? err : new Error(String(err));
            }
            // DynamoDB's refusals (a failed condition, a validation error) stand; throttling,
            // server errors and network failures get another try.
            if (failure instanceof AwsJsonError && failure.status < 500 && !RETRYABLE.includes(failure.name)) {
                throw failure;
            }
            if (tries >= maxAttempts) {
                throw failure;
            }
            // Full jitter on an exponential base: 25, 50, 100 ms at the most.
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * 2 ** (tries - 1)));
        }
    };
}

// Exported here rather than at its declaration: uses inside this module then refer to the local
// constant, which Pulumi's closure serialization captures by value (not `exports.NAME`).
export { DYNAMODB_PROTOCOL, RETRYABLE };
