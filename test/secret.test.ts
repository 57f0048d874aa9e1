// The Alexa Client Secret's reader (handler/secret.ts) against the Parameter Store stand-in: one
// read per container, a failed read tried again, and an empty parameter named with what to do.
import { strict as assert } from "assert";
import { createAwsJsonClient } from "../handler/awsJson";
import { createSecretReader, SSM_PROTOCOL } from "../handler/secret";
import { LOCAL_CREDENTIALS } from "./support/dynalite";
import { SsmEndpoint, startSsmEndpoint } from "./support/ssmEndpoint";

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

    it("tries again on the next call after a failed read", async () => {
        const secret = reader("/later");
        await assert.rejects(secret(), /ParameterNotFound/);
        ssm.parameters.set("/later", "amzn1.oa2-cs.v1.later");
        assert.equal(await secret(), "amzn1.oa2-cs.v1.later");
    });
});
