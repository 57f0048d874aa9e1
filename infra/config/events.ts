// Alexa events (AcceptGrant, ChangeReports): the skill's Alexa Client Id and Secret, or where to
// read them; a kept grants table; and where the events' alarms go. Every region stack sets these
// (each region's function exchanges grants and sends ChangeReports), not only the primary.
import * as pulumi from "@pulumi/pulumi";
import { ConfigReader, mailAddress } from "./reader";

export interface AlexaEventsConfig {
    clientId: pulumi.Input<string>;
    /** A Pulumi secret from first to last: it is stored as an SSM SecureString (infra/alexaGrants.ts). */
    clientSecret: pulumi.Output<string>;
}

/**
 * Where the skill's event credentials come from: the stack's config, or (`fromSkill`) the skill
 * itself through SMAPI, which needs the smapi* values (infra/skillConfiguration.ts reads them).
 */
export type AlexaEventsSource = { fromSkill: false; credentials: AlexaEventsConfig } | { fromSkill: true };

/** At most one of the two: an address subscribed to a topic the stack makes, or a topic of yours. */
export interface AlarmTargets {
    email?: string;
    topicArn?: string;
}

export interface EventsSettings {
    /** Set when the skill sends Alexa events: its Alexa Client Id and Secret (console: Permissions). */
    alexaEvents?: AlexaEventsSource;
    /**
     * With events on: the name of a grants table kept from an earlier time with events on, used
     * instead of a new one. Undefined: the stack makes (or already has) its own.
     */
    alexaGrantsTable?: string;
    /** Where alarms notify (with events on, one of the two is set). */
    alarms: AlarmTargets;
}

export const EVENTS_KEYS = ["alexaClientId", "alexaEvents", "alexaGrantsTable", "alarmEmail", "alarmTopicArn"] as const;

// Login with Amazon's client ids (the console's Alexa Client Id is one).
const LWA_CLIENT_ID = /^amzn1\.application-oa2-client\.[0-9a-f]{32}$/;
// DynamoDB table names: 3 to 255 of a-z, A-Z, 0-9, _, - and . (Developer Guide, "Naming rules").
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
// An SNS topic's ARN: standard topics only (CloudWatch alarm actions do not publish to FIFO topics).
const SNS_TOPIC_ARN = /^arn:aws:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;

export interface EventsSecrets {
    /** The alexaClientSecret's Output when it is set (never its text: no message can quote it). */
    alexaClientSecret?: pulumi.Output<string>;
    /** Whether a key is stored encrypted in the stack's file. */
    isSecret: (key: string) => boolean;
    /** Whether the smapi* values are set (then `pulumi up` can read the credentials from the skill). */
    smapiConfigured: boolean;
}

export function readEvents(reader: ConfigReader, region: string | undefined, secrets: EventsSecrets): EventsSettings {
    const { alexaClientSecret, isSecret, smapiConfigured } = secrets;
    const alexaClientId = reader.optional("alexaClientId");
    let alexaEvents: AlexaEventsSource | undefined;
    if (alexaClientId !== undefined && !LWA_CLIENT_ID.test(alexaClientId)) {
        reader.problem("alexaClientId", alexaClientId,
            'it must be "amzn1.application-oa2-client." followed by 32 hex digits, the Alexa Client Id on the skill\'s Permissions page (Send Alexa Events)',
            "set alexaClientId amzn1.application-oa2-client.<32 hex digits>");
    }
    if ((alexaClientId === undefined) !== (alexaClientSecret === undefined)) {
        if (alexaClientId === undefined) {
            reader.problem("alexaClientId", undefined, "alexaClientId and alexaClientSecret go together: set both to send Alexa events, or neither",
                "set alexaClientId amzn1.application-oa2-client.<32 hex digits>");
        } else {
            reader.problem("alexaClientSecret", undefined, "alexaClientId and alexaClientSecret go together: set both to send Alexa events, or neither",
                "set --secret alexaClientSecret <the Alexa Client Secret from the skill's Permissions page>");
        }
    } else if (alexaClientId !== undefined && alexaClientSecret !== undefined) {
        if (!isSecret("alexaClientSecret")) {
            // Never quoted: the value is in the stack's file already, and need not be in a log too.
            reader.note("alexaClientSecret is stored in plain text in the stack's config file: store it encrypted (and, since it was readable, " +
                "consider a new secret on the skill's Permissions page). Fix: pulumi config set --secret alexaClientSecret <the Alexa Client Secret>");
        }
        alexaEvents = { fromSkill: false, credentials: { clientId: alexaClientId, clientSecret: alexaClientSecret } };
    } else if (reader.flag("alexaEvents")) {
        if (!smapiConfigured) {
            reader.problem("alexaEvents", "true",
                "the skill's Alexa Client Id and Secret are needed to send events: set the smapi* values so that `pulumi up` reads them from the skill (README, Deploy, A), or set alexaClientId and alexaClientSecret",
                "set --secret smapiRefreshToken <refresh_token> (with smapiClientId and smapiClientSecret)");
        }
        alexaEvents = { fromSkill: true };
    }

    const alexaGrantsTable = reader.optional("alexaGrantsTable");
    const alarms: AlarmTargets = { email: reader.optional("alarmEmail")?.trim(), topicArn: reader.optional("alarmTopicArn") };
    if (alexaEvents === undefined) {
        // Each of these serves Alexa events only: set without them it would silently do nothing.
        for (const key of ["alexaGrantsTable", "alarmEmail", "alarmTopicArn"]) {
            if (reader.optional(key) !== undefined) {
                reader.problem(key, reader.text(key), "it serves Alexa events, which are off on this stack: switch them on (alexaClientId and alexaClientSecret, or alexaEvents), or remove it", `rm ${key}`);
            }
        }
    }
    if (alexaGrantsTable !== undefined && !TABLE_NAME.test(alexaGrantsTable)) {
        reader.problem("alexaGrantsTable", alexaGrantsTable, "it must be the name of the grants table this stack kept when events were switched off (its alexaGrantsTableName output then)",
            "set alexaGrantsTable <table name>");
    }
    readAlarmTargets(reader, alarms, region, alexaEvents !== undefined);
    return { alexaEvents, alexaGrantsTable, alarms };
}

/** Checks where alarms go: one address or one topic of the stack's region, and one is needed with events on. */
function readAlarmTargets(reader: ConfigReader, alarms: AlarmTargets, region: string | undefined, eventsOn: boolean): void {
    if (alarms.email !== undefined && mailAddress(alarms.email) !== alarms.email.toLowerCase()) {
        reader.problem("alarmEmail", alarms.email, "it must be one email address, such as ops@example.com", "set alarmEmail ops@example.com");
    }
    if (alarms.topicArn !== undefined && !SNS_TOPIC_ARN.test(alarms.topicArn)) {
        reader.problem("alarmTopicArn", alarms.topicArn, "it must be the ARN of a standard SNS topic, arn:aws:sns:<region>:<account>:<topic name>",
            "set alarmTopicArn arn:aws:sns:us-east-1:<account>:<topic name>");
    }
    if (alarms.email !== undefined && alarms.topicArn !== undefined) {
        reader.problem("alarmEmail", alarms.email, "alarmEmail and alarmTopicArn are two ways to the same place: keep one (subscribe the address to your topic instead)", "rm alarmEmail");
    }
    const topicRegion = alarms.topicArn?.split(":")[3];
    if (topicRegion !== undefined && SNS_TOPIC_ARN.test(alarms.topicArn!) && region !== undefined && topicRegion !== region) {
        reader.problem("alarmTopicArn", alarms.topicArn, `it must be a topic in this stack's region, ${region}, where its alarms are (each region stack has its own)`,
            `set alarmTopicArn arn:aws:sns:${region}:<account>:<topic name>`);
    }
    if (eventsOn && alarms.email === undefined && alarms.topicArn === undefined) {
        // An alarm nobody hears is no alarm: a wrong secret would hold every event unnoticed.
        reader.problem("alarmEmail", undefined, "with Alexa events on, the stack's alarms need somewhere to go: an address (the stack subscribes it to a topic of its own; " +
            "confirm the email AWS sends), or alarmTopicArn, your SNS topic", "set alarmEmail ops@example.com");
    }
}
