import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { stackProviderSettings } from "../infra/regionProvider";
import { isSecret } from "../local/pulumiProgram";

describe("a provider in another region, set up as the stack's default provider", () => {
    it("takes every aws:* key but the region, structured values parsed, and the stored-encrypted ones as secrets", async () => {
        const settings = stackProviderSettings({
            "aws:region": "eu-west-1",
            "aws:profile": "deployer",
            "aws:allowedAccountIds": '["123456789012"]',
            "aws:defaultTags": '{"tags":{"team":"lamps"}}',
            "aws:skipMetadataApiCheck": "true",
            "aws:maxRetries": "5",
            "aws:note": '"quoted"',
            "aws:secretKey": "s3cr3t",
            "alexa-account-linking:alexaSkillId": "amzn1.ask.skill.x",
            "awsish:key": "x",
        }, (key) => key === "aws:secretKey");
        const { secretKey, ...plain } = settings;
        assert.deepEqual(plain, {
            profile: "deployer",
            allowedAccountIds: ["123456789012"],
            defaultTags: { tags: { team: "lamps" } },
            skipMetadataApiCheck: true,
            maxRetries: 5,
            // A JSON string stays the text it was given (a value that merely looks quoted).
            note: '"quoted"',
        });
        assert.ok(pulumi.Output.isInstance(secretKey), "a key stored encrypted reaches the provider as a secret");
        assert.equal(await isSecret(secretKey as pulumi.Output<unknown>), true);
    });
});
