// A local stand-in for a user pool's hosted domain and JWKS endpoint, on 127.0.0.1, answering as
// Cognito does (see the list in scripts/checkLinking.ts), so that every failure `check-linking`
// diagnoses can be produced on purpose.
import { createServer, Server } from "http";
import { AddressInfo } from "net";
import { requestBody } from "../../local/requestBody";

export interface CognitoSetup {
    clientId: string;
    clientSecret: string;
    callbackUrls: string[];
    scopes: string[];
    /** Answer nothing at all (a hung endpoint). */
    silent?: boolean;
    jwksDown?: boolean;
    /** A JWKS without keys. */
    jwksEmpty?: boolean;
    /** Where the authorize endpoint sends a good request (Cognito: its hosted /login page). */
    loginPath?: string;
    /** What the login page answers: Cognito's HTML form (default), a JSON body, or a 404 without a body type. */
    loginPage?: "html" | "json" | "missing" | "html-error";
    /** A token endpoint that refuses the code grant for this client, or answers with a server error. */
    tokenAnswer?: "unauthorized_client" | "server_error" | "invalid_request";
}

export async function startCognitoEndpoints(setup: CognitoSetup) {
    const server: Server = createServer(async (req, res): Promise<void> => {
        if (setup.silent) {
            return;
        }
        const url = new URL(req.url ?? "/", "http://localhost");
        const redirect = (location: string) => res.writeHead(302, { location }).end();
        const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
        if (req.method === "GET" && url.pathname === "/oauth2/authorize") {
            const params = url.searchParams;
            if (params.get("client_id") !== setup.clientId) {
                return void redirect(`/error?error=invalid_request&client_id=${params.get("client_id")}`);
            }
            if (!setup.callbackUrls.includes(params.get("redirect_uri") ?? "")) {
                return void redirect(`/error?error=redirect_mismatch&client_id=${setup.clientId}`);
            }
            // response_type is required, code or token: without it Cognito sends the user back to
            // the redirect URI with error=invalid_request (Cognito developer guide, "Authorize
            // endpoint", negative responses); another value gets OAuth's unsupported_response_type
            // (RFC 6749 §4.1.2.1). Both carry the state back.
            const responseType = params.get("response_type");
            if (responseType !== "code" && responseType !== "token") {
                const error = responseType ? "unsupported_response_type" : "invalid_request";
                return void redirect(`${params.get("redirect_uri")}?error=${error}&state=${params.get("state")}`);
            }
            if (!(params.get("scope") ?? "").split(" ").every((scope) => setup.scopes.includes(scope))) {
                // Scope errors go back to the client's redirect URI, as OAuth 2.0 has it.
                return void redirect(`${params.get("redirect_uri")}?error=invalid_scope&state=${params.get("state")}`);
            }
            return void redirect(`${setup.loginPath ?? "/login"}?${params.toString()}`);
        }
        if (req.method === "GET" && url.pathname === "/login") {
            if (setup.loginPage === "missing") {
                return void res.writeHead(404).end();
            }
            if (setup.loginPage === "html-error") {
                return void res.writeHead(500, { "content-type": "text/html;charset=UTF-8" }).end("<html>error</html>");
            }
            if (setup.loginPage === "json") {
                return void json(200, { message: "not a login page" });
            }
            return void res.writeHead(200, { "content-type": "text/html;charset=UTF-8" }).end("<html><form name=\"cognitoSignInForm\"><input name=\"username\"/></form></html>");
        }
        if (req.method === "POST" && url.pathname === "/oauth2/token") {
            const [scheme, encoded] = (req.headers.authorization ?? "").split(" ");
            const [id, secret] = Buffer.from(encoded ?? "", "base64").toString().split(":").map(decodeURIComponent);
            const form = new URLSearchParams(await requestBody(req));
            if (scheme !== "Basic" || id !== setup.clientId || secret !== setup.clientSecret) {
                return void json(400, { error: "invalid_client" });
            }
            // Cognito developer guide, "Token endpoint": the body is always form-encoded (the media
            // type; a charset may follow); grant_type is authorization_code, refresh_token or
            // client_credentials; the code grant needs code and redirect_uri. Errors: invalid_request
            // (a parameter missing), unsupported_grant_type, and invalid_grant for a code it did
            // not issue (below).
            if ((req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase() !== "application/x-www-form-urlencoded") {
                return void json(400, { error: "invalid_request" });
            }
            const grantType = form.get("grant_type");
            if (!["authorization_code", "refresh_token", "client_credentials"].includes(grantType ?? "")) {
                return void json(400, { error: grantType ? "unsupported_grant_type" : "invalid_request" });
            }
            if (grantType === "authorization_code" && (!form.get("code") || !form.get("redirect_uri"))) {
                return void json(400, { error: "invalid_request" });
            }
            if (setup.tokenAnswer === "unauthorized_client" || setup.tokenAnswer === "invalid_request") {
                return void json(400, { error: setup.tokenAnswer });
            }
            if (setup.tokenAnswer === "server_error") {
                return void res.writeHead(500, { "content-type": "text/plain" }).end("Internal Server Error");
            }
            return void json(400, { error: "invalid_grant" });
        }
        if (req.method === "GET" && url.pathname.endsWith("/.well-known/jwks.json")) {
            return void (setup.jwksDown ? json(503, { message: "unavailable" }) : json(200, { keys: setup.jwksEmpty ? [] : [{ kid: "k1", kty: "RSA", n: "x", e: "AQAB" }] }));
        }
        res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
        base,
        stop: () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        }),
    };
}
