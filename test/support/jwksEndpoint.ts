// The user pool's JWKS endpoint, played by an HTTPS server on 127.0.0.1 with a certificate made
// for the run. The verifier downloads from it with aws-jwt-verify's own SimpleFetcher (its
// timeouts, status checks and retry), only the address is moved from cognito-idp to here.
import { execFileSync } from "child_process";
import * as fs from "fs";
import { createServer, Server } from "https";
import * as os from "os";
import * as path from "path";
import { SimpleFetcher } from "aws-jwt-verify/https";
import type { Fetcher } from "aws-jwt-verify/https";
import { interruptible } from "../../local/interruptible";

export type JwksMode = "ok" | "down" | "slow" | "error" | "garbage";

export interface JwksEndpoint {
    /** A Fetcher for VerifierSettings: requests for the pool's JWKS go to this server. */
    fetcher: Fetcher;
    setMode(mode: JwksMode): Promise<void>;
    /** Replaces the JWKS the endpoint serves. */
    serve(jwks: unknown): void;
    port: number;
    /** The server's certificate (PEM), to trust it. */
    ca: string;
    /**
     * Downloads the verifier started. Counted at the fetcher, not at the server: SimpleFetcher
     * retries a failed request once at once, so on a loaded machine a request slower than the
     * timeout made two requests of one download, and counts at the server went one too high.
     */
    downloads(): number;
    stop(): Promise<void>;
}

let certificate: { key: string; cert: string } | undefined;

/** A self-signed certificate for 127.0.0.1, made once per run with openssl. */
function localCertificate(): { key: string; cert: string } {
    if (!certificate) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jwks-tls-"));
        execFileSync("openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
        ], { stdio: "ignore" });
        certificate = { key: fs.readFileSync(path.join(dir, "key.pem"), "utf8"), cert: fs.readFileSync(path.join(dir, "cert.pem"), "utf8") };
        fs.rmSync(dir, { recursive: true, force: true });
    }
    return certificate;
}

/** `responseTimeoutMs` plays the part of the function's JWKS timeout (1500 ms deployed). */
export async function startJwksEndpoint(jwks: unknown, responseTimeoutMs = 300): Promise<JwksEndpoint> {
    const tls = localCertificate();
    let body = JSON.stringify(jwks);
    let mode: JwksMode = "ok";
    let downloads = 0;
    const held: NodeJS.Timeout[] = [];
    const server: Server = createServer(tls, (_req, res) => {
        if (mode === "slow") {
            held.push(setTimeout(() => res.writeHead(200).end(body), 5000));
        } else if (mode === "error") {
            res.writeHead(500, { "content-type": "text/plain" }).end("InternalError");
        } else {
            res.writeHead(200, { "content-type": "application/json" }).end(mode === "garbage" ? "{\"keys\": [ not json" : body);
        }
    });
    const outage = await interruptible(server);
    const port = outage.port;
    const close = () => {
        held.forEach(clearTimeout);
        return outage.takeDown();
    };
    const download = new SimpleFetcher({ defaultRequestOptions: { responseTimeout: responseTimeoutMs, ca: tls.cert } });
    return {
        fetcher: {
            fetch: (uri, options, data) => {
                downloads++;
                return download.fetch(uri.replace(/^https:\/\/[^/]+/, `https://127.0.0.1:${port}`), options, data);
            },
        },
        async setMode(next) {
            await (next === "down" ? close() : outage.bringUp());
            mode = next;
        },
        serve(next) {
            body = JSON.stringify(next);
        },
        port,
        ca: tls.cert,
        downloads: () => downloads,
        stop: close,
    };
}
