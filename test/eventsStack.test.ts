import { strict as assert } from "assert";
import { ConfigError, loadConfig } from "../infra/config";
import { archiveEntries } from "../local/lambdaArchive";
import { planDeletes } from "./support/pulumiDeployment";
import { ALEXA_CLIENT_ID, ALEXA_CLIENT_SECRET, isSecret, PRIMARY_CONFIG, ProgramFailed, ProgramRun, runProgram } from "../local/pulumiProgram";

const FUNCTION = "aws:lambda/function:Function";
const TABLE = "aws:dynamodb/table:Table";
const PARAMETER = "aws:ssm/parameter:Parameter";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";

const EVENTS_CONFIG = { ...PRIMARY_CONFIG, alexaClientId: ALEXA_CLIENT_ID, alexaClientSecret: ALEXA_CLIENT_SECRET, alarmEmail: "ops@example.com" };

/** Everything the program registered and exported, as text, to look for the secret in. */
function plainText(run: ProgramRun, except: (type: string) => boolean = () => false): string {
    return JSON.stringify(run.resources.filter((r) => !except(r.type)).map((r) => r.inputs)) + JSON.stringify(run.outputs);
}

describe("a stack with Alexa events on", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram(EVENTS_CONFIG, "dev", { secretKeys: ["alexaClientSecret"] });
    });

    it("keeps the grants table on-demand, keyed by user, with point-in-time recovery and deletion protection, and leaves it in AWS when it leaves the stack", () => {
        const grants = run.all(TABLE).find((t) => t.name.startsWith("alexa-grants"));
        assert.ok(grants, "no grants table");
        assert.deepEqual(grants.inputs, {
            billingMode: "PAY_PER_REQUEST",
            hashKey: "userId",
            attributes: [{ name: "userId", type: "S" }],
            pointInTimeRecovery: { enabled: true },
            deletionProtectionEnabled: true,
            // What alexaGrantsTable checks before it takes a table for a grants table, and the key
            // its tokens are sealed with.
            tags: { "smartlamp:purpose": "alexa-grants", "smartlamp:grants-key": "arn:aws:kms:us-east-1:123456789012:key/alexa-grants-key-0f3b6c2e" },
        });
        // retainOnDelete, not protect: switching events off must not fail the `up` (see below);
        // and a change that would replace the table (a new, empty one) is not applied.
        assert.deepEqual([grants.retainOnDelete, grants.protect], [true, false]);
        assert.deepEqual(grants.ignoreChanges, ["name", "hashKey", "rangeKey", "attributes", "localSecondaryIndexes"]);
        assert.equal(run.outputs.alexaGrantsTableName, "alexa-grants-table-tbl");
    });

    it("keeps the Alexa Client Secret in an SSM SecureString and hands the function only its name", async () => {
        const parameter = run.one(PARAMETER);
        assert.equal(parameter.inputs.type, "SecureString");
        assert.equal(parameter.inputs.description, "The Alexa skill's Alexa Client Secret (Login with Amazon), for AcceptGrant and token refreshes");
        // Registered as a secret: the engine receives Pulumi's secret signature around the value
        // (sdk/nodejs/runtime/rpc.ts, specialSigKey / specialSecretSig), so state encrypts it.
        assert.deepEqual(parameter.inputs.value, { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: ALEXA_CLIENT_SECRET });
        const env = run.all(FUNCTION).find((f) => f.name === "smartlamp-function")!.inputs.environment.variables;
        assert.equal(env.SKILL_ALEXA_CLIENT_ID, ALEXA_CLIENT_ID);
        assert.equal(env.SKILL_ALEXA_SECRET_PARAMETER, "/alexa-grants-alexa-client-secret");
        assert.equal(env.SKILL_GRANTS_TABLE, "alexa-grants-table-tbl");
        assert.ok(!plainText(run, (type) => type === PARAMETER).includes(ALEXA_CLIENT_SECRET), "the secret appears outside its parameter");
    });

    it("passes the secret to the parameter as a Pulumi secret, so state holds it encrypted", async () => {
        // The mocks see plain values; the Output the program reads is what the engine receives.
        const config = loadConfig(); // the configuration set by this describe's runProgram
        assert.ok(config.alexaEvents && !config.alexaEvents.fromSkill);
        assert.equal(await isSecret(config.alexaEvents.credentials.clientSecret), true);
    });

    it("lets the skill function write grants and read the secret's parameter, nothing more", () => {
        const policy = JSON.parse(run.all(ROLE_POLICY).find((p) => p.name === "smartlamp-policy")!.inputs.policy);
        assert.deepEqual(policy.Statement.slice(2), [
            { Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/alexa-grants-table-tbl" },
            { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: "arn:aws:ssm:us-east-1:123456789012:parameter/alexa-grants-alexa-client-secret" },
            { Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt"], Resource: "arn:aws:kms:us-east-1:123456789012:key/alexa-grants-key-0f3b6c2e" },
        ]);
    });

    it("seals the grants and the secret under a key of the stack's own, whose policy leaves decrypting to IAM (AWS's default), and keeps it when events leave", () => {
        const key = run.one("aws:kms/key:Key");
        assert.deepEqual({ ...key.inputs, policy: JSON.parse(key.inputs.policy) }, {
            description: "Seals the Alexa event grants (LWA tokens) and the skill's Alexa Client Secret of this stack",
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: {
                Version: "2012-10-17",
                Statement: [{ Sid: "AdministratorsThroughIam", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "kms:*", Resource: "*" }],
            },
        });
        assert.deepEqual([key.retainOnDelete, key.protect], [true, false]);
        assert.equal(run.one(PARAMETER).inputs.keyId, "arn:aws:kms:us-east-1:123456789012:key/alexa-grants-key-0f3b6c2e");
        const env = run.all(FUNCTION).map((f) => f.inputs.environment?.variables ?? {});
        assert.deepEqual(env.map((e) => e.SKILL_GRANTS_KEY ?? e.EVENTS_GRANTS_KEY).filter(Boolean), Array(2).fill("arn:aws:kms:us-east-1:123456789012:key/alexa-grants-key-0f3b6c2e"));
        // Only the two functions that talk to LWA may use it.
        const mayUse = run.all(ROLE_POLICY).filter((p) => JSON.parse(p.inputs.policy).Statement.some((st: { Action: string[] }) => st.Action.some((a) => a.startsWith("kms:"))));
        assert.deepEqual(mayUse.map((p) => p.name).sort(), ["change-reports-policy", "smartlamp-policy"]);
    });
});

describe("Alexa events configuration", () => {
    it("leaves events off when neither value is set, or both are the declared default \"\"", async () => {
        for (const config of [PRIMARY_CONFIG, { ...PRIMARY_CONFIG, alexaClientId: "", alexaClientSecret: "" }]) {
            const run = await runProgram({ ...config });
            assert.equal(run.all(PARAMETER).length, 0);
            assert.equal(run.all(TABLE).length, 1);
            assert.equal(run.one(FUNCTION).inputs.environment.variables.SKILL_ALEXA_CLIENT_ID, undefined);
        }
    });

    it("refuses a client id without its secret, naming the command that sets it as a secret", async () => {
        await assert.rejects(runProgram({ ...PRIMARY_CONFIG, alexaClientId: ALEXA_CLIENT_ID }), (err: unknown) =>
            err instanceof ProgramFailed && /alexaClientSecret is not set.*pulumi config set --secret alexaClientSecret/.test(String(err.cause)));
    });

    it("refuses a malformed client id and never quotes the secret in the message", async () => {
        await assert.rejects(runProgram({ ...EVENTS_CONFIG, alexaClientId: "my-client" }, "dev", { secretKeys: ["alexaClientSecret"] }), (err: unknown) => {
            const text = String((err as ProgramFailed).cause);
            return /alexaClientId is "my-client"/.test(text) && !text.includes(ALEXA_CLIENT_SECRET);
        });
    });
});

describe("ChangeReport delivery in a stack with Alexa events on", () => {
    let run: ProgramRun;
    const QUEUE = "aws:sqs/queue:Queue";
    before(async () => {
        run = await runProgram(EVENTS_CONFIG, "dev", { secretKeys: ["alexaClientSecret"] });
    });

    it("queues events in a FIFO queue that hands what it cannot deliver to a FIFO dead-letter queue, both left in AWS when they leave the stack", () => {
        const [deadLetters, queue] = run.all(QUEUE);
        // Lambda's SQS guide: a visibility timeout of at least six times the function's timeout.
        const consumer = run.all(FUNCTION).find((f) => f.name === "change-reports-consumer")!;
        assert.equal(queue.inputs.visibilityTimeoutSeconds, 6 * consumer.inputs.timeout);
        assert.deepEqual(queue.inputs, {
            name: "alexa-account-linking-dev-change-reports.fifo",
            fifoQueue: true,
            // High-throughput FIFO: deduplication and throughput per message group (one per user).
            deduplicationScope: "messageGroup",
            fifoThroughputLimit: "perMessageGroupId",
            visibilityTimeoutSeconds: 360,
            messageRetentionSeconds: 14 * 24 * 3600,
            sqsManagedSseEnabled: true,
            redrivePolicy: JSON.stringify({ deadLetterTargetArn: "arn:aws:sqs:us-east-1:123456789012:alexa-account-linking-dev-change-reports-dlq.fifo", maxReceiveCount: 40 }),
        });
        // The dead letters outlive the queue's messages: SQS's longest retention, 14 days.
        assert.deepEqual(deadLetters.inputs, {
            name: "alexa-account-linking-dev-change-reports-dlq.fifo",
            fifoQueue: true,
            messageRetentionSeconds: 14 * 24 * 3600,
            sqsManagedSseEnabled: true,
        });
        for (const q of [queue, deadLetters]) {
            assert.deepEqual([q.retainOnDelete, q.protect], [true, false], q.name);
        }
    });

    it("names its FIFO queues after the project and stack, as SQS allows: letters, digits, - and _, at most 80 characters, ending in .fifo", async () => {
        const long = "Team..Dev_" + "x".repeat(70);
        for (const [stack, expected] of [
            ["Team..Dev_eu", ["alexa-account-linking-team-dev_eu-change-reports-dlq.fifo", "alexa-account-linking-team-dev_eu-change-reports.fifo"]],
            [long, [
                `alexa-account-linking-team-dev_${"x".repeat(80 - 31 - 24)}-change-reports-dlq.fifo`,
                `alexa-account-linking-team-dev_${"x".repeat(80 - 31 - 20)}-change-reports.fifo`,
            ]],
        ] as const) {
            const names = (await runProgram(EVENTS_CONFIG, stack, { secretKeys: ["alexaClientSecret"] })).all(QUEUE).map((q) => q.inputs.name);
            assert.deepEqual(names, expected, stack);
            for (const name of names) {
                assert.ok(name.length <= 80 && /^[A-Za-z0-9_-]+\.fifo$/.test(name), name);
            }
        }
    });

    it("alarms on the first message in the dead-letter queue, and stays quiet while SQS sends no figures", () => {
        assert.deepEqual(run.all("aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.name === "change-reports-dead-letter-alarm")!.inputs, {
            alarmDescription: "ChangeReports that could not be delivered to Alexa wait in the dead-letter queue (README: Alexa events and the companion app)",
            namespace: "AWS/SQS",
            metricName: "ApproximateNumberOfMessagesVisible",
            dimensions: { QueueName: "alexa-account-linking-dev-change-reports-dlq.fifo" },
            statistic: "Maximum",
            period: 60,
            evaluationPeriods: 1,
            threshold: 0,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            alarmActions: [run.outputs.alarmTopicArn],
            okActions: [run.outputs.alarmTopicArn],
        });
        assert.equal(run.outputs.changeReportDeadLetterQueueUrl, "https://sqs.us-east-1.amazonaws.com/123456789012/alexa-account-linking-dev-change-reports-dlq.fifo");
        // What the README's redrive command takes: from the dead-letter queue back to the queue.
        assert.equal(run.outputs.changeReportDeadLetterQueueArn, "arn:aws:sqs:us-east-1:123456789012:alexa-account-linking-dev-change-reports-dlq.fifo");
        assert.equal(run.outputs.changeReportQueueArn, "arn:aws:sqs:us-east-1:123456789012:alexa-account-linking-dev-change-reports.fifo");
    });

    it("triggers the consumer from the queue, ten records at a time with partial batch responses, once the role's policy exists", () => {
        const mapping = run.one("aws:lambda/eventSourceMapping:EventSourceMapping");
        assert.deepEqual(mapping.inputs, {
            eventSourceArn: "arn:aws:sqs:us-east-1:123456789012:alexa-account-linking-dev-change-reports.fifo",
            functionName: "change-reports-consumer-fn",
            batchSize: 10,
            functionResponseTypes: ["ReportBatchItemFailures"],
        });
        // Lambda refuses to create the mapping while the function's role may not read the queue
        // ("The provided execution role does not have permissions to call ReceiveMessage on SQS";
        // Lambda Developer Guide, services-sqs-configure.html, "Setting up Lambda execution role
        // permissions"): the mapping, and the function, wait for the role's policy.
        const policy = run.all(ROLE_POLICY).find((p) => p.name === "change-reports-policy")!;
        assert.ok(mapping.dependencies.includes(policy.urn), "the mapping does not wait for the policy");
        assert.ok(run.all(FUNCTION).find((f) => f.name === "change-reports-consumer")!.dependencies.includes(policy.urn), "the function does not wait for the policy");
    });

    it("runs the consumer on Node.js 24, arm64, with text logs in its own group and nothing but its own code (it verifies no token)", async () => {
        const consumer = run.all(FUNCTION).find((f) => f.name === "change-reports-consumer")!;
        assert.equal(consumer.inputs.runtime, "nodejs24.x");
        assert.deepEqual(consumer.inputs.architectures, ["arm64"]);
        assert.equal(consumer.inputs.memorySize, 256);
        assert.equal(consumer.inputs.timeout, 60);
        assert.deepEqual(consumer.inputs.loggingConfig, { logFormat: "Text", logGroup: "/aws/lambda/change-reports-logs" });
        assert.deepEqual(await archiveEntries(consumer.inputs.code), ["__index.js"]);
    });

    it("gives the consumer a role with only what it does, and no secret in its environment", () => {
        assert.deepEqual(JSON.parse(run.all(ROLE_POLICY).find((p) => p.name === "change-reports-policy")!.inputs.policy), {
            Version: "2012-10-17",
            Statement: [
                { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/change-reports-logs:*" },
                { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Scan"], Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/alexa-grants-table-tbl" },
                { Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/smartlamp-lamps-tbl" },
                { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: "arn:aws:ssm:us-east-1:123456789012:parameter/alexa-grants-alexa-client-secret" },
                { Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt"], Resource: "arn:aws:kms:us-east-1:123456789012:key/alexa-grants-key-0f3b6c2e" },
                { Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"], Resource: "arn:aws:sqs:us-east-1:123456789012:alexa-account-linking-dev-change-reports.fifo" },
                { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: "arn:aws:sqs:us-east-1:123456789012:alexa-account-linking-dev-change-reports-dlq.fifo" },
            ],
        });
        const consumer = run.all(FUNCTION).find((f) => f.name === "change-reports-consumer")!;
        assert.deepEqual(consumer.inputs.environment.variables, {
            EVENTS_GRANTS_TABLE: "alexa-grants-table-tbl",
            EVENTS_GRANTS_KEY: "arn:aws:kms:us-east-1:123456789012:key/alexa-grants-key-0f3b6c2e",
            EVENTS_LAMP_TABLE: "smartlamp-lamps-tbl",
            EVENTS_ALEXA_CLIENT_ID: ALEXA_CLIENT_ID,
            EVENTS_ALEXA_SECRET_PARAMETER: "/alexa-grants-alexa-client-secret",
            EVENTS_DEAD_LETTER_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/alexa-account-linking-dev-change-reports-dlq.fifo",
        });
        assert.ok(!JSON.stringify(consumer.inputs.environment).includes(ALEXA_CLIENT_SECRET));
    });

    it("has the consumer seal, at the up, the grants an earlier version stored in the clear, once per table and key, after its code is in place", () => {
        const invocation = run.one("aws:lambda/invocation:Invocation");
        assert.deepEqual(invocation.inputs, {
            functionName: "change-reports-consumer-fn",
            input: JSON.stringify({ smartlamp: "seal-stored-grants" }),
            triggers: { table: "alexa-grants-table-tbl", key: "arn:aws:kms:us-east-1:123456789012:key/alexa-grants-key-0f3b6c2e" },
        });
        const consumer = run.all(FUNCTION).find((f) => f.name === "change-reports-consumer")!;
        const policy = run.all(ROLE_POLICY).find((p) => p.name === "change-reports-policy")!;
        assert.ok(invocation.dependencies.includes(consumer.urn) && invocation.dependencies.includes(policy.urn), "invoked before the code or the Scan permission is in place");
        // and after the skill's new code, the other writer of grants: its earlier version stored them in the clear
        const skillFunction = run.all(FUNCTION).find((f) => f.name === "smartlamp-function")!;
        assert.ok(invocation.dependencies.includes(skillFunction.urn), "invoked while the skill's earlier code may still store grants in the clear");
    });

    it("alarms when events stop moving, when the consumer fails, and when many events find no grant", () => {
        const alarms = run.all("aws:cloudwatch/metricAlarm:MetricAlarm");
        const topic = [run.outputs.alarmTopicArn];
        const common = { evaluationPeriods: 1, comparisonOperator: "GreaterThanThreshold", treatMissingData: "notBreaching", alarmActions: topic, okActions: topic };
        assert.deepEqual(alarms.find((a) => a.name === "change-reports-oldest-event-alarm")!.inputs, {
            alarmDescription: "A ChangeReport has waited in the queue for more than 60 minutes: the consumer is not delivering (see its log group and the operator alarm)",
            namespace: "AWS/SQS", metricName: "ApproximateAgeOfOldestMessage", dimensions: { QueueName: "alexa-account-linking-dev-change-reports.fifo" },
            statistic: "Maximum", period: 300, threshold: 3600, ...common,
        });
        assert.deepEqual(alarms.find((a) => a.name === "change-reports-consumer-errors-alarm")!.inputs, {
            alarmDescription: "The ChangeReport consumer failed (a timeout, or it could not start): see its log group",
            namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: "change-reports-consumer-fn" },
            statistic: "Sum", period: 300, threshold: 0, ...common,
        });
        assert.deepEqual(alarms.find((a) => a.name === "change-reports-without-grant-alarm")!.inputs, {
            alarmDescription: "More than 25 events in an hour found no grant for their user: check alexaGrantsTable and the skill's AcceptGrant log lines",
            namespace: "SmartLamp/Events", metricName: "alexa-account-linking-dev-events-without-grant",
            statistic: "Sum", period: 3600, threshold: 25, ...common,
        });
        assert.deepEqual(run.all("aws:cloudwatch/logMetricFilter:LogMetricFilter").find((f) => f.name === "change-reports-without-grant")!.inputs, {
            logGroupName: "/aws/lambda/change-reports-logs",
            pattern: '{ ($.outcome = "forgotten") || ($.outcome = "dropped") }',
            metricTransformation: { name: "alexa-account-linking-dev-events-without-grant", namespace: "SmartLamp/Events", value: "1", unit: "Count" },
        });
    });

    it("counts every function's lines that need the operator, and alarms while any came in the last 15 minutes", () => {
        const filters = run.all("aws:cloudwatch/logMetricFilter:LogMetricFilter").filter((f) => f.name.startsWith("operator-alarms-"));
        assert.deepEqual(filters.map((f) => [f.name, f.inputs]), [["skill", "smartlamp"], ["consumer", "change-reports"]].map(([which, group]) => [`operator-alarms-${which}`, {
            logGroupName: `/aws/lambda/${group}-logs`,
            pattern: '{ $.needs = "operator" }',
            metricTransformation: { name: "alexa-account-linking-dev-operator-needed", namespace: "SmartLamp/Events", value: "1", unit: "Count" },
        }]));
        assert.deepEqual(run.all("aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.name === "operator-alarms-alarm")!.inputs, {
            alarmDescription: "A fault of this stack's configuration or code keeps events from Alexa or a user from their grant: the log lines with \"needs\": \"operator\" say what to fix (README: Alexa events and the companion app)",
            namespace: "SmartLamp/Events",
            metricName: "alexa-account-linking-dev-operator-needed",
            statistic: "Sum",
            period: 300,
            evaluationPeriods: 3,
            datapointsToAlarm: 1,
            threshold: 0,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            alarmActions: [run.outputs.alarmTopicArn],
            okActions: [run.outputs.alarmTopicArn],
        });
        assert.equal(run.outputs.operatorAlarm, "operator-alarms-alarm");
    });

    it("builds every resource inside a component of this project", () => {
        for (const resource of run.resources.filter((r) => r.type.startsWith("aws:"))) {
            assert.match(resource.parent, /smartlamp:(linking:AccountLinking|skill:SkillEndpoint|events:AlexaGrants|events:ChangeReportDelivery|alarms:AlarmNotifications|alarms:OperatorAlarms)/, resource.name);
        }
    });
});

describe("where the alarms go", () => {
    const ALARMS = "aws:cloudwatch/metricAlarm:MetricAlarm";

    it("alarmEmail: a topic of the stack's, that CloudWatch alarms of this account and region may publish to, with the address subscribed", async () => {
        const run = await runProgram({ ...EVENTS_CONFIG, alarmEmail: "ops@example.com" }, "dev", { secretKeys: ["alexaClientSecret"] });
        const topic = run.one("aws:sns/topic:Topic");
        assert.deepEqual(topic.inputs, {});
        const topicArn = run.outputs.alarmTopicArn;
        assert.equal(typeof topicArn, "string");
        assert.deepEqual(run.one("aws:sns/topicSubscription:TopicSubscription").inputs, { topic: topicArn, protocol: "email", endpoint: "ops@example.com" });
        const policy = run.one("aws:sns/topicPolicy:TopicPolicy");
        assert.equal(policy.inputs.arn, topicArn);
        assert.deepEqual(JSON.parse(policy.inputs.policy), {
            Version: "2012-10-17",
            Statement: [{
                Sid: "CloudWatchAlarmsOfThisAccount",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: "sns:Publish",
                Resource: topicArn,
                Condition: { ArnLike: { "aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*" } },
            }],
        });
        for (const alarm of run.all(ALARMS)) {
            assert.deepEqual(alarm.inputs.alarmActions, [topicArn], alarm.name);
        }
    });

    it("alarmTopicArn: your topic, as it is, and nothing made for it", async () => {
        const mine = "arn:aws:sns:us-east-1:123456789012:pager";
        const run = await runProgram({ ...EVENTS_CONFIG, alarmEmail: "", alarmTopicArn: mine }, "dev", { secretKeys: ["alexaClientSecret"] });
        assert.equal(run.all("aws:sns/topic:Topic").length + run.all("aws:sns/topicSubscription:TopicSubscription").length + run.all("aws:sns/topicPolicy:TopicPolicy").length, 0);
        assert.deepEqual(run.all(ALARMS).map((a) => a.inputs.alarmActions), Array(5).fill([mine]));
        assert.equal(run.outputs.alarmTopicArn, mine);
    });
});

describe("upgrading a stack whose Alexa Client Secret was kept under aws/ssm", () => {
    it("makes a new parameter under the stack's key and deletes the old one, every version of it (not retained)", async () => {
        const run = await runProgram(EVENTS_CONFIG, "dev", { secretKeys: ["alexaClientSecret"] });
        const parameter = run.one(PARAMETER);
        // The parameter as the earlier version declared it: same component, the name it had.
        const earlier = { ...parameter, name: "alexa-grants-client-secret", urn: parameter.urn.replace(/::alexa-grants-alexa-client-secret$/, "::alexa-grants-client-secret"), inputs: { ...parameter.inputs, keyId: undefined } };
        assert.notEqual(earlier.urn, parameter.urn);
        const plan = planDeletes([...run.resources.filter((r) => r !== parameter), earlier], run.resources);
        assert.deepEqual(plan.deletes.map((d) => [d.name, d.retained]), [["alexa-grants-client-secret", false]]);
        assert.deepEqual(plan.refusals, []);
        assert.equal(parameter.inputs.keyId, "arn:aws:kms:us-east-1:123456789012:key/alexa-grants-key-0f3b6c2e");
    });
});

describe("switching Alexa events off and on again", () => {
    it("takes one `up`: nothing protected leaves the stack, and the grants and both queues stay in AWS, only dropped from the state", async () => {
        const on = await runProgram(EVENTS_CONFIG, "dev", { secretKeys: ["alexaClientSecret"] });
        const off = await runProgram(PRIMARY_CONFIG, "dev");
        const plan = planDeletes(on.resources, off.resources);
        assert.deepEqual(plan.refusals, [], "the engine would refuse the up");
        assert.deepEqual(plan.deletes.filter((d) => d.retained).map((d) => d.name).sort(), ["alexa-grants-key", "alexa-grants-table", "change-reports-dead-letters", "change-reports-queue"]);
        // Deleted for good: the secret's parameter, the consumer and its wiring, the alarms.
        assert.ok(plan.deletes.some((d) => d.type === PARAMETER && !d.retained));
        assert.ok(plan.deletes.some((d) => d.name === "change-reports-consumer" && !d.retained));
        // The rule holds as the engine applies it: a protected table in the state would stop the up.
        const protectedBefore = on.resources.map((r) => (r.name === "alexa-grants-table" ? { ...r, protect: true } : r));
        assert.match(planDeletes(protectedBefore, off.resources).refusals[0], /alexa-grants-table" cannot be deleted\nbecause it is protected/);
    });

    it("uses a kept grants table, named in alexaGrantsTable, and the key its tag names, instead of making empty ones: its grants serve again", async () => {
        const invokes: { token: string; inputs: Record<string, any> }[] = [];
        const kept = "alexa-grants-table-1a2b3c4";
        const run = await runProgram({ ...EVENTS_CONFIG, alexaGrantsTable: kept }, "dev", { secretKeys: ["alexaClientSecret"], invokes });
        // Looked up at preview and up: a name that is no table stops the program there.
        assert.deepEqual(invokes, [{ token: "aws:dynamodb/getTable:getTable", inputs: { name: kept } }]);
        assert.equal(run.all(TABLE).filter((t) => t.name.startsWith("alexa-grants")).length, 0, "a new grants table was made");
        assert.equal(run.all("aws:kms/key:Key").length, 0, "a new key was made");
        const keptKey = "arn:aws:kms:us-east-1:123456789012:key/kept-1a2b";
        assert.equal(run.one(PARAMETER).inputs.keyId, keptKey);
        const arn = `arn:aws:dynamodb:us-east-1:123456789012:table/${kept}`;
        const skillPolicy = JSON.parse(run.all(ROLE_POLICY).find((p) => p.name === "smartlamp-policy")!.inputs.policy);
        assert.deepEqual(skillPolicy.Statement[2], { Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: arn });
        const consumerPolicy = JSON.parse(run.all(ROLE_POLICY).find((p) => p.name === "change-reports-policy")!.inputs.policy);
        assert.equal(consumerPolicy.Statement[1].Resource, arn);
        const functions = run.all(FUNCTION);
        assert.equal(functions.find((f) => f.name === "smartlamp-function")!.inputs.environment.variables.SKILL_GRANTS_TABLE, kept);
        assert.equal(functions.find((f) => f.name === "smartlamp-function")!.inputs.environment.variables.SKILL_GRANTS_KEY, keptKey);
        assert.equal(functions.find((f) => f.name === "change-reports-consumer")!.inputs.environment.variables.EVENTS_GRANTS_TABLE, kept);
        assert.equal(run.outputs.alexaGrantsTableName, kept);
    });

    it("gives a table kept by a version before the key a key of its own, named on the table by a tag both keep, and has its grants sealed under it", async () => {
        const kept = "alexa-grants-older-5e6f7a8";
        const run = await runProgram({ ...EVENTS_CONFIG, alexaGrantsTable: kept }, "dev", { secretKeys: ["alexaClientSecret"] });
        const key = run.one("aws:kms/key:Key");
        assert.equal(key.retainOnDelete, true);
        const keyArn = "arn:aws:kms:us-east-1:123456789012:key/alexa-grants-key-0f3b6c2e";
        const tag = run.one("aws:dynamodb/tag:Tag");
        assert.deepEqual(tag.inputs, { resourceArn: `arn:aws:dynamodb:us-east-1:123456789012:table/${kept}`, key: "smartlamp:grants-key", value: keyArn });
        assert.equal(tag.retainOnDelete, true, "untagged when events go off, the table would get another key when they come back");
        assert.equal(run.one(PARAMETER).inputs.keyId, keyArn);
        assert.equal(run.all(FUNCTION).find((f) => f.name === "change-reports-consumer")!.inputs.environment.variables.EVENTS_GRANTS_KEY, keyArn);
        assert.deepEqual(run.one("aws:lambda/invocation:Invocation").inputs.triggers, { table: kept, key: keyArn });
    });

    it("refuses, at up, a table that is not a grants table of this project (the lamp table, say), which AcceptGrant would write over", async () => {
        const failure = await runProgram({ ...EVENTS_CONFIG, alexaGrantsTable: "smartlamp-lamps-tbl" }, "dev", { secretKeys: ["alexaClientSecret"] }).then(() => undefined, (err: unknown) => err);
        assert.ok(failure instanceof ProgramFailed, String(failure));
        assert.deepEqual((failure.cause as ConfigError).problems, [
            "alexaGrantsTable is \"smartlamp-lamps-tbl\": that table is not a grants table of this project (it lacks the tag smartlamp:purpose=alexa-grants); " +
                "name the table of the alexaGrantsTableName output this stack had with events on. Fix: pulumi config set alexaGrantsTable <table name>",
        ]);
    });
});
