// The Lambda code (handler/) alone: `npm run mutation:handler`. Its checker compiles handler/ only,
// which makes each mutant's check several times quicker than with the Pulumi program's types.
import base, { partFiles } from "../stryker.config.mjs";

export default {
    ...base,
    mutate: ["handler/**/*.ts"],
    tsconfigFile: "mutation/tsconfig.handler.json",
    ...partFiles("handler"),
};
