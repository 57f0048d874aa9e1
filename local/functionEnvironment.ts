// A function's environment when it runs here: the variables the stack gives it, and what Lambda
// and this machine add (the region, credentials, and the address of each service it calls, which
// the functions' AWS JSON client and the LWA and gateway clients read in place of Amazon's).
import { LOCAL_CREDENTIALS } from "./sigv4";

export interface LocalServices {
    dynamoDb: string;
    ssm: string;
    sqs: string;
    kms: string;
    lwaTokenUrl: string;
    gatewayUrl: string;
}

export function localEnvironment(deployed: Record<string, string>, services: LocalServices, region = "us-east-1"): Record<string, string> {
    return {
        ...deployed,
        AWS_REGION: region,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_DYNAMODB: services.dynamoDb,
        AWS_ENDPOINT_URL_SSM: services.ssm,
        AWS_ENDPOINT_URL_SQS: services.sqs,
        AWS_ENDPOINT_URL_KMS: services.kms,
        SKILL_LWA_TOKEN_URL: services.lwaTokenUrl,
        EVENTS_LWA_TOKEN_URL: services.lwaTokenUrl,
        EVENTS_GATEWAY_URL: services.gatewayUrl,
    };
}
