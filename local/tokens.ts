// Real RS256 key pairs and real signed Cognito-shaped tokens, made in the test run: nothing is
// faked about the cryptography, only the issuer is us.
import type { Jwk, Jwks } from "aws-jwt-verify/jwk";
import { createHmac, createSign, generateKeyPairSync, KeyObject, randomUUID } from "crypto";

export const REGION = "us-east-1";
export const USER_POOL_ID = "us-east-1_AbCdEf123";
export const CLIENT_ID = "1abcdefghij2klmnop3qrstuv4";
export const ISSUER = `https://cognito-idp.${REGION}.amazonaws.com/${USER_POOL_ID}`;
export const JWKS_URI = `${ISSUER}/.well-known/jwks.json`;

export interface SigningKey {
    kid: string;
    privateKey: KeyObject;
    publicKey: KeyObject;
    /** The public key as a JWK, as it stands in the pool's JWKS. */
    jwk: Record<string, string>;
}

export function newSigningKey(kid: string = randomUUID()): SigningKey {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = { ...(publicKey.export({ format: "jwk" }) as Record<string, string>), kid, alg: "RS256", use: "sig" };
    return { kid, privateKey, publicKey, jwk };
}

export function jwksOf(...keys: SigningKey[]): Jwks {
    return { keys: keys.map((key) => key.jwk as unknown as Jwk) };
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/** Claims of a Cognito access token for `sub`, valid for an hour from now. */
export function accessTokenClaims(sub: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return {
        sub,
        iss: ISSUER,
        client_id: CLIENT_ID,
        origin_jti: randomUUID(),
        token_use: "access",
        scope: "openid",
        auth_time: now,
        iat: now,
        exp: now + 3600,
        jti: randomUUID(),
        username: sub,
        version: 2,
        ...overrides,
    };
}

/** A compact JWS signed with RS256 by `key` (its kid in the header unless `header` says otherwise). */
export function signToken(key: SigningKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
    const head = base64url(JSON.stringify({ alg: "RS256", kid: key.kid, ...header }));
    const body = base64url(JSON.stringify(claims));
    const signature = createSign("RSA-SHA256").update(`${head}.${body}`).sign(key.privateKey);
    return `${head}.${body}.${base64url(signature)}`;
}

/** HS256 signed with the RSA public key's PEM as the secret: the classic algorithm-confusion attack. */
export function signWithPublicKeyAsHmacSecret(key: SigningKey, claims: Record<string, unknown>): string {
    const head = base64url(JSON.stringify({ alg: "HS256", kid: key.kid }));
    const body = base64url(JSON.stringify(claims));
    const secret = key.publicKey.export({ format: "pem", type: "spki" });
    return `${head}.${body}.${base64url(createHmac("sha256", secret).update(`${head}.${body}`).digest())}`;
}

/** An unsigned token (`alg: none`). */
export function unsignedToken(key: SigningKey, claims: Record<string, unknown>): string {
    return `${base64url(JSON.stringify({ alg: "none", kid: key.kid }))}.${base64url(JSON.stringify(claims))}.`;
}
