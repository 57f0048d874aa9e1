// Mocha root hooks: before the run, stops it under CI when Amazon's schema is missing; after the
// whole run, says how many kinds of response were checked against Amazon's schema (the figure the
// README and issue notes quote).
import { missingAlexaDataUnderCi, validatedKinds } from "./alexaSchema";

export const mochaHooks = {
    beforeAll() {
        const missing = missingAlexaDataUnderCi();
        if (missing) {
            throw new Error(missing);
        }
    },
    afterAll() {
        if (validatedKinds.size > 0) {
            console.log(`\n  ${validatedKinds.size} distinct kinds of response validated against Amazon's schema:\n    ${[...validatedKinds].sort().join("\n    ")}`);
        }
    },
};
