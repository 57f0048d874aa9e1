// Alexa account linking on AWS: Cognito is the OAuth server, the SmartLamp Lambda is the skill.
// One stack per Alexa region; the primary stack also holds the user pool (see README.md).
import { AccountLinking, LinkingValues } from "./infra/accountLinking";
import { linkingRequestBody } from "./infra/accountLinkingRequest";
import { alexaRedirectUrls as redirectUrlsFor } from "./infra/alexa";
import { AlexaGrants } from "./infra/alexaGrants";
import { ChangeReportDelivery } from "./infra/changeReportDelivery";
import { CompanionApi } from "./infra/companionApi";
import { loadConfig } from "./infra/config";
import { handedOverJwks } from "./infra/poolJwks";
import { linkingFromPrimaryStack } from "./infra/primaryStack";
import { SkillEndpoint } from "./infra/skillEndpoint";

const config = loadConfig();

const linking: LinkingValues = config.accountLinkingStack
    ? linkingFromPrimaryStack(config.accountLinkingStack)
    : new AccountLinking("account-linking", {
          alexaRedirectUrls: redirectUrlsFor(config.alexaVendorId!),
          extraCallbackUrls: config.extraCallbackUrls,
          scopes: config.scopes,
          refreshTokenValidityDays: config.refreshTokenValidityDays,
          accessTokenValidityMinutes: config.accessTokenValidityMinutes,
          mfa: config.mfa,
          domainPrefix: config.domainPrefix,
          customDomain: config.customDomain,
          region: config.region,
      });

// Alexa events (AcceptGrant's tokens, ChangeReports) only when the skill's Alexa Client Id and
// Secret are configured; without them the skill answers as before.
const grants = config.alexaEvents ? new AlexaGrants("alexa-grants", { clientSecret: config.alexaEvents.clientSecret }) : undefined;
const changeReports = grants && new ChangeReportDelivery("change-reports", { clientId: config.alexaEvents!.clientId, grants });

const poolJwks = handedOverJwks(linking.userPoolId);
const skill = new SkillEndpoint("smartlamp", {
    alexaSkillId: config.alexaSkillId,
    userPoolId: linking.userPoolId,
    clientId: linking.clientId,
    poolJwks,
    events: grants && { clientId: config.alexaEvents!.clientId, grants },
});

// The same account in the user's own app: a page and an API over the skill's lamp table.
const companion = config.companionApp
    ? new CompanionApi("companion", {
          userPoolId: linking.userPoolId,
          authBaseUrl: linking.authorizationUri.apply((uri) => uri.replace(/\/oauth2\/authorize$/, "")),
          poolRegion: config.accountLinkingStack ? linking.userPoolId.apply((id) => id.split("_")[0]) : undefined,
          lampTable: skill.table,
          poolJwks,
          changeReportQueue: changeReports?.queue,
          callbackUrls: config.companionCallbackUrls,
      })
    : undefined;

// What the Alexa developer console's Account Linking page and skill endpoint take (README.md).
export const authorizationUri = linking.authorizationUri;
export const accessTokenUri = linking.accessTokenUri;
export const clientId = linking.clientId;
export const clientSecret = linking.clientSecret;
export const scopes = linking.scopes;
export const alexaRedirectUrls = linking.alexaRedirectUrls;
export const accessTokenValidityMinutes = linking.accessTokenValidityMinutes;
export const refreshTokenValidityDays = linking.refreshTokenValidityDays;
export const jwksUri = linking.jwksUri;
// The same values as the body of `ask smapi update-account-linking-info` (README.md).
export const accountLinkingRequest = linkingRequestBody(linking);
export const skillEndpointArn = skill.arn;
export const userPoolId = linking.userPoolId;
export const region = config.region;
// With a custom domain: the CloudFront name its DNS record must point at (an alias or CNAME).
export const customDomainTarget = linking instanceof AccountLinking ? linking.customDomainTarget : undefined;
// With Alexa events on: where undeliverable ChangeReports wait, and the alarm that watches it.
export const changeReportDeadLetterQueueUrl = changeReports?.deadLetterQueue.url;
export const changeReportDeadLetterAlarm = changeReports?.deadLetterAlarm.name;
// With companionApp: the page to open, the API's base URL and the app client the page signs in with.
export const companionPageUrl = companion?.pageUrl;
export const companionApiUrl = companion?.apiBaseUrl;
export const companionClientId = companion?.clientId;
