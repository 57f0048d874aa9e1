// What both benchmark peers share: the Smart Home answers a plain skill handler builds, and the
// lamp table as a skill developer would use it through the AWS SDK v3 DocumentClient (one
// UpdateCommand per change, one GetCommand per ReportState). Not part of the project's Lambda:
// the peers are what `npm run bench` compares the archive with.
"use strict";
const { randomUUID, createHash } = require("crypto");
const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");
const { DynamoDBDocumentClient, GetCommand, UpdateCommand } = require("@aws-sdk/lib-dynamodb");

function header(namespace, name, correlationToken) {
    return { namespace, name, payloadVersion: "3", messageId: randomUUID(), ...(correlationToken ? { correlationToken } : {}) };
}

function endpointId(sub) {
    return "smartlamp-" + createHash("sha256").update(sub).digest("hex").slice(0, 32);
}

function properties(item) {
    const sample = { timeOfSample: new Date().toISOString(), uncertaintyInMilliseconds: 50 };
    const on = item.powerState === "ON";
    return [
        { namespace: "Alexa.PowerController", name: "powerState", value: on ? "ON" : "OFF", ...sample },
        { namespace: "Alexa.BrightnessController", name: "brightness", value: on ? item.brightness ?? 100 : 0, ...sample },
        { namespace: "Alexa.EndpointHealth", name: "connectivity", value: { value: "OK" }, ...sample },
    ];
}

function error(directive, type, message) {
    return { event: { header: header("Alexa", "ErrorResponse", directive.header.correlationToken), payload: { type, message } } };
}

const RETRIEVABLE = (name) => ({ supported: [{ name }], proactivelyReported: false, retrievable: true });

/** A skill handler around `verify(token) -> Promise<claims>` (throws when the token is bad). */
function skillHandler(verify) {
    const table = process.env.SKILL_LAMP_TABLE;
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const update = async (sub, expression, values) => (await documents.send(new UpdateCommand({
        TableName: table, Key: { userId: sub }, UpdateExpression: expression, ExpressionAttributeValues: values, ReturnValues: "ALL_NEW",
    }))).Attributes;

    return async function handler(event) {
        const directive = event.directive;
        const { namespace, name, correlationToken } = directive.header;
        const token = namespace === "Alexa.Discovery" ? directive.payload.scope.token
            : namespace === "Alexa.Authorization" ? directive.payload.grantee.token
                : directive.endpoint.scope.token;
        let claims;
        try {
            claims = await verify(token);
        } catch (err) {
            return error(directive, err && /expired/i.test(err.message) ? "EXPIRED_AUTHORIZATION_CREDENTIAL" : "INVALID_AUTHORIZATION_CREDENTIAL", "The token is not valid.");
        }
        const sub = claims.sub;
        if (namespace === "Alexa.Discovery") {
            return { event: { header: header("Alexa.Discovery", "Discover.Response"), payload: { endpoints: [{
                endpointId: endpointId(sub), manufacturerName: "SmartLamp", friendlyName: "Smart Lamp", description: "Dimmable SmartLamp linked to your account",
                displayCategories: ["LIGHT"], capabilities: [
                    { type: "AlexaInterface", interface: "Alexa", version: "3" },
                    { type: "AlexaInterface", interface: "Alexa.PowerController", version: "3", properties: RETRIEVABLE("powerState") },
                    { type: "AlexaInterface", interface: "Alexa.BrightnessController", version: "3", properties: RETRIEVABLE("brightness") },
                    { type: "AlexaInterface", interface: "Alexa.EndpointHealth", version: "3", properties: RETRIEVABLE("connectivity") },
                ] }] } } };
        }
        if (namespace === "Alexa.Authorization") {
            return { event: { header: header("Alexa.Authorization", "AcceptGrant.Response"), payload: {} } };
        }
        if (directive.endpoint.endpointId !== endpointId(sub)) {
            return error(directive, "NO_SUCH_ENDPOINT", "No such endpoint.");
        }
        let item;
        try {
            switch (`${namespace}.${name}`) {
                case "Alexa.PowerController.TurnOn":
                case "Alexa.PowerController.TurnOff":
                    item = await update(sub, "SET powerState = :p", { ":p": name === "TurnOn" ? "ON" : "OFF" });
                    break;
                case "Alexa.BrightnessController.AdjustBrightness":
                    item = await update(sub, "SET powerState = :on, brightness = if_not_exists(brightness, :full) + :d",
                        { ":on": "ON", ":full": 100, ":d": directive.payload.brightnessDelta });
                    break;
                case "Alexa.BrightnessController.SetBrightness":
                    item = await update(sub, "SET powerState = :on, brightness = :b", { ":on": "ON", ":b": directive.payload.brightness });
                    break;
                case "Alexa.ReportState":
                    item = (await documents.send(new GetCommand({ TableName: table, Key: { userId: sub }, ConsistentRead: true }))).Item ?? {};
                    break;
                default:
                    return error(directive, "INVALID_DIRECTIVE", "Unsupported directive.");
            }
        } catch {
            return error(directive, "INTERNAL_ERROR", "The lamp is unavailable.");
        }
        const endpoint = { endpointId: directive.endpoint.endpointId, scope: directive.endpoint.scope };
        return {
            event: { header: header("Alexa", name === "ReportState" ? "StateReport" : "Response", correlationToken), endpoint, payload: {} },
            context: { properties: properties(item) },
        };
    };
}

module.exports = { skillHandler };
