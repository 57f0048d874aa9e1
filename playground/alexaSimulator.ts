// Alexa, for one Alexa account, on 127.0.0.1: it links the account the way Alexa does, sends the
// skill's function the directives a user's words would, says what Alexa would say, and receives the
// ChangeReports the event gateway accepts for the lamp it discovered. The page (simulatorPage.ts)
// shows it all; the page's own requests are the user's voice.
//
// Account linking, as Amazon documents it for the authorization code grant (developer.amazon.com,
// "Configure an Authorization Code Grant" and "Requirements for Account Linking"):
// - the Alexa app opens the Authorization URI with client_id, response_type=code, state, scope (the
//   console's scopes, space-separated) and redirect_uri (one of the skill's Alexa redirect URLs);
// - the login page sends the browser back to that redirect URL with code and state; Alexa checks the
//   state, then asks the Access Token URI for tokens: grant_type=authorization_code, code,
//   redirect_uri, the client's id and secret in an HTTP Basic header (the console's default
//   "Credentials in request body" off), and keeps the access and refresh tokens;
// - before the access token expires it asks again with grant_type=refresh_token;
// - with Send Alexa Events on, it sends the skill AcceptGrant with a Login with Amazon grant code;
//   then it discovers the user's devices (Discover).
// Here the URIs are the stack's own outputs; their Cognito host is the local pool, as a DNS entry
// would map it. Alexa's redirect URL reaches this server through the pool's redirectHosts.
import { randomBytes, randomUUID } from "crypto";
import { createServer, IncomingMessage, ServerResponse } from "http";
import { AddressInfo } from "net";
import { directives } from "../local/directives";
import { requestBody } from "../local/requestBody";
import type { LocalCloud } from "./localCloud";
import { Outcome, spokenOutcome } from "./spoken";
import { ReadableLine } from "./readableLog";
import { simulatorPage } from "./simulatorPage";

/** One thing the user asked Alexa, what Alexa sent, and what came back. */
export interface Activity {
    id: string;
    at: number;
    /** What the user said (or did in the Alexa app). */
    said: string;
    /** The directive as sent, with the bearer token left out. */
    directive?: unknown;
    response?: unknown;
    outcome: Outcome;
    durationMs?: number;
}

/** A ChangeReport as Alexa received it from the event gateway (the token left out). */
export interface ReceivedReport {
    at: number;
    endpointId: string;
    cause: string;
    powerState?: string;
    brightness?: number;
    body: unknown;
}

export interface LampAsAlexaKnowsIt {
    endpointId: string;
    friendlyName: string;
    powerState?: string;
    brightness?: number;
    /** Where the state came from: the last answer, or a ChangeReport. */
    from?: string;
}

/** What the page shows: the whole of the simulator's state. */
export interface SimulatorState {
    ready: boolean;
    linked: boolean;
    account?: { email?: string; user: string; linkedAt: number; accessTokenExpiresAt: number; refreshes: number };
    /** Why the last linking failed, in Alexa's words, and the OAuth error behind it. */
    linkError?: { message: string; detail: string };
    lamps: LampAsAlexaKnowsIt[];
    activity: Activity[];
    reports: ReceivedReport[];
    logs: (ReadableLine & { at: number })[];
    mail: { email: string; code: string; at: number }[];
    links: { companion?: string; pool?: string };
}

interface Link {
    /** The Login with Amazon grant code Alexa gave the skill in AcceptGrant (events on). */
    grantCode?: string;
    accessToken: string;
    refreshToken: string;
    expiresAt: number;
    refreshes: number;
    linkedAt: number;
    user: string;
    email?: string;
}

const MAX_KEPT = 200;
/** Alexa refreshes a token this long before it expires. */
const REFRESH_AHEAD_MS = 60_000;
/** Alexa waits this long for the token endpoint ("Configure an Authorization Code Grant": 4.5 seconds). */
const TOKEN_TIMEOUT_MS = 4500;
/** A linking not finished within this long is forgotten (its code would have expired: five minutes). */
const LINKING_MS = 10 * 60_000;

/** The claims of a JWT, read without verifying (Alexa shows who is linked; the skill verifies). */
function claimsOf(token: string | undefined): Record<string, any> {
    try {
        return JSON.parse(Buffer.from(String(token).split(".")[1], "base64url").toString("utf8"));
    } catch {
        return {};
    }
}

/** A message as the page shows it: the bearer token (a directive's, or its answer's scope) replaced by a note. */
function withoutToken(value: unknown): unknown {
    return JSON.parse(JSON.stringify(value), (key, v) => (key === "token" && typeof v === "string" ? `<${v.length}-character access token, left out>`
        : key === "code" && typeof v === "string" ? "<grant code, left out>" : v));
}

export interface AlexaSimulator {
    url: string;
    /** Connects it to the running stack; until then the page says it is starting. */
    attach(cloud: LocalCloud): void;
    /** A function's log line, for the page. */
    log(line: ReadableLine): void;
    mail(mail: { email: string; code: string }): void;
    state(): SimulatorState;
    stop(): Promise<void>;
}

export async function startAlexaSimulator(port: number): Promise<AlexaSimulator> {
    let cloud: LocalCloud | undefined;
    let link: Link | undefined;
    let linkError: SimulatorState["linkError"];
    const pendingStates = new Map<string, number>();
    let lamps: LampAsAlexaKnowsIt[] = [];
    const activity: Activity[] = [];
    const reports: ReceivedReport[] = [];
    const logs: SimulatorState["logs"] = [];
    const mail: SimulatorState["mail"] = [];
    const watchers = new Set<ServerResponse>();
    let stopListening: (() => void) | undefined;
    let redirectPath = "";
    const allowedHosts = new Set<string>();

    const keep = <T>(list: T[], item: T) => {
        list.push(item);
        list.splice(0, Math.max(0, list.length - MAX_KEPT));
    };

    function state(): SimulatorState {
        return {
            ready: cloud !== undefined,
            linked: link !== undefined,
            account: link && { email: link.email, user: link.user, linkedAt: link.linkedAt, accessTokenExpiresAt: link.expiresAt, refreshes: link.refreshes },
            linkError,
            lamps,
            activity,
            reports,
            logs,
            mail,
            links: { companion: cloud?.companionUrl, pool: cloud?.pool.base },
        };
    }

    /** Tells every open page the new state (server-sent events). */
    let pushScheduled = false;
    function changed() {
        if (pushScheduled) {
            return;
        }
        pushScheduled = true;
        setImmediate(() => {
            pushScheduled = false;
            const data = `data: ${JSON.stringify(state())}\n\n`;
            watchers.forEach((res) => res.write(data));
        });
    }

    /** The stack's URL as this machine serves it: the Cognito host is the local pool. */
    function local(url: string): string {
        const target = new URL(url);
        const pool = new URL(cloud!.pool.base);
        target.protocol = pool.protocol;
        target.host = pool.host;
        return target.toString();
    }

    /** Alexa's token request (HTTP Basic client authentication, as the console sets by default). */
    async function tokenRequest(form: Record<string, string>): Promise<{ ok: true; tokens: any } | { ok: false; error: string }> {
        const { clientId, clientSecret, accessTokenUri } = cloud!.linking;
        const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString("base64");
        try {
            const answer = await fetch(local(accessTokenUri), {
                method: "POST",
                headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${basic}` },
                body: new URLSearchParams(form).toString(),
                signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
            });
            const body = await answer.json().catch(() => ({})) as Record<string, unknown>;
            return answer.ok && typeof body.access_token === "string" ? { ok: true, tokens: body } : { ok: false, error: String(body.error ?? `HTTP ${answer.status}`) };
        } catch (err) {
            return { ok: false, error: `the token endpoint could not be reached (${(err as Error).message})` };
        }
    }

    /** Sends the skill one directive and records it; `said` is what the user said. */
    async function send(said: string, directive: { directive: any }): Promise<Activity> {
        const started = performance.now();
        let response: unknown;
        try {
            response = await cloud!.skill.invoke(directive);
        } catch {
            response = undefined; // the function failed: Alexa hears nothing back
        }
        const outcome = spokenOutcome(response);
        const entry: Activity = { id: randomUUID(), at: Date.now(), said, directive: withoutToken(directive), response: response === undefined ? undefined : withoutToken(response), outcome, durationMs: Math.round(performance.now() - started) };
        keep(activity, entry);
        learnFrom(response);
        if (outcome.linkLost) {
            // Alexa ends the link: the user must enable the skill again (Alexa.ErrorResponse, INVALID_AUTHORIZATION_CREDENTIAL).
            link = undefined;
            lamps = [];
            linkError = { message: "Alexa ended the link: the skill said the account's token is not valid. Enable the skill again.", detail: "INVALID_AUTHORIZATION_CREDENTIAL" };
        }
        changed();
        return entry;
    }

    /** What Alexa learns of the lamp from an answer: discovered endpoints, reported properties. */
    function learnFrom(response: any) {
        const event = response?.event;
        if (event?.header?.name === "Discover.Response") {
            lamps = (event.payload?.endpoints ?? []).map((e: any) => ({ endpointId: e.endpointId, friendlyName: e.friendlyName }));
            return;
        }
        const lamp = lamps.find((l) => l.endpointId === event?.endpoint?.endpointId);
        if (lamp && (event.header.name === "Response" || event.header.name === "StateReport")) {
            applyProperties(lamp, response.context?.properties ?? [], "the skill's answer");
        }
    }

    function applyProperties(lamp: LampAsAlexaKnowsIt, properties: any[], from: string) {
        for (const p of properties) {
            if (p.namespace === "Alexa.PowerController" && p.name === "powerState") {
                lamp.powerState = p.value;
                lamp.from = from;
            }
            if (p.namespace === "Alexa.BrightnessController" && p.name === "brightness") {
                lamp.brightness = p.value;
                lamp.from = from;
            }
        }
    }

    /** When tokens that say `expires_in` expire (without it, the stack's access token lifetime). */
    const expiry = (tokens: { expires_in?: unknown }) => Date.now() + (Number(tokens.expires_in) || cloud!.linking.accessTokenValidityMinutes * 60) * 1000;
    let refreshing: Promise<{ token?: string; problem?: string }> | undefined;

    /** A token good for the next directive, refreshed first when it is about to expire (one refresh at a time). */
    async function currentToken(): Promise<{ token?: string; problem?: string }> {
        if (!link) {
            return { problem: "Alexa has no linked account any more: enable the skill again." };
        }
        if (link.expiresAt - REFRESH_AHEAD_MS > Date.now()) {
            return { token: link.accessToken };
        }
        refreshing ??= refresh(link).finally(() => (refreshing = undefined));
        return refreshing;
    }

    async function refresh(current: Link): Promise<{ token?: string; problem?: string }> {
        const answer = await tokenRequest({ grant_type: "refresh_token", refresh_token: current.refreshToken });
        if (link !== current) {
            return { problem: "The account was unlinked meanwhile." };
        }
        if (!answer.ok) {
            keep(activity, { id: randomUUID(), at: Date.now(), said: "(Alexa refreshes the access token)", outcome: { speech: `The refresh failed: ${answer.error}`, kind: "failed", linkLost: answer.error === "invalid_grant" } });
            if (answer.error === "invalid_grant") {
                // The refresh token is dead: only now does Alexa give up the link.
                link = undefined;
                lamps = [];
                linkError = { message: "Alexa could not refresh the token and ended the link. Enable the skill again.", detail: answer.error };
            }
            changed();
            return { problem: answer.error === "invalid_grant" ? "The refresh token was refused (invalid_grant): Alexa ended the link. Enable the skill again."
                : `Alexa could not refresh the access token (${answer.error}); the link is kept: try again.` };
        }
        current.accessToken = answer.tokens.access_token;
        current.refreshToken = answer.tokens.refresh_token ?? current.refreshToken;
        current.expiresAt = expiry(answer.tokens);
        current.refreshes++;
        keep(activity, { id: randomUUID(), at: Date.now(), said: "(Alexa refreshes the access token)", outcome: { speech: "New access token", kind: "ok" } });
        return { token: current.accessToken };
    }

    /** The redirect URL's request: the end of the login, the token exchange, AcceptGrant, Discover. */
    async function finishLinking(url: URL, res: ServerResponse) {
        const params = url.searchParams;
        const state = params.get("state") ?? "";
        const fail = (message: string, detail: string) => {
            linkError = { message, detail };
            changed();
            res.writeHead(302, { location: "/?link=failed" }).end();
        };
        const startedAt = pendingStates.get(state);
        pendingStates.delete(state);
        if (startedAt === undefined || Date.now() - startedAt > LINKING_MS) {
            return fail("Unable to link your account: the answer did not come from the linking Alexa started.", "state does not match");
        }
        if (params.has("error")) {
            return fail("Unable to link your account with Smart Lamp at this time.", params.get("error")!);
        }
        const exchange = await tokenRequest({ grant_type: "authorization_code", code: params.get("code") ?? "", redirect_uri: cloud!.linking.alexaRedirectUrls[0] });
        if (!exchange.ok) {
            return fail("Unable to link your account with Smart Lamp at this time.", `the token endpoint answered ${exchange.error}`);
        }
        const { access_token: accessToken, refresh_token: refreshToken, id_token: idToken } = exchange.tokens;
        const linked: Link = { accessToken, refreshToken, expiresAt: expiry(exchange.tokens), refreshes: 0, linkedAt: Date.now(), user: claimsOf(accessToken).sub, email: claimsOf(idToken).email };
        if (cloud!.eventsOn) {
            // A skill that cannot take the grant fails the linking: Alexa says it could not link
            // (developer.amazon.com, "Troubleshooting Account Linking": an AcceptGrant error response).
            linked.grantCode = cloud!.lwa.issueCode();
            const accepted = await send("(Alexa gives the skill permission to send events)", directives.acceptGrant(accessToken, linked.grantCode));
            if ((accepted.response as any)?.event?.header?.name !== "AcceptGrant.Response") {
                return fail("Unable to link your account with Smart Lamp at this time.", `the skill answered AcceptGrant with ${(accepted.response as any)?.event?.payload?.type ?? "no answer"}`);
            }
        }
        link = linked;
        linkError = undefined;
        keep(activity, { id: randomUUID(), at: Date.now(), said: "(Enable skill: the account is linked)", outcome: { speech: "Smart Lamp has been successfully linked.", kind: "ok" } });
        await send("Alexa, discover devices", directives.discover(accessToken));
        res.writeHead(302, { location: "/?link=done" }).end();
    }

    type Say = { action: string; value?: number; endpointId?: string };
    const utterance = (name: string, say: Say) => ({
        TurnOn: `Alexa, turn on ${name}`,
        TurnOff: `Alexa, turn off ${name}`,
        SetBrightness: `Alexa, set ${name} to ${say.value} percent`,
        AdjustBrightness: Number(say.value) >= 0 ? `Alexa, brighten ${name} by ${say.value} percent` : `Alexa, dim ${name} by ${-Number(say.value)} percent`,
        ReportState: `(The Alexa app shows ${name})`,
        Discover: "Alexa, discover devices",
    } as Record<string, string>)[say.action];

    async function say(request: Say): Promise<{ status: number; body: unknown }> {
        if (!link) {
            return { status: 409, body: { message: "Enable the skill first: Alexa has no linked account." } };
        }
        const lamp = lamps[0];
        const endpointId = request.endpointId?.trim() || lamp?.endpointId;
        const name = request.endpointId?.trim() ? `the device ${request.endpointId.trim()}` : lamp?.friendlyName ?? "Smart Lamp";
        const words = utterance(name, request);
        if (!words) {
            return { status: 400, body: { message: `Alexa cannot ${request.action}: say TurnOn, TurnOff, SetBrightness, AdjustBrightness, ReportState or Discover.` } };
        }
        if (request.action !== "Discover" && !endpointId) {
            return { status: 409, body: { message: "No lamp was discovered: discover devices first." } };
        }
        if ((request.action === "SetBrightness" || request.action === "AdjustBrightness") && !Number.isFinite(request.value)) {
            return { status: 400, body: { message: "Give a brightness as a number." } };
        }
        const { token, problem } = await currentToken();
        if (!token) {
            return { status: 409, body: { message: problem } };
        }
        const directive = {
            TurnOn: () => directives.turnOn(token, endpointId!),
            TurnOff: () => directives.turnOff(token, endpointId!),
            SetBrightness: () => directives.setBrightness(token, endpointId!, request.value),
            AdjustBrightness: () => directives.adjustBrightness(token, endpointId!, request.value),
            ReportState: () => directives.reportState(token, endpointId!),
            Discover: () => directives.discover(token),
        }[request.action]!();
        return { status: 200, body: await send(words, directive) };
    }

    const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", "x-content-type-options": "nosniff" }).end(JSON.stringify(body));
        const route = `${req.method} ${url.pathname}`;
        // Only this machine's pages may drive it: no other Host (DNS rebinding), and no POST
        // another site's page could send without a preflight (a JSON body needs one).
        if (!allowedHosts.has(String(req.headers.host))) {
            return json(421, { message: `Open the simulator at ${url.protocol}//127.0.0.1:${port === 0 ? "<port>" : port}/` });
        }
        if (req.method === "POST" && !String(req.headers["content-type"]).startsWith("application/json")) {
            return json(415, { message: "Send JSON (content-type: application/json)." });
        }
        try {
            if (route === "GET /") {
                return void res.writeHead(200, { "content-type": "text/html;charset=UTF-8", "cache-control": "no-store", "x-content-type-options": "nosniff" }).end(simulatorPage());
            }
            if (route === "GET /api/state") {
                return json(200, state());
            }
            if (route === "GET /api/events") {
                res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
                res.write(`data: ${JSON.stringify(state())}\n\n`);
                watchers.add(res);
                req.on("close", () => watchers.delete(res));
                return;
            }
            if (!cloud) {
                return json(503, { message: "Still starting: the stack is being stood up. Try again in a moment." });
            }
            if (route === "GET /link") {
                // "Enable skill" in the Alexa app: the Authorization URI with Alexa's parameters.
                const stateValue = randomBytes(24).toString("base64url");
                for (const [pending, at] of pendingStates) {
                    if (Date.now() - at > LINKING_MS) {
                        pendingStates.delete(pending);
                    }
                }
                pendingStates.set(stateValue, Date.now());
                const authorize = new URL(local(cloud.linking.authorizationUri));
                authorize.search = new URLSearchParams({
                    client_id: cloud.linking.clientId,
                    response_type: "code",
                    state: stateValue,
                    scope: cloud.linking.scopes.join(" "),
                    redirect_uri: cloud.linking.alexaRedirectUrls[0],
                }).toString();
                return void res.writeHead(302, { location: authorize.toString() }).end();
            }
            if (req.method === "GET" && url.pathname === redirectPath) {
                return await finishLinking(url, res);
            }
            if (route === "POST /api/say") {
                let request: Say;
                try {
                    request = JSON.parse(await requestBody(req));
                } catch {
                    return json(400, { message: "Send JSON: {\"action\": \"TurnOn\"}." });
                }
                const answer = await say(request);
                return json(answer.status, answer.body);
            }
            if (route === "POST /api/token/expire") {
                // Lets the next directive show Alexa's refresh.
                if (link) {
                    link.expiresAt = Date.now();
                    changed();
                }
                return json(200, { expired: link !== undefined });
            }
            if (route === "POST /api/disable") {
                // "Disable skill": Alexa forgets the tokens and the devices, and revokes the skill's
                // Login with Amazon grant (developer.amazon.com, account linking FAQ), so the skill's
                // next event for this user is refused for good.
                const grant = link?.grantCode && cloud.lwa.grantOfCode(link.grantCode);
                if (grant) {
                    cloud.lwa.disableSkill(grant);
                }
                link = undefined;
                lamps = [];
                linkError = undefined;
                keep(activity, { id: randomUUID(), at: Date.now(), said: "(Disable skill)", outcome: { speech: "Smart Lamp has been disabled.", kind: "ok" } });
                changed();
                return json(200, { linked: false });
            }
            if (url.pathname === "/favicon.ico") {
                return void res.writeHead(204).end();
            }
            json(404, { message: "Not found" });
        } catch (err) {
            json(500, { message: `The simulator failed: ${(err as Error).message}` });
        }
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => resolve());
    });
    const listening = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${listening}/`;
    allowedHosts.add(`127.0.0.1:${listening}`).add(`localhost:${listening}`);

    return {
        url,
        attach(running) {
            cloud = running;
            redirectPath = new URL(running.linking.alexaRedirectUrls[0]).pathname;
            // What the gateway accepts for a lamp Alexa knows reaches this Alexa account.
            stopListening = running.gateway.onAccepted(({ body }) => {
                const event = body?.event;
                const lamp = lamps.find((l) => l.endpointId === event?.endpoint?.endpointId);
                if (!lamp || event?.header?.name !== "ChangeReport") {
                    return;
                }
                const changedProperties = event.payload?.change?.properties ?? [];
                applyProperties(lamp, changedProperties, "a ChangeReport");
                keep(reports, {
                    at: Date.now(),
                    endpointId: lamp.endpointId,
                    cause: event.payload?.change?.cause?.type,
                    powerState: changedProperties.find((p: any) => p.name === "powerState")?.value,
                    brightness: changedProperties.find((p: any) => p.name === "brightness")?.value,
                    body: withoutToken(body),
                });
                changed();
            });
            changed();
        },
        log(line) {
            keep(logs, { ...line, at: Date.now() });
            changed();
        },
        mail(message) {
            keep(mail, { ...message, at: Date.now() });
            changed();
        },
        state,
        stop: () => new Promise<void>((resolve) => {
            stopListening?.();
            watchers.forEach((res) => res.end());
            server.close(() => resolve());
            server.closeAllConnections();
        }),
    };
}
