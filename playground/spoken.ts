// What Alexa would say after a directive, from the skill's answer. Amazon documents that Alexa
// tells the user the ErrorResponse's type and never its message (developer.amazon.com, "Alexa.
// ErrorResponse Interface 3", payload: "type ... Alexa shares this with the customer"; "message
// ... Alexa doesn't share this"); it does not publish the words. The phrases below are ours, in the
// spirit of what an Echo says; the consequence for the link is Amazon's (INVALID_AUTHORIZATION_
// CREDENTIAL: Alexa asks the user to link again; "Alexa.ErrorResponse", error type values).

export interface Outcome {
    /** The words, as the user would hear them. */
    speech: string;
    /** ok: done; refused: the skill said no for a reason of the user's; failed: the skill could not. */
    kind: "ok" | "refused" | "failed";
    /** The account link is gone: Alexa asks the user to enable the skill again. */
    linkLost?: boolean;
}

const ERRORS: Record<string, Outcome> = {
    NO_SUCH_ENDPOINT: { speech: "Sorry, I can't find that device. It may have been removed.", kind: "refused" },
    VALUE_OUT_OF_RANGE: { speech: "Sorry, Smart Lamp can't be set to that value.", kind: "refused" },
    INVALID_VALUE: { speech: "Sorry, Smart Lamp can't be set to that value.", kind: "refused" },
    INVALID_DIRECTIVE: { speech: "Sorry, Smart Lamp doesn't support that.", kind: "refused" },
    ENDPOINT_UNREACHABLE: { speech: "Smart Lamp is not responding. Please check its power and network.", kind: "failed" },
    BRIDGE_UNREACHABLE: { speech: "Smart Lamp is not responding. Please check its hub.", kind: "failed" },
    INTERNAL_ERROR: { speech: "Sorry, something went wrong with Smart Lamp. Please try again later.", kind: "failed" },
    EXPIRED_AUTHORIZATION_CREDENTIAL: { speech: "Sorry, I couldn't reach Smart Lamp. Please try again.", kind: "failed" },
    INVALID_AUTHORIZATION_CREDENTIAL: { speech: "To control Smart Lamp, please link your account again in the Alexa app.", kind: "failed", linkLost: true },
    ACCEPT_GRANT_FAILED: { speech: "Your account is linked, but Smart Lamp could not be given permission to send updates.", kind: "failed" },
};

/** What Alexa says after the skill answered `response` (undefined: no answer, e.g. the function failed). */
export function spokenOutcome(response: any): Outcome {
    const name = response?.event?.header?.name;
    if (name === "ErrorResponse") {
        return ERRORS[response.event.payload?.type] ?? { speech: "Sorry, Smart Lamp is not responding.", kind: "failed" };
    }
    if (name === "Response" || name === "StateReport" || name === "Discover.Response" || name === "AcceptGrant.Response") {
        return { speech: "OK", kind: "ok" };
    }
    return { speech: "Sorry, Smart Lamp is not responding.", kind: "failed" };
}
