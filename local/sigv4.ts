// What every AWS stand-in here checks of a request before it answers, as AWS does: a Host header
// naming the address the client connected to, port included (RFC 9110, section 7.2: a client sends
// the port when it is not the scheme's default), and a Signature Version 4 that the AWS SDK's own
// signer (@smithy/signature-v4) computes the same from the request as received. An unknown access
// key is refused as AWS refuses it.
// Errors: the Common Errors of the services' API references (IncompleteSignature,
// UnrecognizedClientException, InvalidSignatureException: HTTP 400; MissingAuthenticationToken:
// HTTP 403). The Host refusal's type is this module's own (AWS answers a Host it does not serve with
// a connection to somewhere else, or none).
import type { IncomingMessage } from "http";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

/** The credentials the tests sign with (Lambda's environment, the bench). */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };
/** The example credentials of AWS's Signature V4 documentation, for tests that sign as a user would. */
export const EXAMPLE_CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "session-token-example" };

/** A principal that may read (DynamoDB's, SSM's read-only policies) but has no kms:Decrypt: the KMS stand-in refuses it. */
export const READ_ONLY_CREDENTIALS = { accessKeyId: "AKIDREADONLY", secretAccessKey: "read-only-secret-key" };

const KNOWN_SECRETS: Record<string, string> = {
    [READ_ONLY_CREDENTIALS.accessKeyId]: READ_ONLY_CREDENTIALS.secretAccessKey,
    [LOCAL_CREDENTIALS.accessKeyId]: LOCAL_CREDENTIALS.secretAccessKey,
    [EXAMPLE_CREDENTIALS.accessKeyId]: EXAMPLE_CREDENTIALS.secretAccessKey,
};

export interface SignatureRefusal {
    status: number;
    type: string;
    message: string;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

/**
 * Why AWS would refuse this request's signature, or undefined when it holds: `service` is the
 * signing name the stand-in serves, `listening` the host:port it listens on.
 */
export async function signatureRefusal(req: IncomingMessage, body: string, service: string, listening: string): Promise<SignatureRefusal | undefined> {
    if (req.headers.host !== listening) {
        return { status: 400, type: "WrongHost", message: `The Host header is ${JSON.stringify(req.headers.host)}, not the address this request reached (${listening}).` };
    }
    const match = AUTHORIZATION.exec(String(req.headers.authorization ?? ""));
    if (!match) {
        return req.headers.authorization === undefined
            ? { status: 403, type: "MissingAuthenticationToken", message: "Request is missing Authentication Token" }
            : { status: 400, type: "IncompleteSignature", message: "The request signature does not conform to AWS standards." };
    }
    const [, accessKeyId, , region, signedService, signedHeaders, signature] = match;
    if (signedService !== service) {
        return { status: 400, type: "InvalidSignatureException", message: `Credential should be scoped to correct service: '${service}'.` };
    }
    const secretAccessKey = Object.hasOwn(KNOWN_SECRETS, accessKeyId) ? KNOWN_SECRETS[accessKeyId] : undefined;
    if (secretAccessKey === undefined) {
        return { status: 400, type: "UnrecognizedClientException", message: "The security token included in the request is invalid." };
    }
    const amzDate = String(req.headers["x-amz-date"] ?? "");
    const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!when) {
        return { status: 400, type: "IncompleteSignature", message: "X-Amz-Date is missing or malformed." };
    }
    const headers: Record<string, string> = {};
    for (const name of signedHeaders.split(";")) {
        headers[name] = String(req.headers[name] ?? "");
    }
    const signer = new SignatureV4({
        service,
        region,
        credentials: { accessKeyId, secretAccessKey, sessionToken: req.headers["x-amz-security-token"] as string | undefined },
        sha256: Sha256,
        applyChecksum: false,
    });
    const url = new URL(req.url ?? "/", `http://${listening}`);
    const signed = await signer.sign({
        method: req.method ?? "POST",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port) || undefined,
        path: url.pathname,
        query: {},
        headers,
        body,
    }, { signingDate: new Date(Date.UTC(+when[1], +when[2] - 1, +when[3], +when[4], +when[5], +when[6])) });
    const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization))?.[1];
    if (expected !== signature) {
        return { status: 400, type: "InvalidSignatureException", message: "The request signature we calculated does not match the signature you provided." };
    }
    return undefined;
}
