// The Alexa Client Secret's reader (handler/secret.ts) against the Parameter Store stand-in: one
// read per container, a failed read tried again, and an empty parameter named with what to do.
import { strict as assert } from "assert";
import { createServer } from "http";
import { AddressInfo } from "net";
import { createAwsJsonClient } from "../handler/awsJson";
import { createSecretReader, SSM_PROTOCOL } from "../handler/secret";
import { LOCAL_CREDENTIALS } from "../local/dynalite";
import { SsmEndpoint, startSsmEndpoint } from "../local/ssmEndpoint";

describe("the client secret's reader", () => {
    let ssm: SsmEndpoint;
    const reader = (parameterName: string) => createSecretReader({
        parameterName,
        ssm: createAwsJsonClient(SSM_PROTOCOL, { endpoint: ssm.endpoint, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS, maxAttempts: 1 }),
    });

    before(async () => {
        ssm = await startSsmEndpoint({ "/secret": "amzn1.oa2-cs.v1.abc", "/empty": "" });
    });
    after(() => ssm.stop());

    it("reads the parameter decrypted, once for the container's life", async () => {
        const secret = reader("/secret");
        const before = ssm.reads;
        assert.deepEqual(await Promise.all([secret(), secret()]), ["amzn1.oa2-cs.v1.abc", "amzn1.oa2-cs.v1.abc"]);
        assert.equal(await secret(), "amzn1.oa2-cs.v1.abc");
        assert.equal(ssm.reads - before, 1);
    });

    it("refuses an empty parameter, saying which and what to set", async () => {
        await assert.rejects(reader("/empty")(), /^EmptyParameter: the parameter \/empty holds no value; set alexaClientSecret and redeploy$/);
    });

    it("names Parameter Store in what it says of an answer it cannot read", async () => {
        const proxy = createServer((_req, res) => res.writeHead(502, { "content-type": "text/html" }).end("<html>Bad Gateway</html>"));
        await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
        try {
            const secret = createSecretReader({
                parameterName: "/secret",
                ssm: createAwsJsonClient(SSM_PROTOCOL, { endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, region: "us-east-1", credentials: () => LOCAL_CREDENTIALS, maxAttempts: 1 }),
            });
            await assert.rejects(secret(), /SSM answered 502 with a body that is not JSON/);
        } finally {
            proxy.close();
        }
    });

    it("tries again on the next call after a failed read", async () => {
        const secret = reader("/later");
        await assert.rejects(secret(), /ParameterNotFound/);
        ssm.parameters.set("/later", "amzn1.oa2-cs.v1.later");
        assert.equal(await secret(), "amzn1.oa2-cs.v1.later");
    });
});
