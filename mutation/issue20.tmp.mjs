import base from "./handler.mjs";
export default {
    ...base,
    mutate: ["handler/causes.ts", "handler/eventGateway.ts", "handler/changeReportConsumer.ts", "handler/grantStore.ts", "handler/tokenSeal.ts", "handler/lwa.ts", "handler/changeReport.ts", "handler/companionApi.ts", "handler/companionPage.ts", "handler/log.ts", "handler/skill.ts", "handler/secret.ts", "handler/acceptGrant.ts", "handler/token.ts", "handler/index.ts", "handler/alexa.ts", "handler/lamp.ts"],
    incremental: false,
    jsonReporter: { fileName: "reports/targeted/mutation.json" },
    htmlReporter: { fileName: "reports/targeted/mutation.html" },
};
