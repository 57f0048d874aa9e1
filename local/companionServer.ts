// The companion API run locally: an HTTP server on 127.0.0.1 that turns each request into the
// event API Gateway's HTTP API hands the function (payload format 2.0:
// docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html)
// and the function's answer back into an HTTP response.
import { randomUUID } from "crypto";
import { createServer } from "http";
import { AddressInfo } from "net";
import type { HttpApiEvent, HttpApiResponse } from "../handler/companionApi";

export async function serveLocally(handler: (event: HttpApiEvent) => Promise<HttpApiResponse>, port = 0) {
    const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk) => chunks.push(chunk));
        req.on("end", async () => {
            const url = new URL(req.url ?? "/", "http://localhost");
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(req.headers)) {
                headers[name] = Array.isArray(value) ? value.join(",") : String(value);
            }
            const body = Buffer.concat(chunks);
            const event = {
                version: "2.0",
                routeKey: "$default",
                rawPath: url.pathname,
                rawQueryString: url.search.slice(1),
                headers,
                requestContext: { http: { method: req.method, path: url.pathname, protocol: "HTTP/1.1", sourceIp: "127.0.0.1" }, requestId: randomUUID(), domainName: headers.host, stage: "$default" },
                ...(body.length > 0 ? { body: body.toString("base64"), isBase64Encoded: true } : { isBase64Encoded: false }),
            };
            try {
                const answer = await handler(event);
                res.writeHead(answer.statusCode, answer.headers).end(answer.body);
            } catch {
                // What API Gateway answers when the integration fails (the function crashed or timed out).
                res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ message: "Internal Server Error" }));
            }
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => resolve());
    });
    const address = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${address.port}/`,
        stop: () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        }),
    };
}
