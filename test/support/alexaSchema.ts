// Amazon's Smart Home message schema and sample directives, read where shared/ keeps them
// (../shared/alexa from the project root, or ALEXA_DIR). They are not part of the project: in a
// user's fresh clone, tests that need them skip, saying why; under CI (CI=true) their absence
// fails the run instead (see requireAlexaDataUnderCi), so that no schema check is silently off.
import * as fs from "fs";
import * as path from "path";
import type { ValidateFunction } from "ajv";

export const ALEXA_DIR = process.env.ALEXA_DIR ? path.resolve(process.env.ALEXA_DIR) : path.resolve(__dirname, "../../../shared/alexa");
export const SAMPLES_DIR = path.join(ALEXA_DIR, "sample_messages");
export const alexaDataPresent = fs.existsSync(path.join(ALEXA_DIR, "alexa_smart_home_message_schema.json"));

export function skipWithoutAlexaData(ctx: Mocha.Context): void {
    if (!alexaDataPresent) {
        console.log(`    (skipped: Amazon's schema and samples are not at ${ALEXA_DIR}; see README "Testing")`);
        ctx.skip();
    }
}

/**
 * The reason the run must stop, when it must: CI services set CI=true (GitHub Actions, GitLab CI,
 * CircleCI and others), and there a missing schema would turn every schema check into a skip.
 */
export function missingAlexaDataUnderCi(env: NodeJS.ProcessEnv = process.env, present = alexaDataPresent): string | undefined {
    if (present || env.CI !== "true") {
        return undefined;
    }
    return `Amazon's Smart Home schema is not at ${ALEXA_DIR}, and CI=true: every schema check would be skipped. ` +
        "Put the schema and sample_messages there (or set ALEXA_DIR to their folder).";
}

let validator: ValidateFunction | undefined;

/** The compiled schema (compiled once per run: it takes about a second). */
export function alexaSchema(): ValidateFunction {
    if (!validator) {
        const Ajv = require("ajv-draft-04").default;
        const ajv = new Ajv({ strict: false, unicodeRegExp: false, allErrors: true, logger: false });
        validator = ajv.compile(JSON.parse(fs.readFileSync(path.join(ALEXA_DIR, "alexa_smart_home_message_schema.json"), "utf8"))) as ValidateFunction;
    }
    return validator;
}

/** Kinds of response validated in this run (namespace, name and error type), for the summary. */
export const validatedKinds = new Set<string>();

/** Throws with the schema's own words unless `message` validates. */
export function assertValidAlexaMessage(message: any): void {
    const validate = alexaSchema();
    if (!validate(message)) {
        const errors = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath} ${e.message}`).join("; ");
        throw new Error(`response does not validate against Amazon's schema: ${errors}\n${JSON.stringify(message).slice(0, 800)}`);
    }
    const { header, payload } = (message as { event: any }).event;
    validatedKinds.add([header.namespace, header.name, payload?.type].filter(Boolean).join(" "));
}

/** An Amazon sample directive (e.g. "PowerController/PowerController.TurnOn.request.json"), parsed afresh. */
export function sampleDirective(relativePath: string): any {
    return JSON.parse(fs.readFileSync(path.join(SAMPLES_DIR, relativePath), "utf8"));
}

export const SAMPLE_REQUESTS = {
    discover: "Discovery/Discovery.request.json",
    acceptGrant: "Authorization/Authorization.AcceptGrant.request.json",
    turnOn: "PowerController/PowerController.TurnOn.request.json",
    turnOff: "PowerController/PowerController.TurnOff.request.json",
    setBrightness: "BrightnessController/BrightnessController.SetBrightness.request.json",
    adjustBrightness: "BrightnessController/BrightnessController.AdjustBrightness.request.json",
    reportState: "StateReport/ReportState.json",
} as const;
