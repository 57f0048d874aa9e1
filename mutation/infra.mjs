// The infra/ code that works beside the Pulumi program's resources: the SMAPI client, providers,
// manifest and error sentences, the account-linking request, the pool's JWKS read, and
// `npm run check-linking`: `npm run mutation:infra`. The Pulumi program's own declarations are
// mutation/program.mjs.
//
// No checker here: for infra/ it needs the Pulumi types and took about 4 s per mutant, longer
// than these tests; the survivors are type-checked after the run instead
// (mutation/typeCheckSurvivors.mjs, run by the npm script).
import base, { partFiles } from "../stryker.config.mjs";

export default {
    ...base,
    mutate: [
        "infra/accountLinkingRequest.ts", "infra/poolJwks.ts", "infra/skillLinking.ts", "infra/skillManifest.ts",
        "infra/skillProviders.ts", "infra/smapiClient.ts", "infra/smapiErrors.ts", "scripts/checkLinking.ts",
    ],
    checkers: [],
    // Two test runners: without a checker, both cores run tests.
    concurrency: 2,
    mochaOptions: {
        ...base.mochaOptions,
        // The tests that reach this code, quickest first (a mutant's run stops at its first failure).
        spec: [
            "test/skillManifest.test.ts", "test/smapiClient.test.ts", "test/skillProviders.test.ts", "test/checkLinkingSmapi.test.ts",
            "test/linkingTools.test.ts", "test/poolJwks.test.ts", "test/skillConfiguration.test.ts",
        ],
    },
    ...partFiles("infra"),
};
