// The Lambda code (handler/) alone: `npm run mutation:handler`. Its checker compiles handler/ only,
// which makes each mutant's check several times quicker than with the Pulumi program's types.
import base from "../stryker.config.mjs";

export default {
    ...base,
    mutate: ["handler/**/*.ts"],
    tsconfigFile: "mutation/tsconfig.handler.json",
    incrementalFile: "reports/mutation-handler/incremental.json",
    htmlReporter: { fileName: "reports/mutation-handler/mutation.html" },
    jsonReporter: { fileName: "reports/mutation-handler/mutation.json" },
    reporters: [...base.reporters, "json"],
};
