// A mocha root hook: after the whole run, says how many kinds of response were checked against
// Amazon's schema (the figure the README and issue notes quote).
import { validatedKinds } from "./alexaSchema";

export const mochaHooks = {
    afterAll() {
        if (validatedKinds.size > 0) {
            console.log(`\n  ${validatedKinds.size} distinct kinds of response validated against Amazon's schema:\n    ${[...validatedKinds].sort().join("\n    ")}`);
        }
    },
};
