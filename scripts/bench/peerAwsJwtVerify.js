// Benchmark peer 1: the handler a skill developer would write with aws-jwt-verify (its JWKS
// downloaded at cold start, as its README suggests with hydrate()) and the AWS SDK v3
// DocumentClient. Loaded by child.js exactly as the archive's __index.js is.
"use strict";
const { CognitoJwtVerifier } = require("aws-jwt-verify");
const { skillHandler } = require("./peerCommon");

const verifier = CognitoJwtVerifier.create({
    userPoolId: process.env.SKILL_USER_POOL_ID,
    tokenUse: "access",
    clientId: process.env.SKILL_CLIENT_ID,
});
const hydrated = verifier.hydrate();

exports.handler = skillHandler(async (token) => {
    await hydrated;
    return verifier.verify(token);
});
