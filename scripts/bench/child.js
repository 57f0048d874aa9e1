// One Lambda-like Node process for the benchmark: it loads the archive's __index.js as Lambda
// does (module path = the archive + NODE_PATH with the runtime's AWS SDK), or one of the peers
// (BENCH_HANDLER: a file exporting `handler`), and runs one mode.
//   BENCH_MODE=cold    answer BENCH_EVENT once, then exit (the parent times the whole process)
//   BENCH_MODE=warm    time each directive type over BENCH_CALLS calls, and the RS256 floor
//   BENCH_MODE=memory  RSS and heap after 1,000 and after 100,000 directives
// Requests for the pool's JWKS (cognito-idp) are counted and sent to BENCH_JWKS_PORT on 127.0.0.1.
"use strict";
const fs = require("fs");
const path = require("path");

// Only runs that may download the JWKS (BENCH_REDIRECT_JWKS=1) load Node's https here, to send
// cognito-idp's address to 127.0.0.1 and count the downloads: loading it in every run would add
// its load time to cold starts that never need it. A run without it that tried to download would
// reach for the real cognito-idp, fail, and stop the benchmark: its 0 downloads are real.
let jwksDownloads = 0;
if (process.env.BENCH_REDIRECT_JWKS === "1") {
    const https = require("https");
    const realRequest = https.request;
    https.request = function (url, options, callback) {
        if (typeof url === "string" && url.startsWith("https://cognito-idp.")) {
            jwksDownloads++;
            const local = url.replace(/^https:\/\/[^/]+/, `https://127.0.0.1:${process.env.BENCH_JWKS_PORT}`);
            return realRequest.call(https, local, { ...options, ca: process.env.BENCH_JWKS_CA }, callback);
        }
        return realRequest.apply(https, arguments);
    };
}

const quiet = () => {
    // The handler writes one log line per directive to fd 1; the benchmark keeps stdout for its
    // markers. (Dropping the lines also spares the writes' system calls: the figures are the
    // handler's work, not the log pipe's.)
    const writeSync = fs.writeSync;
    fs.writeSync = (fd, ...rest) => (fd === 1 ? String(rest[0]).length : writeSync(fd, ...rest));
};
// Before the handler is loaded, which may keep a reference to fs.writeSync.
if (process.env.BENCH_MODE === "warm" || process.env.BENCH_MODE === "memory") {
    quiet();
}

const { handler } = require(process.env.BENCH_HANDLER || path.join(process.env.BENCH_ARCHIVE, "__index.js"));
const env = JSON.parse(process.env.BENCH_DIRECTIVES);

let adjustments = 0;
function directive(kind, token = env.token) {
    const header = (namespace, name) => ({ namespace, name, payloadVersion: "3", messageId: require("crypto").randomUUID(), correlationToken: "c" });
    const endpoint = { endpointId: env.endpointId, scope: { type: "BearerToken", token: env.token } };
    switch (kind) {
        case "Discover": return { directive: { header: header("Alexa.Discovery", "Discover"), payload: { scope: { type: "BearerToken", token } } } };
        case "TurnOn": return { directive: { header: header("Alexa.PowerController", "TurnOn"), endpoint, payload: {} } };
        // Alternating +1 and -1 keeps the level inside 1..100: the common path, not the clamp.
        case "AdjustBrightness": return { directive: { header: header("Alexa.BrightnessController", "AdjustBrightness"), endpoint, payload: { brightnessDelta: (adjustments++ % 2) * 2 - 1 } } };
        case "ReportState": return { directive: { header: header("Alexa", "ReportState"), endpoint, payload: {} } };
        case "AcceptGrant": return { directive: { header: header("Alexa.Authorization", "AcceptGrant"), payload: { grant: { type: "OAuth2.AuthorizationCode", code: "c" }, grantee: { type: "BearerToken", token: env.token } } } };
    }
    throw new Error(kind);
}

function percentile(sorted, p) {
    return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function cold() {
    const response = await handler(directive(process.env.BENCH_EVENT), {});
    if (response.event.header.name === "ErrorResponse") {
        throw new Error("cold directive failed: " + JSON.stringify(response.event.payload));
    }
    fs.writeFileSync(process.env.BENCH_RESULTS, JSON.stringify({ jwksDownloads }));
}

async function warm() {
    const calls = Number(process.env.BENCH_CALLS);
    // DynamoDB's share of a directive: from sending a request to its last byte, on the client's
    // (keep-alive) sockets, whatever module makes them.
    let dynamoNs = 0;
    const http = require("http");
    const realHttpRequest = http.request;
    http.request = function () {
        const start = process.hrtime.bigint();
        const request = realHttpRequest.apply(http, arguments);
        request.on("response", (response) => response.on("end", () => (dynamoNs += Number(process.hrtime.bigint() - start))));
        return request;
    };
    const results = {};
    // "Discover, new token": every call carries a token the container has not verified yet, as
    // when a user's token was just refreshed; the others repeat one token, as Alexa does for an hour.
    const freshTokens = JSON.parse(fs.readFileSync(process.env.BENCH_FRESH_TOKENS, "utf8"));
    const kinds = {};
    for (const kind of ["Discover", "TurnOn", "AdjustBrightness", "ReportState", "AcceptGrant"]) kinds[kind] = () => directive(kind);
    kinds["Discover, new token"] = (i) => directive("Discover", freshTokens[i]);
    for (const [kind, make] of Object.entries(kinds)) {
        for (let i = 0; i < 200; i++) await handler(directive(kind.split(",")[0]), {});
        const events = Array.from({ length: calls }, (_, i) => make(i));
        process.stdout.write(`BENCH start ${kind.replace(/ /g, "_")}\n`);
        await sleep(200);
        const total = [];
        const own = [];
        for (const event of events) {
            const dynamoBefore = dynamoNs;
            const start = process.hrtime.bigint();
            await handler(event, {});
            const elapsed = Number(process.hrtime.bigint() - start);
            total.push(elapsed / 1000);
            own.push((elapsed - (dynamoNs - dynamoBefore)) / 1000);
        }
        process.stdout.write(`BENCH end ${kind.replace(/ /g, "_")}\n`);
        await sleep(200);
        total.sort((a, b) => a - b);
        own.sort((a, b) => a - b);
        results[kind] = { p50: percentile(total, 50), p99: percentile(total, 99), ownP50: percentile(own, 50), ownP99: percentile(own, 99) };
    }
    // The floor: a bare RS256 signature check of the same token with Node's crypto.
    const crypto = require("crypto");
    const [head, body, signature] = env.token.split(".");
    const key = crypto.createPublicKey({ key: env.jwk, format: "jwk" });
    const data = Buffer.from(`${head}.${body}`);
    const sig = Buffer.from(signature, "base64url");
    const floor = [];
    for (let i = 0; i < calls + 200; i++) {
        const start = process.hrtime.bigint();
        if (!crypto.verify("RSA-SHA256", data, key, sig)) throw new Error("floor verify failed");
        if (i >= 200) floor.push(Number(process.hrtime.bigint() - start) / 1000);
    }
    floor.sort((a, b) => a - b);
    results.floor = { p50: percentile(floor, 50), p99: percentile(floor, 99) };
    fs.writeFileSync(process.env.BENCH_RESULTS, JSON.stringify(results));
}

async function memory() {
    const mix = ["Discover", "Discover", "Discover", "Discover", "Discover", "Discover", "ReportState", "TurnOn", "AdjustBrightness", "AcceptGrant"];
    const snapshot = () => {
        global.gc();
        const usage = process.memoryUsage();
        return { rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external };
    };
    const marks = {};
    for (let i = 1; i <= 100000; i++) {
        await handler(directive(mix[i % mix.length]), {});
        if ([1000, 10000, 25000, 50000, 75000, 100000].includes(i)) marks[i] = snapshot();
    }
    fs.writeFileSync(process.env.BENCH_RESULTS, JSON.stringify(marks));
}

({ cold, warm, memory })[process.env.BENCH_MODE]()
    .then(() => process.exit(0))
    .catch((err) => {
        process.stderr.write(String(err && err.stack) + "\n");
        process.exit(1);
    });
