// The Pulumi program's declarations (the resources, their wiring, the stack's config):
// `npm run mutation:program`. Most of its mutants are detected only by tests that run the whole
// program under the mocks, and a mutant that survives runs every one that reaches it: a whole run
// took 27 minutes here with few survivors (about 30 with 143 of them). No checker: see
// partWithoutChecker.
import { partWithoutChecker } from "../stryker.config.mjs";

export default partWithoutChecker("program", [
    "infra/accountLinking.ts", "infra/alarmNotifications.ts", "infra/alexa.ts", "infra/alexaGrants.ts", "infra/changeReportDelivery.ts",
    "infra/companionApi.ts", "infra/config/*.ts", "infra/functionBasics.ts", "infra/operatorAlarms.ts", "infra/poolWebAcl.ts",
    "infra/primaryPool.ts", "infra/regionProvider.ts", "infra/skillConfiguration.ts", "infra/skillEndpoint.ts",
], [
    "test/config.test.ts", "test/domainPrefix.test.ts", "test/stack.test.ts", "test/companionStack.test.ts",
    "test/eventsStack.test.ts", "test/skillConfiguration.test.ts", "test/enginePreflight.test.ts", "test/regionProvider.test.ts",
]);
