import { strict as assert } from "assert";
import { readDirective } from "../handler/alexa";
import { directives } from "../local/directives";

// Why an event is not a directive reaches the operator in the log line's `reason`: each refusal
// says which part is missing, and an empty header value counts as missing.
describe("reading a Lambda event as a directive", () => {
    const turnOn = () => directives.turnOn("a-token", "smartlamp-1") as { directive: Record<string, any> };
    const refusal = (event: unknown) => {
        const read = readDirective(event);
        assert.equal(read.ok, false);
        return (read as { reason: string }).reason;
    };

    it("reads a TurnOn: its header, endpoint and token", () => {
        const event = turnOn();
        assert.ok(event.directive.header.correlationToken);
        const read = readDirective(event);
        assert.ok(read.ok);
        assert.equal(read.directive.namespace, "Alexa.PowerController");
        assert.equal(read.directive.name, "TurnOn");
        assert.equal(read.directive.messageId, event.directive.header.messageId);
        assert.equal(read.directive.correlationToken, event.directive.header.correlationToken);
        assert.equal(read.directive.endpointId, "smartlamp-1");
        assert.equal(read.directive.token, "a-token");
    });

    it("names what is missing or wrong", () => {
        assert.equal(refusal({}), "the event has no directive header");
        assert.equal(refusal({ directive: { payload: {} } }), "the event has no directive header");
        const cases: [string, (event: ReturnType<typeof turnOn>) => void][] = [
            ["the header has no namespace or name", (e) => { e.directive.header.namespace = ""; }],
            ["the header has no namespace or name", (e) => { delete e.directive.header.name; }],
            ['payloadVersion must be "3"', (e) => { e.directive.header.payloadVersion = "2"; }],
            ["the header has no messageId", (e) => { e.directive.header.messageId = ""; }],
            ["the directive has no payload object", (e) => { e.directive.payload = [1]; }],
            ["the endpointId is malformed", (e) => { e.directive.endpoint.endpointId = "a lamp with spaces"; }],
        ];
        for (const [reason, change] of cases) {
            const event = turnOn();
            change(event);
            assert.equal(refusal(event), reason);
        }
    });

    it("takes an empty correlationToken as none (an answer then carries none)", () => {
        const event = turnOn();
        event.directive.header.correlationToken = "";
        const read = readDirective(event);
        assert.ok(read.ok);
        assert.equal(read.directive.correlationToken, undefined);
    });
});
