// The Pulumi program (infra/) and the linking check (scripts/checkLinking.ts):
// `npm run mutation:infra`.
import base from "../stryker.config.mjs";

export default {
    ...base,
    mutate: ["infra/**/*.ts", "scripts/checkLinking.ts"],
    incrementalFile: "reports/mutation-infra/incremental.json",
    htmlReporter: { fileName: "reports/mutation-infra/mutation.html" },
    jsonReporter: { fileName: "reports/mutation-infra/mutation.json" },
    reporters: [...base.reporters, "json"],
};
