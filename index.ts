// Alexa account linking on AWS: Cognito is the OAuth server, the SmartLamp Lambda is the skill.
// One stack per Alexa region; the primary stack also holds the user pool (see README.md).
import { AccountLinking } from "./infra/accountLinking";
import { linkingRequestBody } from "./infra/accountLinkingRequest";
import { alexaRedirectUrls as redirectUrlsFor } from "./infra/alexa";
import { loadConfig, loadSmapiConfig } from "./infra/config";
import { primaryPoolReference } from "./infra/primaryPool";
import { SkillConfiguration } from "./infra/skillConfiguration";
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
          region: config.region,
      });
const pool = linking ?? primaryPoolReference(config.primaryPool!);

const skill = new SkillEndpoint("smartlamp", {
    alexaSkillId: config.alexaSkillId,
    userPoolId: pool.userPoolId,
    clientId: pool.clientId,
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
