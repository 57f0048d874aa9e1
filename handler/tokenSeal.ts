// Each user's LWA tokens are kept sealed: encrypted with the stack's own KMS key before they are
// stored, so that reading the grants table (a role with read-only access to DynamoDB, a backup, an
// export) shows ciphertext only. Opening them needs kms:Decrypt on that key, which this stack gives
// to its functions alone (infra/alexaGrants.ts). The encryption context names the user: a sealed
// value moved to another user's item does not open.
// Protocol: AWS JSON 1.1, X-Amz-Target TrentService.Encrypt / TrentService.Decrypt
// (docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html, API_Decrypt.html): the plaintext
// and the ciphertext travel base64 encoded; a plaintext holds at most 4096 bytes; a symmetric
// ciphertext names its key, so Decrypt needs none.
import { AwsJsonCall, AwsJsonProtocol, createAwsJsonClient } from "./awsJson";

const KMS_PROTOCOL: AwsJsonProtocol = {
    service: "kms",
    targetPrefix: "TrentService",
    contentType: "application/x-amz-json-1.1",
    endpointVariable: "AWS_ENDPOINT_URL_KMS",
    displayName: "KMS",
};

export interface TokenSeal {
    /** The text encrypted under the key, for `userId` only, base64. */
    seal(userId: string, text: string): Promise<string>;
    /** The text `seal` sealed for `userId`; fails for any other user. */
    open(userId: string, sealed: string): Promise<string>;
}

export interface TokenSealSettings {
    /** The key's ARN (or ID). */
    keyId: string;
    kms?: AwsJsonCall;
    /** Each try's limit, of two (default 1000 ms). */
    attemptTimeoutMs?: number;
}

/**
 * What a sealed value is bound to: the grant's user. (Not named `context`: Pulumi's closure
 * serialization leaves out a name the deploying process has as a global, and mocha, for one, has
 * a global `context`.)
 */
const grantContext = (userId: string) => ({ "smartlamp:grant-of": userId });

export function createTokenSeal(settings: TokenSealSettings): TokenSeal {
    let kms = settings.kms;
    // Two short tries: AcceptGrant answers Alexa within 8 s, the consumer within its own budget.
    const client = () => (kms ??= createAwsJsonClient(KMS_PROTOCOL, { region: process.env.AWS_REGION ?? "us-east-1", maxAttempts: 2, attemptTimeoutMs: settings.attemptTimeoutMs ?? 1000 }));
    return {
        async seal(userId, text) {
            const out = await client()<{ CiphertextBlob?: unknown }>("Encrypt", {
                KeyId: settings.keyId,
                Plaintext: Buffer.from(text, "utf8").toString("base64"),
                EncryptionContext: grantContext(userId),
            });
            if (typeof out.CiphertextBlob !== "string" || out.CiphertextBlob.length === 0) {
                throw Object.assign(new Error("KMS answered Encrypt without a ciphertext"), { name: "InvalidResponse" });
            }
            return out.CiphertextBlob;
        },
        async open(userId, sealed) {
            const out = await client()<{ Plaintext?: unknown }>("Decrypt", { CiphertextBlob: sealed, EncryptionContext: grantContext(userId) });
            if (typeof out.Plaintext !== "string") {
                throw Object.assign(new Error("KMS answered Decrypt without a plaintext"), { name: "InvalidResponse" });
            }
            return Buffer.from(out.Plaintext, "base64").toString("utf8");
        },
    };
}

// Exported here rather than at its declaration (see handler/lamp.ts).
export { KMS_PROTOCOL };
