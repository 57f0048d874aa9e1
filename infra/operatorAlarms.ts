// The alarm for what only the operator can fix: every log line of the stack's functions that says
// `"needs": "operator"` (handler/log.ts, operatorField: a fault of our configuration or our code,
// an AcceptGrant that left a user without a grant, a ChangeReport the companion could not queue).
// The functions write one JSON object per line to stdout, which Lambda hands to CloudWatch Logs as
// one event each, and a JSON filter pattern matches its fields (CloudWatch Logs User Guide, "Filter
// pattern syntax for metric filters", JSON log events).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface OperatorAlarmsArgs {
    /** The functions' log groups, by a short name for each filter. */
    logGroups: Record<string, aws.cloudwatch.LogGroup>;
    /** Where the alarm notifies (SNS topic ARNs). */
    alarmActions: pulumi.Input<string>[];
}

export const OPERATOR_NEEDED_PATTERN = '{ $.needs = "operator" }';
/** Where the stack's own metrics are counted; each metric's name carries the stack. */
export const METRIC_NAMESPACE = "SmartLamp/Events";

/** The project and stack in the letters SQS and CloudWatch take in names: a-z, 0-9, - and _. */
export function stackSlug(): string {
    return `${pulumi.getProject()}-${pulumi.getStack()}`.toLowerCase().replace(/[^a-z0-9_-]+/g, "-");
}

export class OperatorAlarms extends pulumi.ComponentResource {
    readonly alarm: aws.cloudwatch.MetricAlarm;

    constructor(name: string, args: OperatorAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("smartlamp:alarms:OperatorAlarms", name, {}, opts);

        const metricName = `${stackSlug()}-operator-needed`;
        for (const [which, logGroup] of Object.entries(args.logGroups)) {
            new aws.cloudwatch.LogMetricFilter(`${name}-${which}`, {
                logGroupName: logGroup.name,
                pattern: OPERATOR_NEEDED_PATTERN,
                metricTransformation: { name: metricName, namespace: METRIC_NAMESPACE, value: "1", unit: "Count" },
            }, { parent: this });
        }
        this.alarm = new aws.cloudwatch.MetricAlarm(`${name}-alarm`, {
            alarmDescription: "A fault of this stack's configuration or code keeps events from Alexa or a user from their grant: the log lines with \"needs\": \"operator\" say what to fix (README: Alexa events and the companion app)",
            namespace: METRIC_NAMESPACE,
            metricName,
            statistic: "Sum",
            period: 300,
            // In alarm while any of the last three periods had such a line: a fault that recurs
            // with each redelivery (every 6 minutes) keeps it there instead of flapping.
            evaluationPeriods: 3,
            datapointsToAlarm: 1,
            threshold: 0,
            comparisonOperator: "GreaterThanThreshold",
            // No line, no figure: the alarm stays (or goes back to) OK.
            treatMissingData: "notBreaching",
            alarmActions: args.alarmActions,
            okActions: args.alarmActions,
        }, { parent: this });

        this.registerOutputs({ alarm: this.alarm.name });
    }
}
