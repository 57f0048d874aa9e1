// A local stand-in for Login with Amazon's token endpoint and the Alexa Skill Management API, on
// 127.0.0.1, answering as Amazon documents them, so that the dynamic provider (infra/skillProviders.ts)
// and `npm run check-linking` run against every answer they must handle.
//
// What it models, and where Amazon documents it:
// - POST /auth/o2/token, grant_type=refresh_token with client_id and client_secret in the form:
//   200 {access_token, refresh_token, token_type: "bearer", expires_in: 3600}; an unknown or revoked
//   refresh token 400 {error: "invalid_grant"}; a wrong client ID or secret 401 {error: "invalid_client"}
//   (developer.amazon.com/docs/login-with-amazon/refresh-token.html, .../authorization-code-grant.html
//   "Access Token Response" and "Access Token Errors"; developer.amazon.com/docs/alexa/smapi/get-access-token-smapi.html).
// - Every SMAPI request needs `Authorization: Bearer <LWA access token>`: otherwise 401 with a
//   StandardizedError body {code, message}; a profile without the skill scopes 403 {message}
//   (developer.amazon.com/docs/alexa/smapi/skill-operations.html, "Exceptions" of each operation).
// - GET /v1/skills/{skillId}/stages/{stage}/manifest: 200 with the manifest envelope and an `ETag`
//   header; an unknown skill 404 {code: "RESOURCE_NOT_FOUND", message} (skill-operations.html, "Get manifest").
// - PUT /v1/skills/{skillId}/stages/{stage}/manifest with `If-Match: <ETag>`: 202 with `Location`
//   (the status URL); an ETag that is no longer current 412 "Precondition failed"; a body that is not
//   a manifest envelope 400 {message, violations[]}; while an earlier update is still being applied
//   409 "conflict with the current state of the target resource" (skill-operations.html, "Update
//   manifest"; SMAPI's model: updateSkillManifestV1 202/400/409/412, BadRequestError). The ETag
//   changes when an update has been applied.
// - GET /v1/skills/{skillId}/status?resource=manifest: {manifest: {lastUpdateRequest: {status:
//   IN_PROGRESS | SUCCEEDED | FAILED, errors: [StandardizedError]}, eTag}}: the update is applied
//   asynchronously; it FAILS when an endpoint is a function Alexa may not invoke (no Lambda
//   permission for the skill), with the field in validationDetails.originalInstance.propertyPath
//   (skill-operations.html, "Get skill status"; error-codes.html for the error object). With
//   `staleStatusPolls`, the first polls after a PUT still show the previous update's outcome and
//   eTag, before SMAPI shows this one IN_PROGRESS: what a status read right after the PUT may see
//   (the eTag is "an opaque identifier for last successfully updated resource": SMAPI's model,
//   ManifestStatus).
// - GET and PUT /v1/skills/{skillId}/stages/{stage}/accountLinkingClient: GET 200
//   {accountLinkingResponse: {...}} without the client secret; PUT with {accountLinkingRequest}
//   204 (developer.amazon.com/docs/alexa/smapi/account-linking-operations.html; field rules in
//   account-linking-schemas.html, checked here by infra/accountLinkingRequest.ts's own checker).
// - The live stage: GET /v1/skills/{skillId}/stages/live/manifest and .../accountLinkingClient
//   answer as the development stage's do, with what the last certified and published version has;
//   a skill never published has no live stage: 404 RESOURCE_NOT_FOUND (skill-operations.html, "Get
//   manifest": stage is development or live; account-linking-operations.html: the same stages).
//   `publish` copies the development stage there, as certification and publishing do. Not
//   modeled: SMAPI's answer to a write to the live stage (the project never writes it).
// - GET /v1/skills/{skillId}/credentials: 200 {skillMessagingCredentials: {clientId, clientSecret}}
//   (SMAPI's getSkillCredentialsV1, "Get the client credentials for the skill").
// - 429 Too Many Requests (StandardizedError) on any operation, injected with `fault` (the
//   "Exceptions" lists: throttling per API, client and customer).
import { createServer, IncomingMessage, Server } from "http";
import { AddressInfo } from "net";
import { accountLinkingRequest, accountLinkingRequestProblems } from "../../infra/accountLinkingRequest";
import { requestBody } from "../../local/requestBody";

export interface StandInSkill {
    manifest: any;
    eTag: number;
    accountLinking?: Record<string, unknown>;
    messagingCredentials?: { clientId: string; clientSecret: string };
    /** What the last certified and published version has; undefined: never published. */
    live?: { manifest: any; accountLinking?: Record<string, unknown> };
    /** The update SMAPI is still applying, with the polls left before it finishes. */
    pending?: { manifest: any; pollsLeft: number; stale: number; before: { lastUpdateRequest: unknown; eTag: string } };
    lastUpdate?: { status: "IN_PROGRESS" | "SUCCEEDED" | "FAILED"; errors?: unknown[] };
}

export interface RecordedRequest {
    method: string;
    path: string;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}

export interface Fault {
    method?: string;
    path: RegExp;
    status: number;
    body: unknown;
    /** Headers of the answer, `retry-after` say. */
    headers?: Record<string, string>;
    /** How many matching requests get this answer (default 1). */
    times?: number;
}

export interface StandInOptions {
    clientId?: string;
    clientSecret?: string;
    refreshToken?: string;
    /** The LWA profile's scopes; SMAPI answers 403 without alexa::ask:skills:readwrite. */
    scopes?: string[];
    /** Status polls that answer IN_PROGRESS before an update finishes (default 1). */
    pollsBeforeDone?: number;
    /** Status polls right after a PUT that still show the previous update's outcome (default 0). */
    staleStatusPolls?: number;
}

export const STAND_IN_CREDENTIALS = {
    clientId: "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef",
    clientSecret: "amzn1.oa2-cs.v1.standin-lwa-client-secret-0123456789",
    refreshToken: "Atzr|IwEBIStandInRefreshToken-0123456789abcdefghijklmnopqrstuvwxyz",
};

/** The account-linking request a primary stack sends through SMAPI: its Cognito domain, app client and secret. */
export const STACK_LINKING_REQUEST = accountLinkingRequest({
    authorizationUri: "https://smartlamp-dev-0123456789.auth.us-east-1.amazoncognito.com/oauth2/authorize",
    accessTokenUri: "https://smartlamp-dev-0123456789.auth.us-east-1.amazoncognito.com/oauth2/token",
    clientId: "1abcdefghij2klmnop3qrstuv4",
    clientSecret: "cognito-app-client-secret-0123456789abcdef",
    scopes: ["openid"],
    accessTokenValidityMinutes: 60,
});

export class SmapiStandIn {
    readonly skills = new Map<string, StandInSkill>();
    readonly requests: RecordedRequest[] = [];
    /** Function ARNs whose Lambda permission lets the skill invoke them (undefined: every ARN). */
    invocable?: Set<string>;
    base = "";
    private server?: Server;
    private faults: Fault[] = [];
    private accessTokens = new Set<string>();
    private revoked = false;
    private concurrentEdits: ((manifest: any) => void)[] = [];
    private readonly options: Required<StandInOptions>;

    constructor(options: StandInOptions = {}) {
        this.options = {
            ...STAND_IN_CREDENTIALS,
            scopes: ["alexa::ask:skills:readwrite", "alexa::ask:models:readwrite"],
            pollsBeforeDone: 1,
            staleStatusPolls: 0,
            ...options,
        };
    }

    /** The URLs the provider takes in place of Amazon's. */
    get endpoints() {
        return { smapiBase: this.base, lwaTokenUrl: `${this.base}/auth/o2/token` };
    }

    /** Certification and publishing: the development stage becomes what live users get. */
    publish(skillId: string): void {
        const skill = this.skills.get(skillId)!;
        skill.live = JSON.parse(JSON.stringify({ manifest: skill.manifest, accountLinking: skill.accountLinking }));
    }

    addSkill(skillId: string, manifest: any, extra: Partial<StandInSkill> = {}): void {
        this.skills.set(skillId, { manifest: JSON.parse(JSON.stringify(manifest)), eTag: 1, ...extra });
    }

    manifestOf(skillId: string): any {
        return this.skills.get(skillId)!.manifest;
    }

    /** Answers the next matching requests with `fault` instead of the model. */
    fault(fault: Fault): void {
        this.faults.push({ times: 1, ...fault });
    }

    /** The user removed the profile's access: LWA refuses the refresh token from now on. */
    revokeRefreshToken(): void {
        this.revoked = true;
    }

    /** Someone (the console, another stack) changes the manifest just before the next write arrives. */
    editBeforeNextWrite(edit: (manifest: any) => void): void {
        this.concurrentEdits.push(edit);
    }

    writes(): RecordedRequest[] {
        return this.requests.filter((r) => r.method !== "GET" && !r.path.startsWith("/auth/"));
    }

    async start(): Promise<this> {
        this.server = createServer((req, res) => {
            void requestBody(req).then((body) => {
                const answer = this.answer(req, body);
                const headers: Record<string, string> = { "content-type": "application/json", ...(answer.headers ?? {}) };
                res.writeHead(answer.status, headers).end(answer.body === undefined ? "" : JSON.stringify(answer.body));
            });
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", () => resolve()));
        this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        return this;
    }

    stop(): Promise<void> {
        return new Promise((resolve) => {
            if (!this.server) {
                return resolve();
            }
            this.server.close(() => resolve());
            this.server.closeAllConnections();
        });
    }

    private answer(req: IncomingMessage, body: string): { status: number; body?: unknown; headers?: Record<string, string> } {
        const url = new URL(req.url ?? "/", "http://localhost");
        const method = req.method ?? "GET";
        this.requests.push({ method, path: url.pathname + url.search, headers: req.headers, body });

        const fault = this.faults.find((f) => (f.method ?? method) === method && f.path.test(url.pathname) && (f.times ?? 1) > 0);
        if (fault) {
            fault.times = (fault.times ?? 1) - 1;
            return { status: fault.status, body: fault.body, headers: fault.headers };
        }

        if (method === "POST" && url.pathname === "/auth/o2/token") {
            return this.token(new URLSearchParams(body));
        }

        const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
        if (!token || !this.accessTokens.has(token)) {
            return { status: 401, body: { code: "UNAUTHORIZED", message: "The auth token is invalid/expired or doesn't have access to the resource." } };
        }
        if (!this.options.scopes.includes("alexa::ask:skills:readwrite")) {
            return { status: 403, body: { message: "The operation being requested is not allowed." } };
        }

        const match = /^\/v1\/skills\/([^/]+)\/(stages\/(development|live)\/(manifest|accountLinkingClient)|status|credentials)$/.exec(url.pathname);
        const skill = match ? this.skills.get(decodeURIComponent(match[1])) : undefined;
        if (!match || !skill) {
            return { status: 404, body: { code: "RESOURCE_NOT_FOUND", message: "The resource being requested is not found." } };
        }
        const skillId = decodeURIComponent(match[1]);
        const resource = match[4] ?? match[2];
        if (match[3] === "live") {
            return this.liveStage(skill, resource, method);
        }

        if (resource === "manifest" && method === "GET") {
            return { status: 200, body: skill.manifest, headers: { etag: String(skill.eTag) } };
        }
        if (resource === "manifest" && method === "PUT") {
            return this.updateManifest(skillId, skill, req.headers["if-match"], body);
        }
        if (resource === "status" && method === "GET") {
            return this.status(skill);
        }
        if (resource === "accountLinkingClient" && method === "GET") {
            if (!skill.accountLinking) {
                return { status: 404, body: { code: "RESOURCE_NOT_FOUND", message: "Account linking information is not found." } };
            }
            const shown = { ...skill.accountLinking };
            delete shown.clientSecret;
            return { status: 200, body: { accountLinkingResponse: shown } };
        }
        if (resource === "accountLinkingClient" && method === "PUT") {
            const parsed = parseJson(body);
            const problems = accountLinkingRequestProblems(parsed);
            if (problems.length > 0) {
                return {
                    status: 400,
                    body: { message: "Request is not valid.", violations: problems.map((p) => ({ code: "INVALID_REQUEST_PARAMETER", message: p })) },
                };
            }
            skill.accountLinking = { ...(parsed as { accountLinkingRequest: Record<string, unknown> }).accountLinkingRequest };
            return { status: 204 };
        }
        if (resource === "credentials" && method === "GET") {
            return skill.messagingCredentials
                ? { status: 200, body: { skillMessagingCredentials: skill.messagingCredentials } }
                : { status: 404, body: { code: "RESOURCE_NOT_FOUND", message: "The skill has no messaging credentials (no permissions in its manifest)." } };
        }
        return { status: 405, body: { message: `${method} is not supported here.` } };
    }

    private liveStage(skill: StandInSkill, resource: string, method: string) {
        if (method !== "GET") {
            return { status: 405, body: { message: `${method} on the live stage is not modeled here.` } };
        }
        const shown = resource === "manifest" ? skill.live?.manifest : skill.live?.accountLinking;
        if (shown === undefined) {
            return { status: 404, body: { code: "RESOURCE_NOT_FOUND", message: "The resource being requested is not found." } };
        }
        if (resource === "manifest") {
            return { status: 200, body: shown };
        }
        const linking = { ...shown };
        delete linking.clientSecret;
        return { status: 200, body: { accountLinkingResponse: linking } };
    }

    private token(form: URLSearchParams) {
        if (form.get("client_id") !== this.options.clientId || form.get("client_secret") !== this.options.clientSecret) {
            return { status: 401, body: { error: "invalid_client", error_description: "Client authentication failed" } };
        }
        if (form.get("grant_type") !== "refresh_token") {
            return { status: 400, body: { error: "unsupported_grant_type", error_description: "The authorization grant type is not supported" } };
        }
        if (this.revoked || form.get("refresh_token") !== this.options.refreshToken) {
            return { status: 400, body: { error: "invalid_grant", error_description: "The request has an invalid grant parameter : refresh_token" } };
        }
        const accessToken = `Atza|standin-${this.accessTokens.size + 1}-${Math.random().toString(36).slice(2)}`;
        this.accessTokens.add(accessToken);
        return { status: 200, body: { access_token: accessToken, refresh_token: this.options.refreshToken, token_type: "bearer", expires_in: 3600 } };
    }

    private updateManifest(skillId: string, skill: StandInSkill, ifMatch: string | string[] | undefined, body: string) {
        for (const edit of this.concurrentEdits.splice(0)) {
            edit(skill.manifest);
            skill.eTag += 1;
        }
        if (skill.pending) {
            return { status: 409, body: { code: "CONFLICT", message: "The request could not be completed due to a conflict with the current state of the target resource." } };
        }
        if (ifMatch !== undefined && String(ifMatch) !== String(skill.eTag)) {
            return { status: 412, body: { code: "PRECONDITION_NOT_MET", message: "Precondition failed." } };
        }
        const parsed = parseJson(body) as { manifest?: unknown } | undefined;
        if (typeof parsed?.manifest !== "object" || parsed.manifest === null) {
            return {
                status: 400,
                body: { message: "Request is not valid.", violations: [{ code: "MISSING_REQUIRED_PROPERTY", message: "Object instance at property path \"$.manifest\" is missing.", validationDetails: { originalInstance: { propertyPath: "$.manifest", type: "BODY" } } }] },
            };
        }
        const before = { lastUpdateRequest: skill.lastUpdate ?? { status: "SUCCEEDED" }, eTag: String(skill.eTag) };
        skill.pending = { manifest: parsed, pollsLeft: this.options.pollsBeforeDone, stale: this.options.staleStatusPolls, before };
        skill.lastUpdate = { status: "IN_PROGRESS" };
        return { status: 202, headers: { location: `/v1/skills/${skillId}/status?resource=manifest` } };
    }

    private status(skill: StandInSkill) {
        const pending = skill.pending;
        if (pending && pending.stale > 0) {
            pending.stale -= 1;
            return { status: 200, body: { manifest: pending.before } };
        }
        if (pending) {
            if (pending.pollsLeft > 0) {
                pending.pollsLeft -= 1;
            } else {
                const errors = this.endpointErrors(pending.manifest);
                skill.pending = undefined;
                if (errors.length > 0) {
                    skill.lastUpdate = { status: "FAILED", errors };
                } else {
                    skill.manifest = pending.manifest;
                    skill.eTag += 1;
                    skill.lastUpdate = { status: "SUCCEEDED" };
                }
            }
        }
        const lastUpdateRequest = skill.lastUpdate ?? { status: "SUCCEEDED" };
        return { status: 200, body: { manifest: { lastUpdateRequest, eTag: String(skill.eTag) } } };
    }

    private endpointErrors(envelope: any): unknown[] {
        if (!this.invocable) {
            return [];
        }
        const smartHome = envelope?.manifest?.apis?.smartHome ?? {};
        const entries: [string, unknown][] = [["$.manifest.apis.smartHome.endpoint.uri", smartHome.endpoint?.uri]];
        for (const [region, entry] of Object.entries(smartHome.regions ?? {})) {
            entries.push([`$.manifest.apis.smartHome.regions.${region}.endpoint.uri`, (entry as any)?.endpoint?.uri]);
        }
        return entries
            .filter(([, uri]) => typeof uri === "string" && !this.invocable!.has(uri))
            .map(([propertyPath, uri]) => ({
                message: `The trigger setting for the Lambda ${uri} is invalid. Error code: SkillManifestError`,
                validationDetails: { originalInstance: { propertyPath, type: "BODY" } },
            }));
    }
}

function parseJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

export async function startSmapiStandIn(options: StandInOptions = {}): Promise<SmapiStandIn> {
    return new SmapiStandIn(options).start();
}
