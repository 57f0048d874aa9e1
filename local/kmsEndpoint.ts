// A stand-in for AWS KMS's Encrypt and Decrypt on 127.0.0.1 (AWS JSON 1.1, X-Amz-Target
// TrentService.Encrypt / TrentService.Decrypt), holding symmetric keys made by the test. There is no
// KMS here; what it models, and where from (docs.aws.amazon.com/kms/latest/APIReference/):
// - Encrypt {KeyId, Plaintext (base64, 1 to 4096 bytes), EncryptionContext}: 200 {CiphertextBlob
//   (base64), KeyId (the key's ARN), EncryptionAlgorithm "SYMMETRIC_DEFAULT"} (API_Encrypt.html)
// - Decrypt {CiphertextBlob, EncryptionContext}: 200 {Plaintext, KeyId}; the ciphertext names its key
//   (KeyId optional for symmetric keys); a context other than the one it was sealed with, or a
//   changed ciphertext: 400 InvalidCiphertextException (API_Decrypt.html)
// - an unknown key: 400 NotFoundException; a disabled key: 400 DisabledException (the API
//   Reference's statuses; AWS's own service model gives 404 and 409: callers must judge by type)
// - a principal the key's policy (and IAM) do not let decrypt: 400 AccessDeniedException; the stand-in
//   knows principals by access key (`denyDecrypt`)
// - a request whose Host or Signature V4 does not hold: refused as AWS refuses it (sigv4.ts)
// The ciphertext format is this stand-in's own (AES-256-GCM, the context as additional data).
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from "crypto";
import { createServer } from "http";
import { interruptible, Interruptible } from "./interruptible";
import { createAwsJsonClient } from "../handler/awsJson";
import { createTokenSeal, KMS_PROTOCOL, TokenSeal } from "../handler/tokenSeal";
import { LOCAL_CREDENTIALS, signatureRefusal } from "./sigv4";
import { requestBody } from "./requestBody";

export interface KmsEndpoint {
    endpoint: string;
    outage: Interruptible;
    /** Makes a key (with this ARN, e.g. one a program run under the mocks named); its ARN. */
    createKey(arn?: string): string;
    /** handler/tokenSeal.ts's seal under `keyArn`, its KMS client pointed here (the tests' credentials). */
    seal(keyArn: string): TokenSeal;
    disableKey(arn: string): void;
    enableKey(arn: string): void;
    /** The principal (by access key) may not decrypt under any key from now on. */
    denyDecrypt(accessKeyId: string): void;
    /** Requests received, by operation. */
    requests: Record<string, number>;
    /**
     * The next `count` Encrypt or Decrypt requests get a 200 with this body, whatever they ask: an
     * answer KMS does not give, as a broken proxy or a changed API would (the client must not take it).
     */
    answerNext(count: number, body: unknown): void;
    stop(): Promise<void>;
}

/** The additional data that binds a ciphertext to its context: the pairs in key order. */
const aad = (context: unknown) => Buffer.from(JSON.stringify(Object.entries((context ?? {}) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1))));

export async function startKmsEndpoint(region = "us-east-1"): Promise<KmsEndpoint> {
    const keys = new Map<string, { material: Buffer; enabled: boolean }>();
    const denied = new Set<string>();
    const requests: Record<string, number> = {};
    let scripted: unknown[] = [];
    let listening = "";
    const server = createServer((req, res) => {
        void requestBody(req).then(async (text): Promise<void> => {
            const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify(body));
            const refuse = (type: string, message: string) => json(400, { __type: type, message });
            const unsigned = await signatureRefusal(req, text, "kms", listening);
            if (unsigned) {
                return void json(unsigned.status, { __type: unsigned.type, message: unsigned.message });
            }
            const operation = String(req.headers["x-amz-target"]).replace(/^TrentService\./, "");
            requests[operation] = (requests[operation] ?? 0) + 1;
            if (req.headers["content-type"] !== "application/x-amz-json-1.1") {
                return void refuse("SerializationException", "The request is not AWS JSON 1.1.");
            }
            if (scripted.length > 0) {
                return void json(200, scripted.shift());
            }
            const input = JSON.parse(text);
            const keyOf = (id: string) => [...keys.keys()].find((arn) => arn === id || arn.endsWith(`/${id}`));
            if (operation === "Encrypt") {
                const arn = keyOf(String(input.KeyId));
                const plaintext = Buffer.from(String(input.Plaintext ?? ""), "base64");
                if (!arn) {
                    return void refuse("NotFoundException", `Key '${input.KeyId}' does not exist`);
                }
                if (!keys.get(arn)!.enabled) {
                    return void refuse("DisabledException", `${arn} is disabled.`);
                }
                if (plaintext.length < 1 || plaintext.length > 4096) {
                    return void refuse("ValidationException", "Plaintext must be 1 to 4096 bytes long.");
                }
                const iv = randomBytes(12);
                const cipher = createCipheriv("aes-256-gcm", keys.get(arn)!.material, iv).setAAD(aad(input.EncryptionContext));
                const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
                const blob = Buffer.from(JSON.stringify({ k: arn, iv: iv.toString("base64"), t: cipher.getAuthTag().toString("base64"), d: data.toString("base64") }));
                return void json(200, { CiphertextBlob: blob.toString("base64"), KeyId: arn, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" });
            }
            if (operation === "Decrypt") {
                const accessKeyId = /Credential=([^/]+)\//.exec(String(req.headers.authorization))?.[1] ?? "";
                if (denied.has(accessKeyId)) {
                    return void json(400, { __type: "AccessDeniedException", message: `User: ${accessKeyId} is not authorized to perform: kms:Decrypt` });
                }
                let sealed: { k: string; iv: string; t: string; d: string };
                try {
                    sealed = JSON.parse(Buffer.from(String(input.CiphertextBlob), "base64").toString("utf8"));
                } catch {
                    return void refuse("InvalidCiphertextException", "");
                }
                const key = keys.get(sealed?.k);
                if (!key) {
                    return void refuse("InvalidCiphertextException", "");
                }
                if (!key.enabled) {
                    return void refuse("DisabledException", `${sealed.k} is disabled.`);
                }
                try {
                    const decipher = createDecipheriv("aes-256-gcm", key.material, Buffer.from(sealed.iv, "base64")).setAAD(aad(input.EncryptionContext));
                    decipher.setAuthTag(Buffer.from(sealed.t, "base64"));
                    const plaintext = Buffer.concat([decipher.update(Buffer.from(sealed.d, "base64")), decipher.final()]);
                    return void json(200, { Plaintext: plaintext.toString("base64"), KeyId: sealed.k, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" });
                } catch {
                    return void refuse("InvalidCiphertextException", "");
                }
            }
            return void refuse("UnknownOperationException", "");
        });
    });
    const outage = await interruptible(server);
    listening = `127.0.0.1:${outage.port}`;
    return {
        endpoint: `http://127.0.0.1:${outage.port}`,
        outage,
        requests,
        createKey(arn = `arn:aws:kms:${region}:123456789012:key/${randomUUID()}`) {
            keys.set(arn, { material: randomBytes(32), enabled: true });
            return arn;
        },
        seal: (keyArn) => createTokenSeal({ keyId: keyArn, kms: createAwsJsonClient(KMS_PROTOCOL, { endpoint: `http://${listening}`, region, credentials: () => LOCAL_CREDENTIALS }) }),
        disableKey: (arn) => void (keys.get(arn)!.enabled = false),
        enableKey: (arn) => void (keys.get(arn)!.enabled = true),
        denyDecrypt: (accessKeyId) => void denied.add(accessKeyId),
        answerNext(count, body) {
            scripted = scripted.concat(Array.from({ length: count }, () => body));
        },
        stop: () => outage.takeDown(),
    };
}
