// A stand-in for SSM Parameter Store's GetParameter on 127.0.0.1 (AWS JSON 1.1, X-Amz-Target
// AmazonSSM.GetParameter), holding the parameters the test puts in it. Modeled answers, from
// docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html:
// - 200 {Parameter: {Name, Type, Value, Version, ARN, DataType}} (Value decrypted with WithDecryption)
// - 400 {__type "ParameterNotFound"} for a name it does not hold
// - a request whose Host header or Signature V4 does not hold: refused as AWS refuses it
//   (local/sigv4.ts, after the Common Errors page of the same reference)
// - 400 for a request that is not `Content-Type: application/x-amz-json-1.1`, the header of
//   GetParameter's request example on the same page; the error type is this stand-in's own
import { createServer } from "http";
import { interruptible, Interruptible } from "./interruptible";
import { signatureRefusal } from "./sigv4";
import { requestBody } from "./requestBody";

export interface SsmEndpoint {
    endpoint: string;
    outage: Interruptible;
    parameters: Map<string, string>;
    /** GetParameter requests received. */
    reads: number;
    stop(): Promise<void>;
}

export async function startSsmEndpoint(parameters: Record<string, string>): Promise<SsmEndpoint> {
    const state = { reads: 0, parameters: new Map(Object.entries(parameters)) };
    let listening = "";
    const server = createServer((req, res) => {
        void requestBody(req).then(async (text): Promise<void> => {
            const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify(body));
            const unsigned = await signatureRefusal(req, text, "ssm", listening);
            if (unsigned) {
                return void json(unsigned.status, { __type: unsigned.type, message: unsigned.message });
            }
            if (req.headers["x-amz-target"] !== "AmazonSSM.GetParameter") {
                return void json(400, { __type: "InvalidAction", message: "The action is not valid for this web service." });
            }
            if (req.headers["content-type"] !== "application/x-amz-json-1.1") {
                return void json(400, { __type: "UnsupportedContentType", message: "The request is not AWS JSON 1.1." });
            }
            state.reads++;
            const input = JSON.parse(text);
            const value = state.parameters.get(input.Name);
            if (value === undefined) {
                return void json(400, { __type: "ParameterNotFound", message: "" });
            }
            return void json(200, { Parameter: { Name: input.Name, Type: "SecureString", Value: input.WithDecryption ? value : "AQICAH-encrypted", Version: 1, DataType: "text", ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${input.Name}` } });
        });
    });
    const outage = await interruptible(server);
    listening = `127.0.0.1:${outage.port}`;
    return Object.assign(state, {
        endpoint: `http://127.0.0.1:${outage.port}`,
        outage,
        async stop() {
            await outage.takeDown();
        },
    });
}
