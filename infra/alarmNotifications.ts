// Where the stack's alarms go: an email address subscribed to a topic the stack makes
// (`alarmEmail`), or a topic of your own (`alarmTopicArn`), e.g. one that already pages someone.
// An alarm without either only shows in the CloudWatch console, where nobody may look.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AlarmNotificationsArgs {
    /** Subscribed by email to a topic made here; the address must confirm the subscription. */
    email?: string;
    /** An existing SNS topic, used as it is (its policy must let CloudWatch publish). */
    topicArn?: string;
    /** The stack's region: where its alarms are. */
    region: string;
}

export class AlarmNotifications extends pulumi.ComponentResource {
    /** What an alarm's `alarmActions` take: the topic's ARN, or nothing. */
    readonly actions: pulumi.Output<string>[];
    readonly topicArn?: pulumi.Output<string>;

    constructor(name: string, args: AlarmNotificationsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("smartlamp:alarms:AlarmNotifications", name, {}, opts);

        if (args.topicArn !== undefined) {
            this.topicArn = pulumi.output(args.topicArn);
        } else if (args.email !== undefined) {
            const topic = new aws.sns.Topic(`${name}-topic`, {}, { parent: this });
            // Alarms publish as the CloudWatch service: allowed here for this account's alarms only
            // (AWS re:Post, "cloudwatch-receive-sns-for-alarm-trigger": sns:Publish for
            // cloudwatch.amazonaws.com, narrowed by the alarm's ARN).
            const caller = aws.getCallerIdentityOutput({}, { parent: this });
            new aws.sns.TopicPolicy(`${name}-policy`, {
                arn: topic.arn,
                policy: pulumi.all([topic.arn, caller.accountId]).apply(([topicArn, account]) => JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "CloudWatchAlarmsOfThisAccount",
                            Effect: "Allow",
                            Principal: { Service: "cloudwatch.amazonaws.com" },
                            Action: "sns:Publish",
                            Resource: topicArn,
                            Condition: { ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:${args.region}:${account}:alarm:*` } },
                        },
                    ],
                })),
            }, { parent: this });
            // The address gets a confirmation email from AWS; until it is confirmed nothing is sent,
            // and AWS deletes a subscription left unconfirmed for 48 hours (`pulumi up --refresh`
            // then makes a new one). An unconfirmed subscription cannot be deleted by the stack; it
            // leaves the state and expires (pulumi-aws, sns.TopicSubscription: protocol email).
            new aws.sns.TopicSubscription(`${name}-email`, { topic: topic.arn, protocol: "email", endpoint: args.email }, { parent: this });
            this.topicArn = topic.arn;
        }
        this.actions = this.topicArn ? [this.topicArn] : [];
        this.registerOutputs({ topicArn: this.topicArn });
    }
}
