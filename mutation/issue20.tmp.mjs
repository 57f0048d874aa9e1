import base from "./handler.mjs";
export default {
    ...base,
    mutate: ["handler/causes.ts", "handler/eventGateway.ts", "handler/changeReportConsumer.ts", "handler/grantStore.ts", "handler/lwa.ts", "handler/changeReport.ts", "handler/lampStore.ts", "handler/companionApi.ts", "handler/log.ts", "handler/skill.ts", "handler/secret.ts", "handler/acceptGrant.ts"],
    incremental: false,
    jsonReporter: { fileName: "reports/issue20/mutation.json" },
    htmlReporter: { fileName: "reports/issue20/mutation.html" },
};
