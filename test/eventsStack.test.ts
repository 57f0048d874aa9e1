import { strict as assert } from "assert";
import { loadConfig } from "../infra/config";
import { ALEXA_CLIENT_ID, ALEXA_CLIENT_SECRET, isSecret, PRIMARY_CONFIG, ProgramFailed, ProgramRun, runProgram } from "./support/pulumiProgram";

const FUNCTION = "aws:lambda/function:Function";
const TABLE = "aws:dynamodb/table:Table";
const PARAMETER = "aws:ssm/parameter:Parameter";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";

const EVENTS_CONFIG = { ...PRIMARY_CONFIG, alexaClientId: ALEXA_CLIENT_ID, alexaClientSecret: ALEXA_CLIENT_SECRET };

/** Everything the program registered and exported, as text, to look for the secret in. */
function plainText(run: ProgramRun, except: (type: string) => boolean = () => false): string {
    return JSON.stringify(run.resources.filter((r) => !except(r.type)).map((r) => r.inputs)) + JSON.stringify(run.outputs);
}

describe("a stack with Alexa events on", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram(EVENTS_CONFIG, "dev", { secretKeys: ["alexaClientSecret"] });
    });

    it("keeps the grants table like the lamp table: on-demand, keyed by user, point-in-time recovery, deletion protection and protect", () => {
        const grants = run.all(TABLE).find((t) => t.name.startsWith("alexa-grants"));
        assert.ok(grants, "no grants table");
        assert.equal(grants.inputs.billingMode, "PAY_PER_REQUEST");
        assert.equal(grants.inputs.hashKey, "userId");
        assert.deepEqual(grants.inputs.pointInTimeRecovery, { enabled: true });
        assert.equal(grants.inputs.deletionProtectionEnabled, true);
        assert.equal(grants.protect, true);
    });

    it("keeps the Alexa Client Secret in an SSM SecureString and hands the function only its name", async () => {
        const parameter = run.one(PARAMETER);
        assert.equal(parameter.inputs.type, "SecureString");
        // Registered as a secret: the engine receives Pulumi's secret signature around the value
        // (sdk/nodejs/runtime/rpc.ts, specialSigKey / specialSecretSig), so state encrypts it.
        assert.deepEqual(parameter.inputs.value, { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: ALEXA_CLIENT_SECRET });
        const env = run.all(FUNCTION).find((f) => f.name === "smartlamp-function")!.inputs.environment.variables;
        assert.equal(env.SKILL_ALEXA_CLIENT_ID, ALEXA_CLIENT_ID);
        assert.equal(env.SKILL_ALEXA_SECRET_PARAMETER, "/alexa-grants-client-secret");
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
            { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: "arn:aws:ssm:us-east-1:123456789012:parameter/alexa-grants-client-secret" },
        ]);
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

    it("queues events in a FIFO queue that hands what it cannot deliver to a FIFO dead-letter queue, both protected", () => {
        const [deadLetters, queue] = run.all(QUEUE);
        assert.equal(queue.inputs.name, "alexa-account-linking-dev-change-reports.fifo");
        assert.equal(deadLetters.inputs.name, "alexa-account-linking-dev-change-reports-dlq.fifo");
        for (const q of [queue, deadLetters]) {
            assert.equal(q.inputs.fifoQueue, true);
            assert.equal(q.protect, true, q.name);
            assert.equal(q.inputs.sqsManagedSseEnabled, true);
        }
        assert.deepEqual(JSON.parse(queue.inputs.redrivePolicy), { deadLetterTargetArn: "arn:aws:sqs:us-east-1:123456789012:alexa-account-linking-dev-change-reports-dlq.fifo", maxReceiveCount: 40 });
        assert.ok(deadLetters.inputs.messageRetentionSeconds > queue.inputs.messageRetentionSeconds);
        // Lambda's SQS guide: a visibility timeout of at least six times the function's timeout.
        const consumer = run.all(FUNCTION).find((f) => f.name === "change-reports-consumer")!;
        assert.ok(queue.inputs.visibilityTimeoutSeconds >= 6 * consumer.inputs.timeout);
    });

    it("alarms on the first message in the dead-letter queue", () => {
        const alarm = run.one("aws:cloudwatch/metricAlarm:MetricAlarm").inputs;
        assert.deepEqual(alarm.dimensions, { QueueName: "alexa-account-linking-dev-change-reports-dlq.fifo" });
        assert.equal(alarm.metricName, "ApproximateNumberOfMessagesVisible");
        assert.equal(alarm.comparisonOperator, "GreaterThanThreshold");
        assert.equal(alarm.threshold, 0);
        assert.equal(run.outputs.changeReportDeadLetterQueueUrl, "https://sqs.us-east-1.amazonaws.com/123456789012/alexa-account-linking-dev-change-reports-dlq.fifo");
    });

    it("triggers the consumer from the queue with partial batch responses", () => {
        const mapping = run.one("aws:lambda/eventSourceMapping:EventSourceMapping").inputs;
        assert.equal(mapping.eventSourceArn, "arn:aws:sqs:us-east-1:123456789012:alexa-account-linking-dev-change-reports.fifo");
        assert.equal(mapping.functionName, "change-reports-consumer-fn");
        assert.deepEqual(mapping.functionResponseTypes, ["ReportBatchItemFailures"]);
    });

    it("gives the consumer a role with only what it does, and no secret in its environment", () => {
        const policy = JSON.parse(run.all(ROLE_POLICY).find((p) => p.name === "change-reports-policy")!.inputs.policy);
        assert.deepEqual(policy.Statement.map((s: any) => [s.Action, s.Resource]), [
            [["logs:CreateLogStream", "logs:PutLogEvents"], "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/change-reports-logs:*"],
            [["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], "arn:aws:dynamodb:us-east-1:123456789012:table/alexa-grants-table-tbl"],
            [["ssm:GetParameter"], "arn:aws:ssm:us-east-1:123456789012:parameter/alexa-grants-client-secret"],
            [["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"], "arn:aws:sqs:us-east-1:123456789012:alexa-account-linking-dev-change-reports.fifo"],
            [["sqs:SendMessage"], "arn:aws:sqs:us-east-1:123456789012:alexa-account-linking-dev-change-reports-dlq.fifo"],
        ]);
        const consumer = run.all(FUNCTION).find((f) => f.name === "change-reports-consumer")!;
        assert.equal(consumer.inputs.environment.variables.EVENTS_ALEXA_SECRET_PARAMETER, "/alexa-grants-client-secret");
        assert.ok(!JSON.stringify(consumer.inputs.environment).includes(ALEXA_CLIENT_SECRET));
    });

    it("builds every resource inside a component of this project", () => {
        for (const resource of run.resources.filter((r) => r.type.startsWith("aws:"))) {
            assert.match(resource.parent, /smartlamp:(linking:AccountLinking|skill:SkillEndpoint|events:AlexaGrants|events:ChangeReportDelivery)/, resource.name);
        }
    });
});
