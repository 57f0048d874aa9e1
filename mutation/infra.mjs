// The infra/ code that works beside the Pulumi program's resources: the SMAPI client, providers,
// manifest and error sentences, the account-linking request, the pool's JWKS read, and
// `npm run check-linking`: `npm run mutation:infra`. The Pulumi program's own declarations are
// mutation/program.mjs. No checker: see partWithoutChecker.
import { partWithoutChecker } from "../stryker.config.mjs";

export default partWithoutChecker("infra", [
    "infra/accountLinkingRequest.ts", "infra/poolJwks.ts", "infra/skillLinking.ts", "infra/skillManifest.ts",
    "infra/skillProviders.ts", "infra/smapiClient.ts", "infra/smapiErrors.ts", "scripts/checkLinking.ts",
], [
    "test/skillManifest.test.ts", "test/smapiClient.test.ts", "test/skillProviders.test.ts", "test/checkLinkingSmapi.test.ts",
    "test/linkingTools.test.ts", "test/poolJwks.test.ts", "test/skillConfiguration.test.ts",
]);
