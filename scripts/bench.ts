// `npm run bench`: what a directive costs the skill Lambda, measured on the archive the stack
// would deploy (built under Pulumi's mocks), with tokens signed by a key made in the run, the JWKS
// served on 127.0.0.1 and DynamoDB = dynalite. Prints a table and writes bench-results.json.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { lampEndpointId } from "../handler/lamp";
import { lambdaRuntimeModules, materialiseArchive } from "../test/support/lambdaArchive";
import { POOL_KEY, PRIMARY_CONFIG, runProgram } from "../test/support/pulumiProgram";
import { startDynalite } from "../test/support/dynalite";
import { startJwksEndpoint } from "../test/support/jwksEndpoint";
import { accessTokenClaims, jwksOf, signToken } from "../test/support/tokens";
import { zipFolder } from "./bench/zip";

const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 30);
const WARM_CALLS = Number(process.env.BENCH_WARM_CALLS ?? 10000);
const CHILD = path.join(__dirname, "bench", "child.js");

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
        ...(jwksHandedOver ? {} : { SKILL_POOL_JWKS: "" }),
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

    // 2. Cold start: whole processes, interleaved with a bare `node -e ""` in the same run.
    const cold: Record<string, { runs: number[]; downloads: number[] }> = {};
    const bare: number[] = [];
    const variants = [
        { name: "Discover", event: "Discover", handover: true },
        { name: "TurnOn", event: "TurnOn", handover: true },
        { name: "Discover, JWKS downloaded", event: "Discover", handover: false },
    ];
    for (let i = 0; i < COLD_RUNS; i++) {
        bare.push(await timedProcess(["-e", ""], {}));
        for (const variant of variants) {
            const ms = await timedProcess([CHILD], { ...lambdaEnv(variant.handover), BENCH_MODE: "cold", BENCH_EVENT: variant.event });
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

    // 3 and 4. Warm cost per directive, against the RS256 floor; DynamoDB requests counted at the server.
    const requests = () => [...dynamo.requests.entries()].filter(([name]) => name !== "CreateTable").reduce((sum, [, n]) => sum + n, 0);
    const perType: Record<string, number> = {};
    let startCount = 0;
    await timedProcess([CHILD], { ...lambdaEnv(true), BENCH_MODE: "warm", BENCH_CALLS: String(WARM_CALLS) }, (line) => {
        const [, phase, kind] = line.split(" ");
        if (phase === "start") {
            startCount = requests();
        } else if (phase === "end") {
            perType[kind.replace(/_/g, " ")] = (requests() - startCount) / WARM_CALLS;
        }
    });
    const warm = readResults();
    report.warm = Object.fromEntries(["Discover, new token", "Discover", "TurnOn", "AdjustBrightness", "ReportState", "AcceptGrant"].map((kind) => [kind, {
        ...warm[kind],
        ownOverFloor: warm[kind].ownP50 / warm.floor.p50,
        dynamoRequestsPerDirective: perType[kind],
    }]));
    report.warm.floorRs256Verify = warm.floor;

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
    console.log(`\nSkill Lambda benchmark (${report.machine.node}, ${report.machine.cpus} cores)\n`);
    console.log(`Archive: ${report.archive.zippedBytes} bytes zipped (${kb(report.archive.zippedBytes)}): ${report.archive.entries.join(", ")}\n`);
    console.log(`Cold start, ${COLD_RUNS} runs each (median [min..max], whole process)`);
    const { bareNode, ...variants } = report.coldStart;
    console.log(`  ${"bare node -e \"\"".padEnd(30)} ${ms(bareNode.median)} [${ms(bareNode.min)}..${ms(bareNode.max)}]`);
    for (const [name, c] of Object.entries<any>(variants)) {
        console.log(`  ${("first " + name).padEnd(30)} ${ms(c.median)} [${ms(c.min)}..${ms(c.max)}]  +${ms(c.overBareNode)} over bare node, ${c.jwksDownloads} JWKS download(s)`);
    }
    console.log(`\nWarm, ${WARM_CALLS} calls each     p50       p99       own p50   own/RS256   DynamoDB requests`);
    for (const [kind, w] of Object.entries<any>(report.warm)) {
        if (kind === "floorRs256Verify") continue;
        console.log(`  ${kind.padEnd(20)} ${us(w.p50).padEnd(9)} ${us(w.p99).padEnd(9)} ${us(w.ownP50).padEnd(9)} ${w.ownOverFloor.toFixed(2).padEnd(11)} ${w.dynamoRequestsPerDirective}`);
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
