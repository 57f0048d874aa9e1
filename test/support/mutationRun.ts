// Loaded by `npm run mutation` only (stryker.config.mjs), for two things the instrumented code
// needs from the tests around it.
//
// 1. What a suite's `before` hook runs counts for every test of that suite.
// Stryker's per-test coverage names the running test in a root `beforeEach` (mocha runner,
// `dryRun`: `currentTestId = context.currentTest.fullTitle()`), and the instrumented code counts
// each mutant it reaches under that name (instrumenter, `stryCov_9fa48`: `perTest[currentTestId]`,
// or `static` when no test is named). A `before` hook runs between two tests, so what it reaches
// (a whole Pulumi program under the mocks, a harness's cold start) was counted for the test that
// ran before it, usually in another file: Stryker then tried those mutants against the wrong tests
// and reported them as survivors although the suite's own tests detect them.
//
// 2. The coverage counts stay out of the Lambda code Pulumi serializes. Instrumented functions
// reach Stryker's namespace object, so each CallbackFunction and dynamic provider built by a test
// serialized the counts of every test run so far along with the code: a program run took 20 times
// as long as without Stryker, and the dry run timed out. Pulumi leaves out any object whose
// `doNotCapture` member is true (pulumi/pulumi sdk/nodejs/runtime/closure/createClosure.ts,
// `doNotCapture()`); the serialized namespace then starts its own counts, as at a cold start.
import Mocha from "mocha";

interface StrykerNamespace {
    currentTestId?: string;
    mutantCoverage?: { static: Record<string, number>; perTest: Record<string, Record<string, number>> };
}

type Hook = (this: Mocha.Context) => PromiseLike<unknown>;

const stryker = (): StrykerNamespace | undefined =>
    (globalThis as { __stryker__?: StrykerNamespace }).__stryker__;

function testsOf(suite: Mocha.Suite): Mocha.Test[] {
    return [...suite.tests, ...suite.suites.flatMap(testsOf)];
}

/**
 * Marks the counts object (created by the first instrumented line that runs, then kept for the
 * process) so that Pulumi leaves it out. The mark is not enumerable: it does not travel with the
 * counts to Stryker's main process.
 */
function markCounts(ns: StrykerNamespace): void {
    const counts = ns.mutantCoverage as { doNotCapture?: boolean } | undefined;
    if (counts && !counts.doNotCapture) Object.defineProperty(counts, "doNotCapture", { value: true, enumerable: false });
}

/** Runs `hook` under a name of its own, then adds what it reached to each test of `suite`. */
function creditedToSuite(suite: Mocha.Suite, hook: Hook): Hook {
    return async function (this: Mocha.Context) {
        // The mocha runner creates the namespace before it loads the tests; without it (plain
        // mocha) the hook runs as written.
        const ns = stryker();
        if (!ns) return await hook.call(this);
        markCounts(ns);
        const previous = ns.currentTestId;
        const own = `before hook of ${suite.fullTitle() || "the root suite"}`;
        ns.currentTestId = own;
        try {
            return await hook.call(this);
        } finally {
            ns.currentTestId = previous;
            const reached = ns.mutantCoverage?.perTest[own];
            if (ns.mutantCoverage && reached) {
                delete ns.mutantCoverage.perTest[own];
                for (const test of testsOf(suite)) {
                    const counts = (ns.mutantCoverage.perTest[test.fullTitle()] ??= {});
                    for (const [mutant, hits] of Object.entries(reached)) counts[mutant] = (counts[mutant] ?? 0) + hits;
                }
            }
        }
    };
}

// The bdd interface's `before(title?, fn)` calls `suite.beforeAll(title?, fn)` on the current suite.
// Hooks are called with no `done` argument here: the project's hooks are synchronous or async.
const beforeAll = Mocha.Suite.prototype.beforeAll as (this: Mocha.Suite, title: string, fn?: Hook) => Mocha.Suite;
Mocha.Suite.prototype.beforeAll = function (this: Mocha.Suite, title: string | Hook, fn?: Hook) {
    if (typeof title === "function") return beforeAll.call(this, title.name, creditedToSuite(this, title));
    return beforeAll.call(this, title, fn && creditedToSuite(this, fn));
} as typeof Mocha.Suite.prototype.beforeAll;

// A root hook plugin (mocha loads `mochaHooks` from a required file): tests build programs too.
export const mochaHooks = {
    beforeEach(): void {
        const ns = stryker();
        if (ns) markCounts(ns);
    },
};
