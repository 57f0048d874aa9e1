// `npm run bench`: what a directive costs the skill Lambda, measured on the archive the stack
// would deploy (built under Pulumi's mocks), with tokens signed by a key made in the run, the JWKS
// served on 127.0.0.1 and DynamoDB = dynalite. Prints a table and writes bench-results.json.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { lampEndpointId } from "../handler/lamp";
import { lambdaRuntimeModules, materialiseArchive } from "../local/lambdaArchive";
import { POOL_KEY, PRIMARY_CONFIG, runProgram } from "../local/pulumiProgram";
import { startDynalite } from "../local/dynalite";
import { startJwksEndpoint } from "../test/support/jwksEndpoint";
import { accessTokenClaims, jwksOf, signToken } from "../local/tokens";
import { zipFolder } from "./bench/zip";

const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 30);
const WARM_CALLS = Number(process.env.BENCH_WARM_CALLS ?? 10000);
const WARM_ROUNDS = Number(process.env.BENCH_WARM_ROUNDS ?? 5);
const CHILD = path.join(__dirname, "bench", "child.js");
const WARM_KINDS = ["Discover, new token", "Discover", "TurnOn", "AdjustBrightness", "ReportState", "AcceptGrant"];

/**
 * The handlers a skill developer would otherwise write (scripts/bench/peer*.js), run by the same
 * child process on the same directives, tokens, JWKS server and dynalite as the archive.
 */
const PEERS: Record<string, string> = {
    "aws-jwt-verify + DocumentClient": path.join(__dirname, "bench", "peerAwsJwtVerify.js"),
    "jsonwebtoken + jwk-to-pem + SDK": path.join(__dirname, "bench", "peerWorkshop.js"),
};
const handlerEnv = (handler: string): Record<string, string> => (handler === "archive" ? {} : { BENCH_HANDLER: PEERS[handler], BENCH_REDIRECT_JWKS: "1" });

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
}

/** Runs a Node process to its end; resolves with its wall time in ms. */
function timedProcess(args: string[], env: Record<string, string>, onLine?: (line: string) => void): Promise<number> {
    return new Promise((resolve, reject) => {
        const start = process.hrtime.bigint();
        const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? "", ...env } });
        let stderr = "";
        let buffered = "";
        child.stdout.on("data", (chunk) => {
            buffered += chunk;
            const lines = buffered.split("\n");
            buffered = lines.pop() ?? "";
            lines.forEach((line) => onLine?.(line));
        });
        child.stderr.on("data", (chunk) => (stderr += chunk));
        child.on("close", (code) => {
            const ms = Number(process.hrtime.bigint() - start) / 1e6;
            if (code === 0) {
                resolve(ms);
            } else {
                reject(new Error(`a benchmark process failed (exit ${code}): ${stderr.split("\n").filter((l) => !/Warning|node >=|upgrade|published|a\.co|trace-warnings|^$|To continue|security updates|More information/.test(l)).join("\n")}`));
            }
        });
    });
}

async function main() {
    const run = await runProgram({ ...PRIMARY_CONFIG });
    const fn = run.one("aws:lambda/function:Function");
    const archive = await materialiseArchive(fn.inputs.code);
    const runtime = lambdaRuntimeModules();
    const dynamo = await startDynalite();
    await dynamo.createLampTable("bench-lamps");
    const jwks = await startJwksEndpoint(jwksOf(POOL_KEY), 1500);
    const results = path.join(archive.dir, "..", `bench-${process.pid}.json`);
    const sub = "bench-user";
    const token = signToken(POOL_KEY, accessTokenClaims(sub, { exp: Math.floor(Date.now() / 1000) + 6 * 3600 }));
    const directives = JSON.stringify({ token, endpointId: lampEndpointId(sub), jwk: POOL_KEY.jwk });
    const freshTokens = path.join(archive.dir, "..", `bench-tokens-${process.pid}.json`);
    fs.writeFileSync(freshTokens, JSON.stringify(Array.from({ length: WARM_CALLS }, (_, i) => signToken(POOL_KEY, accessTokenClaims(`${sub}-${i}`)))));
    const lambdaEnv = (jwksHandedOver: boolean): Record<string, string> => ({
        ...fn.inputs.environment.variables,
        SKILL_LAMP_TABLE: "bench-lamps",
        ...(jwksHandedOver ? {} : { SKILL_POOL_JWKS: "", BENCH_REDIRECT_JWKS: "1" }),
        AWS_REGION: "us-east-1",
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_ACCESS_KEY_ID: "local",
        AWS_SECRET_ACCESS_KEY: "local",
        NODE_PATH: runtime,
        BENCH_ARCHIVE: archive.dir,
        BENCH_DIRECTIVES: directives,
        BENCH_RESULTS: results,
        BENCH_FRESH_TOKENS: freshTokens,
        BENCH_JWKS_PORT: String(jwks.port),
        BENCH_JWKS_CA: jwks.ca,
    });
    const readResults = () => JSON.parse(fs.readFileSync(results, "utf8"));

    // 1. Archive
    const zipped = zipFolder(archive.dir);
    const report: Record<string, any> = {
        machine: { node: process.version, cpus: require("os").cpus().length },
        archive: { zippedBytes: zipped.length, entries: archive.entries },
    };

    // 2. Cold start: whole processes, the archive and both peers interleaved with a bare
    // `node -e ""` in the same round, so that drift of the machine hits every row alike.
    const cold: Record<string, { runs: number[]; downloads: number[] }> = {};
    const bare: number[] = [];
    const variants = [
        { name: "Discover", handler: "archive", event: "Discover", handover: true },
        { name: "TurnOn", handler: "archive", event: "TurnOn", handover: true },
        { name: "Discover, JWKS downloaded", handler: "archive", event: "Discover", handover: false },
        ...Object.keys(PEERS).flatMap((peer) => [
            { name: `Discover [${peer}]`, handler: peer, event: "Discover", handover: false },
            { name: `TurnOn [${peer}]`, handler: peer, event: "TurnOn", handover: false },
        ]),
    ];
    for (let i = 0; i < COLD_RUNS; i++) {
        bare.push(await timedProcess(["-e", ""], {}));
        for (const variant of variants) {
            const ms = await timedProcess([CHILD], { ...lambdaEnv(variant.handover), ...handlerEnv(variant.handler), BENCH_MODE: "cold", BENCH_EVENT: variant.event });
            (cold[variant.name] ??= { runs: [], downloads: [] }).runs.push(ms);
            cold[variant.name].downloads.push(readResults().jwksDownloads);
        }
    }
    const spread = (values: number[]) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values) });
    report.coldStart = {
        bareNode: spread(bare),
        ...Object.fromEntries(Object.entries(cold).map(([name, c]) => [name, {
            ...spread(c.runs),
            overBareNode: median(c.runs) - median(bare),
            jwksDownloads: Math.max(...c.downloads),
        }])),
    };

    // 3 and 4. Warm cost per directive, against the RS256 floor and the peers; DynamoDB requests
    // counted at the server. Each handler runs in WARM_ROUNDS processes, interleaved round by round.
    const requests = () => [...dynamo.requests.entries()].filter(([name]) => name !== "CreateTable").reduce((sum, [, n]) => sum + n, 0);
    const callsPerRound = Math.ceil(WARM_CALLS / WARM_ROUNDS);
    const rounds: Record<string, Record<string, any>[]> = {};
    const counted: Record<string, Record<string, number>> = {};
    for (let round = 0; round < WARM_ROUNDS; round++) {
        for (const handler of ["archive", ...Object.keys(PEERS)]) {
            let startCount = 0;
            const perType = (counted[handler] ??= {});
            await timedProcess([CHILD], { ...lambdaEnv(handler === "archive"), ...handlerEnv(handler), BENCH_MODE: "warm", BENCH_CALLS: String(callsPerRound) }, (line) => {
                const [, phase, kind] = line.split(" ");
                if (phase === "start") {
                    startCount = requests();
                } else if (phase === "end") {
                    const name = kind.replace(/_/g, " ");
                    perType[name] = (perType[name] ?? 0) + requests() - startCount;
                }
            });
            (rounds[handler] ??= []).push(readResults());
        }
    }
    const ofRounds = (handler: string, kind: string, field: string) => median(rounds[handler].map((r) => r[kind][field]));
    const warmOf = (handler: string) => Object.fromEntries(WARM_KINDS.map((kind) => [kind, {
        p50: ofRounds(handler, kind, "p50"),
        p99: ofRounds(handler, kind, "p99"),
        ownP50: ofRounds(handler, kind, "ownP50"),
        ownP99: ofRounds(handler, kind, "ownP99"),
        dynamoRequestsPerDirective: counted[handler][kind] / (callsPerRound * WARM_ROUNDS),
    }]));
    const floor = { p50: ofRounds("archive", "floor", "p50"), p99: ofRounds("archive", "floor", "p99") };
    report.warm = Object.fromEntries(Object.entries(warmOf("archive")).map(([kind, w]) => [kind, { ...w, ownOverFloor: w.ownP50 / floor.p50 }]));
    report.warm.floorRs256Verify = floor;
    report.peers = Object.fromEntries(Object.keys(PEERS).map((peer) => [peer, warmOf(peer)]));

    // 5. Memory
    await timedProcess(["--expose-gc", CHILD], { ...lambdaEnv(true), BENCH_MODE: "memory" });
    const memory = readResults();
    report.memory = {
        marks: memory,
        after1000: memory[1000],
        after100000: memory[100000],
        rssGrowthBytes: memory[100000].rss - memory[1000].rss,
        heapGrowthBytes: memory[100000].heapUsed - memory[1000].heapUsed,
        rssGrowthFrom10000Bytes: memory[100000].rss - memory[10000].rss,
    };

    await dynamo.stop();
    await jwks.stop();
    fs.rmSync(archive.dir, { recursive: true, force: true });
    fs.rmSync(runtime, { recursive: true, force: true });
    fs.rmSync(results, { force: true });
    fs.rmSync(freshTokens, { force: true });
    fs.writeFileSync("bench-results.json", JSON.stringify(report, null, 2) + "\n");
    print(report);
}

function print(report: Record<string, any>) {
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    const us = (v: number) => `${Math.round(v)} µs`;
    const kb = (v: number) => `${(v / 1024).toFixed(1)} KiB`;
    const peers = Object.keys(PEERS);
    const ratios = (ours: number, theirs: number[]) => theirs.map((t) => `${(ours / t).toFixed(2)}x`.padEnd(8)).join(" ");
    console.log(`\nSkill Lambda benchmark (${report.machine.node}, ${report.machine.cpus} cores)\n`);
    console.log(`Archive: ${report.archive.zippedBytes} bytes zipped (${kb(report.archive.zippedBytes)}): ${report.archive.entries.join(", ")}\n`);
    console.log(`Peers: A = ${peers[0]}, B = ${peers[1]} (scripts/bench/peer*.js; JWKS downloaded at cold start)\n`);
    console.log(`Cold start, ${COLD_RUNS} interleaved runs each (median [min..max], whole process)`);
    const { bareNode, ...variants } = report.coldStart;
    console.log(`  ${"bare node -e \"\"".padEnd(60)} ${ms(bareNode.median)} [${ms(bareNode.min)}..${ms(bareNode.max)}]`);
    for (const [name, c] of Object.entries<any>(variants)) {
        const peerRows = /\[/.test(name) ? "" : name.includes("downloaded") ? "" :
            `  = ${ratios(c.overBareNode, peers.map((peer) => variants[`${name} [${peer}]`].overBareNode))}of A, B`;
        console.log(`  ${("first " + name).padEnd(60)} ${ms(c.median)} [${ms(c.min)}..${ms(c.max)}]  +${ms(c.overBareNode)} over bare node, ${c.jwksDownloads} JWKS download(s)${peerRows}`);
    }
    console.log(`\nWarm, ${WARM_CALLS} calls each in ${WARM_ROUNDS} interleaved rounds (median of the rounds' figures)`);
    console.log(`  ${"".padEnd(20)} ${"p50".padEnd(9)} ${"p99".padEnd(9)} ${"own p50".padEnd(9)} ${"own/RS256".padEnd(10)} ${"own p50 / A, B".padEnd(17)} ${"A own p50".padEnd(10)} ${"B own p50".padEnd(10)} DynamoDB requests (ours, A, B)`);
    for (const kind of WARM_KINDS) {
        const w = report.warm[kind];
        const theirs = peers.map((peer) => report.peers[peer][kind]);
        console.log(`  ${kind.padEnd(20)} ${us(w.p50).padEnd(9)} ${us(w.p99).padEnd(9)} ${us(w.ownP50).padEnd(9)} ${w.ownOverFloor.toFixed(2).padEnd(10)} ${ratios(w.ownP50, theirs.map((t) => t.ownP50)).padEnd(17)} ${us(theirs[0].ownP50).padEnd(10)} ${us(theirs[1].ownP50).padEnd(10)} ${[w, ...theirs].map((t) => t.dynamoRequestsPerDirective.toFixed(3)).join(", ")}`);
    }
    console.log(`  ${"RS256 verify".padEnd(20)} ${us(report.warm.floorRs256Verify.p50).padEnd(9)} ${us(report.warm.floorRs256Verify.p99)}   (the floor: crypto.verify of the same token)`);
    const m = report.memory;
    console.log(`\nMemory (after a full GC), directives: RSS / V8 heap reserved / heap used`);
    for (const [count, mark] of Object.entries<any>(m.marks)) {
        console.log(`  ${count.padStart(7)}   ${kb(mark.rss).padStart(12)} / ${kb(mark.heapTotal).padStart(11)} / ${kb(mark.heapUsed)}`);
    }
    console.log(`  growth 1,000 -> 100,000: RSS ${kb(m.rssGrowthBytes)}, heap ${kb(m.heapGrowthBytes)}; 10,000 -> 100,000: RSS ${kb(m.rssGrowthFrom10000Bytes)}`);
    console.log(`\nWritten: bench-results.json`);
}

main().then(() => process.exit(0), (err) => {
    console.error(err);
    process.exit(1);
});
