// Alexa account linking on AWS: Cognito is the OAuth server, the SmartLamp Lambda is the skill.
// One stack per Alexa region; the primary stack also holds the user pool (see README.md).
import { AccountLinking, LinkingValues } from "./infra/accountLinking";
import { linkingRequestBody } from "./infra/accountLinkingRequest";
import { alexaRedirectUrls as redirectUrlsFor } from "./infra/alexa";
import { loadConfig, loadSmapiConfig } from "./infra/config";
import { handedOverJwks } from "./infra/poolJwks";
import { linkingFromPrimaryStack } from "./infra/primaryStack";
import { SkillConfiguration } from "./infra/skillConfiguration";
import { SkillEndpoint } from "./infra/skillEndpoint";

const config = loadConfig();
const smapi = loadSmapiConfig();

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

const skill = new SkillEndpoint("smartlamp", {
    alexaSkillId: config.alexaSkillId,
    userPoolId: linking.userPoolId,
    clientId: linking.clientId,
    poolJwks: handedOverJwks(linking.userPoolId),
});

// The same values as the body of `ask smapi update-account-linking-info` (README.md).
const linkingRequest = linkingRequestBody(linking);

// With the three smapi* values, `pulumi up` sets this region's endpoint in the skill manifest and,
// on the primary, the account linking: nothing to paste (README.md, "Deploy").
if (smapi) {
    new SkillConfiguration("alexa-skill", {
        alexaSkillId: config.alexaSkillId,
        awsRegion: config.region,
        endpointArn: skill.arn,
        invokePermission: skill.permission,
        primary: !config.accountLinkingStack,
        accountLinkingRequest: config.accountLinkingStack ? undefined : linkingRequest,
        smapi,
    });
}

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
export const accountLinkingRequest = linkingRequest;
export const skillEndpointArn = skill.arn;
export const userPoolId = linking.userPoolId;
export const region = config.region;
// With a custom domain: the CloudFront name its DNS record must point at (an alias or CNAME).
export const customDomainTarget = linking instanceof AccountLinking ? linking.customDomainTarget : undefined;
