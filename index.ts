// Alexa account linking on AWS: Cognito is the OAuth server, the SmartLamp Lambda is the skill.
// One stack per Alexa region; the primary stack also holds the user pool (see README.md).
import { AccountLinking } from "./infra/accountLinking";
import { linkingRequestBody } from "./infra/accountLinkingRequest";
import { alexaRedirectUrls as redirectUrlsFor } from "./infra/alexa";
import { AlarmNotifications } from "./infra/alarmNotifications";
import { AlexaGrants } from "./infra/alexaGrants";
import { ChangeReportDelivery } from "./infra/changeReportDelivery";
import { CompanionApi } from "./infra/companionApi";
import { loadConfig, loadSmapiConfig } from "./infra/config";
import { OperatorAlarms } from "./infra/operatorAlarms";
import { primaryPoolReference } from "./infra/primaryPool";
import { SkillConfiguration, SkillEventCredentials } from "./infra/skillConfiguration";
import { SkillEndpoint } from "./infra/skillEndpoint";

const config = loadConfig();
const smapi = loadSmapiConfig();

// The primary stack builds the pool; a secondary region stack uses the primary's.
const linking = config.primaryPool
    ? undefined
    : new AccountLinking("account-linking", {
          alexaRedirectUrls: redirectUrlsFor(config.alexaVendorId!),
          extraCallbackUrls: config.extraCallbackUrls,
          scopes: config.scopes,
          refreshTokenValidityDays: config.refreshTokenValidityDays,
          accessTokenValidityMinutes: config.accessTokenValidityMinutes,
          mfa: config.mfa,
          featurePlan: config.featurePlan,
          email: config.email,
          domainPrefix: config.domainPrefix,
          customDomain: config.customDomain,
          selfSignUp: config.selfSignUp,
          wafWebAclArn: config.wafWebAclArn,
          region: config.region,
      });
const pool = linking ?? primaryPoolReference(config.primaryPool!, config.region);

// Alexa events (AcceptGrant's tokens, ChangeReports) only when switched on, with the skill's Alexa
// Client Id and Secret from config or read from the skill; otherwise the skill answers as before.
const events = config.alexaEvents?.fromSkill
    ? new SkillEventCredentials("alexa-event-credentials", { alexaSkillId: config.alexaSkillId, smapi: smapi! })
    : config.alexaEvents?.credentials;
const grants = events && new AlexaGrants("alexa-grants", { clientSecret: events.clientSecret, existingTableName: config.alexaGrantsTable });

const skill = new SkillEndpoint("smartlamp", {
    alexaSkillId: config.alexaSkillId,
    userPoolId: pool.userPoolId,
    clientId: pool.clientId,
    events: grants && { clientId: events!.clientId, grants },
});

// ChangeReports through a queue to Alexa; the alarms go where the config says.
const alarms = grants && new AlarmNotifications("alarms", { ...config.alarms, region: config.region });
const changeReports = grants && new ChangeReportDelivery("change-reports", {
    clientId: events!.clientId,
    grants,
    lampTable: skill.table,
    alarmActions: alarms!.actions,
    grantWriters: [skill.function],
});

// The same account in the user's own app: a page and an API over the skill's lamp table.
const companion = config.companionApp
    ? new CompanionApi("companion", {
          userPoolId: pool.userPoolId,
          authBaseUrl: (linking?.authorizationUri ?? pool.userPoolId.apply(() => config.primaryPool!.authorizationUri!))
              .apply((uri) => uri.replace(/\/oauth2\/authorize$/, "")),
          // A secondary stack adds its client to the primary's pool, in the pool's own region.
          poolRegion: linking ? undefined : pool.userPoolId.apply((id) => id.split("_")[0]),
          lampTable: skill.table,
          poolJwks: skill.poolJwks.jwks,
          changeReportQueue: changeReports?.queue,
          callbackUrls: config.companionCallbackUrls,
      })
    : undefined;

// With events on: an alarm for every log line that needs the operator, from every function.
const operatorAlarms = alarms && new OperatorAlarms("operator-alarms", {
    logGroups: {
        skill: skill.logGroup,
        consumer: changeReports!.logGroup,
        ...(companion ? { companion: companion.logGroup } : {}),
    },
    alarmActions: alarms.actions,
});

// The same values as the body of `ask smapi update-account-linking-info` (README.md).
const linkingRequest = linking && linkingRequestBody(linking);

// With the three smapi* values, `pulumi up` sets this region's endpoint in the skill manifest and,
// on the primary, the account linking: nothing to paste (README.md, "Deploy").
if (smapi) {
    new SkillConfiguration("alexa-skill", {
        alexaSkillId: config.alexaSkillId,
        awsRegion: config.region,
        endpointArn: skill.arn,
        invokePermission: skill.permission,
        primary: linking !== undefined,
        accountLinkingRequest: linkingRequest,
        smapi,
    });
}

// Every region: what the skill's endpoint field takes, and the pool it serves.
export const skillEndpointArn = skill.arn;
export const region = config.region;
export const userPoolId = pool.userPoolId;
export const clientId = pool.clientId;
export const jwksUri = pool.jwksUri;

// The primary only: what the Alexa developer console's Account Linking page takes (README.md).
export const authorizationUri = linking?.authorizationUri;
export const accessTokenUri = linking?.accessTokenUri;
export const clientSecret = linking?.clientSecret;
export const scopes = linking?.scopes;
export const alexaRedirectUrls = linking?.alexaRedirectUrls;
export const accessTokenValidityMinutes = linking?.accessTokenValidityMinutes;
export const refreshTokenValidityDays = linking?.refreshTokenValidityDays;
export const accountLinkingRequest = linkingRequest;
// With a custom domain: where its DNS alias record points (README, "A custom domain").
export const customDomainTarget = linking?.customDomainTarget;
export const customDomainHostedZoneId = linking?.customDomainHostedZoneId;

// With Alexa events on: where undeliverable ChangeReports wait, the alarms and where they go, and
// the grants table (kept in AWS when events are switched off: README, "Switching events off").
export const changeReportDeadLetterQueueUrl = changeReports?.deadLetterQueue.url;
export const changeReportDeadLetterQueueArn = changeReports?.deadLetterQueue.arn;
export const changeReportQueueArn = changeReports?.queue.arn;
export const changeReportDeadLetterAlarm = changeReports?.deadLetterAlarm.name;
export const operatorAlarm = operatorAlarms?.alarm.name;
export const alarmTopicArn = alarms?.topicArn;
export const alexaGrantsTableName = grants?.tableName;
// With companionApp: the page to open, the API's base URL and the app client the page signs in with.
export const companionPageUrl = companion?.pageUrl;
export const companionApiUrl = companion?.apiBaseUrl;
export const companionClientId = companion?.clientId;
