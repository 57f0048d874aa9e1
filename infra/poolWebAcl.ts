// An AWS WAF web ACL in front of the user pool: its login and sign-up pages, its OAuth endpoints
// and its API (Cognito developer guide, "Associate an AWS WAF web ACL with a user pool"). A web ACL
// is the operator's own (its rules, e.g. a rate limit per IP on sign-up, are theirs to choose); the
// stack only associates it, after confirming at `preview` and `up` that it exists in this account
// and region, so that a wrong ARN stops the `up` before the pool is touched.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, webAclName } from "./config";

const FIX = "pulumi config set wafWebAclArn <one of the ARNs that `aws wafv2 list-web-acls --scope REGIONAL` lists in the stack's region>";

/** `webAclArn`, once found in this account and region (the look-up runs at preview and up). */
function existingWebAcl(webAclArn: string, parent: pulumi.Resource): pulumi.Output<string> {
    const name = webAclName(webAclArn);
    const found = aws.wafv2.getWebAcl({ name, scope: "REGIONAL" }, { parent }).then(
        (acl) => acl.arn,
        (err: unknown) => {
            const text = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").trim().slice(0, 300) || "the look-up found nothing";
            throw new ConfigError([`wafWebAclArn is ${JSON.stringify(webAclArn)}: AWS WAF has no regional web ACL named "${name}" that this account can see in ` +
                `this region (${text}). Fix: ${FIX}`]);
        });
    return pulumi.output(found.then((arn) => {
        if (arn !== webAclArn) {
            // Same name, another ACL: one deleted and made again has a new id, and the old ARN is gone.
            throw new ConfigError([`wafWebAclArn is ${JSON.stringify(webAclArn)}: the regional web ACL named "${name}" here is ${arn}, ` +
                `another one (made again since?). Fix: pulumi config set wafWebAclArn ${arn}`]);
        }
        return arn;
    }));
}

/** Associates the web ACL `webAclArn` with the pool `userPoolArn`. */
export function associateWebAcl(name: string, userPoolArn: pulumi.Input<string>, webAclArn: string, parent: pulumi.Resource): aws.wafv2.WebAclAssociation {
    return new aws.wafv2.WebAclAssociation(name, {
        resourceArn: userPoolArn,
        webAclArn: existingWebAcl(webAclArn, parent),
    }, {
        parent,
        // Both inputs force a replacement, and the provider's delete disassociates whatever web ACL
        // the pool has at that moment (terraform-provider-aws internal/service/wafv2/
        // web_acl_association.go: Delete calls DisassociateWebACL with the resource ARN alone).
        // Created before the old one is deleted (the engine's default), the new association would be
        // removed by that delete, leaving the pool unprotected while the state says otherwise.
        deleteBeforeReplace: true,
    });
}
