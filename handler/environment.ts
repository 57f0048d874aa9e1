// What each function entry reads from the environment the stack sets: shared by the skill, the
// companion API and the ChangeReport consumer.
import type { Jwks } from "aws-jwt-verify/jwk";

/** A variable the stack always sets; its absence means the function was deployed without it. */
export function requiredVariable(env: NodeJS.ProcessEnv, name: string, functionName: string): string {
    const value = env[name];
    if (!value) {
        throw new Error(`${functionName} needs the environment variable ${name}; redeploy the stack to set it.`);
    }
    return value;
}

/** The pool's JWKS as the stack handed it over, or undefined (then it is downloaded). */
export function handedOverJwks(text: string | undefined): Jwks | undefined {
    if (!text) {
        return undefined;
    }
    try {
        const jwks = JSON.parse(text);
        return Array.isArray(jwks?.keys) && jwks.keys.length > 0 ? jwks : undefined;
    } catch {
        return undefined;
    }
}
