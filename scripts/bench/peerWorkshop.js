// Benchmark peer 2: the workshop style: the pool's JWKS downloaded at cold start with Node's
// https, each key turned into PEM by jwk-to-pem, tokens verified by jsonwebtoken (RS256, issuer),
// token_use and client_id checked by hand; the AWS SDK v3 DocumentClient for the table.
"use strict";
const https = require("https");
const jwt = require("jsonwebtoken");
const jwkToPem = require("jwk-to-pem");
const { skillHandler } = require("./peerCommon");

const region = process.env.SKILL_USER_POOL_ID.split("_")[0];
const issuer = `https://cognito-idp.${region}.amazonaws.com/${process.env.SKILL_USER_POOL_ID}`;
const clientId = process.env.SKILL_CLIENT_ID;

const pems = new Promise((resolve, reject) => {
    const request = https.request(`${issuer}/.well-known/jwks.json`, {}, (response) => {
        let body = "";
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => {
            try {
                resolve(Object.fromEntries(JSON.parse(body).keys.map((key) => [key.kid, jwkToPem(key)])));
            } catch (err) {
                reject(err);
            }
        });
    });
    request.on("error", reject);
    request.end();
});

exports.handler = skillHandler(async (token) => {
    const keys = await pems;
    const decoded = jwt.decode(token, { complete: true });
    const pem = decoded && keys[decoded.header.kid];
    if (!pem) {
        throw new Error("unknown key");
    }
    const claims = jwt.verify(token, pem, { algorithms: ["RS256"], issuer });
    if (claims.token_use !== "access" || claims.client_id !== clientId) {
        throw new Error("not an access token of this client");
    }
    return claims;
});
