// Mutation testing (npm run mutation): StrykerJS puts small bugs into the code one at a time and
// runs the mocha tests that cover each; a bug that no test notices "survives".
// Options: https://stryker-mutator.io/docs/stryker-js/configuration/
import * as fs from "fs";
import * as path from "path";
import { fileURLToPath } from "url";

const root = path.dirname(fileURLToPath(import.meta.url));
const mocharc = JSON.parse(fs.readFileSync(path.join(root, ".mocharc.json"), "utf8"));

// Stryker runs the tests in a copy of the project under .stryker-tmp/, from where the schema's
// usual place (../shared/alexa beside the project) is out of reach: name it for the test runners
// (they inherit this process's environment). Left alone when already set.
process.env.ALEXA_DIR ??= path.resolve(root, "../shared/alexa");
// The fuzz test covers nearly every line of handler/, so it runs for most mutants: fewer runs per
// mutant keep a full run within the hour (CI still runs 10,000). A fixed seed keeps runs comparable.
process.env.FUZZ_RUNS ??= "100";
process.env.FUZZ_SEED ??= "13";

const REPORTERS = ["clear-text", "progress", "html"];

/** A part's incremental file and reports, all in reports/mutation-<part>/ (mutation/*.mjs). */
export function partFiles(part) {
    const dir = `reports/mutation-${part}`;
    return {
        incrementalFile: `${dir}/incremental.json`,
        htmlReporter: { fileName: `${dir}/mutation.html` },
        jsonReporter: { fileName: `${dir}/mutation.json` },
        reporters: [...REPORTERS, "json"],
    };
}

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
const config = {
    mutate: ["handler/**/*.ts", "infra/**/*.ts", "scripts/checkLinking.ts"],
    testRunner: "mocha",
    // The project's mocha settings, less the two archive tests and the playground's: they run the code Pulumi serializes
    // in a fresh Node process, and Stryker's instrumented code needs the namespace Stryker sets up in
    // each test runner process (the dry run fails there with "reading 'activeMutant'").
    // The spec order puts the quick tests that kill most mutants first (Stryker stops a mutant's run
    // at its first failing test) and the slow floods and outages last.
    mochaOptions: {
        config: ".mocharc.json",
        // A `require` here replaces .mocharc.json's: theirs, and what the instrumented code needs
        // from the tests (test/support/mutationRun.ts says what).
        require: [...mocharc.require, "test/support/mutationRun.ts"],
        spec: [
            "test/skill.test.ts",
            "test/tokenAttacks.test.ts",
            "test/lampStore.test.ts",
            "test/awsJson.test.ts",
            "test/stack.test.ts",
            "test/config.test.ts",
            "test/linkingTools.test.ts",
            "test/alexaSamples.test.ts",
            "test/*.test.ts",
        ],
        ignore: ["test/archive.test.ts", "test/eventsArchive.test.ts", "test/playground.test.ts"],
    },
    checkers: ["typescript"],
    // The checker compiles the code being mutated, not the tests: with the tests in, each mutant's
    // check rebuilt them too, and the checker, not the tests, set the pace (README, Mutation testing).
    tsconfigFile: "mutation/tsconfig.code.json",
    coverageAnalysis: "perTest",
    // A re-run tests only the mutants whose code or covering tests changed since the last run.
    incremental: true,
    incrementalFile: "reports/stryker-incremental.json",
    reporters: REPORTERS,
    htmlReporter: { fileName: "reports/mutation/mutation.html" },
    concurrency: 2,
    // A mutant that makes the tests hang (an endless retry loop, say) counts as detected once its
    // tests take 3 times as long as in the first run plus 10 s. Generous on purpose: on a loaded
    // machine (or with more test runners than the first run had) a tighter limit calls mutants
    // "timed out" whose tests were merely slow, and counts them as detected.
    timeoutMS: 10000,
    timeoutFactor: 3,
    tempDirName: ".stryker-tmp",
};

export default config;

/**
 * A part of infra/ run without Stryker's checker (mutation/infra.mjs, program.mjs): for infra/ the
 * checker needs the Pulumi types and took about 4 s per mutant, longer than the tests, so the
 * survivors are type-checked after the run instead (mutation/typeCheckSurvivors.mjs, run by the
 * part's npm script), and both test runners run tests. Only the tests in `spec` run, in that
 * order: quickest first, as a mutant's run stops at its first failure.
 */
export function partWithoutChecker(part, mutate, spec) {
    return { ...config, mutate, checkers: [], mochaOptions: { ...config.mochaOptions, spec }, ...partFiles(part) };
}
