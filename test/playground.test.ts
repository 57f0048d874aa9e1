import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import { createServer } from "net";
import * as path from "path";
import { lampEndpointId } from "../handler/lamp";
import { Playground, startPlayground } from "../playground";
import { browserOrSkip, launchChromium } from "./support/browser";
import { alexaDataPresent, assertValidAlexaMessage } from "./support/alexaSchema";

/** A port nothing listens on now (and its next two), for `npm start`'s PORT. */
async function freePorts(): Promise<number> {
    for (;;) {
        const port = 20000 + Math.floor(Math.random() * 20000);
        const free = await Promise.all([0, 1, 2].map((offset) => new Promise<boolean>((resolve) => {
            const probe = createServer().once("error", () => resolve(false)).listen(port + offset, "127.0.0.1", () => probe.close(() => resolve(true)));
        })));
        if (free.every(Boolean)) {
            return port;
        }
    }
}

/** `npm start`'s own command (package.json), with PORT; resolves once it printed `waitFor`. */
function npmStart(port: number, waitFor: RegExp): { child: ChildProcess; output: () => string; printed: Promise<string>; exited: Promise<number | null> } {
    const child = spawn(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "playground/main.ts"], {
        cwd: path.resolve(__dirname, ".."),
        env: { ...process.env, PORT: String(port) },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const printed = new Promise<string>((resolve, reject) => {
        const look = (chunk: Buffer) => {
            output += chunk;
            if (waitFor.test(output)) {
                resolve(output);
            }
        };
        child.stdout!.on("data", look);
        child.stderr!.on("data", look);
        exited.then((code) => reject(new Error(`npm start ended (exit ${code}) before printing ${waitFor}:\n${output}`)));
    });
    return { child, output: () => output, printed, exited };
}

describe("npm start (the playground)", function () {
    this.timeout(180000);

    it("prints the address, serves the simulator there on 127.0.0.1, and stops every server on Ctrl+C", async () => {
        const port = await freePorts();
        const started = Date.now();
        const run = npmStart(port, /Stop with Ctrl\+C/);
        try {
            const text = await run.printed;
            const seconds = (Date.now() - started) / 1000;
            assert.match(text, new RegExp(`http://127\\.0\\.0\\.1:${port}/`));
            assert.match(text, /demo@example\.com/);
            const page = await fetch(`http://127.0.0.1:${port}/`);
            assert.equal(page.status, 200);
            assert.match(await page.text(), /<title>Alexa simulator/);
            const state = await (await fetch(`http://127.0.0.1:${port}/api/state`)).json() as { ready: boolean; links: { companion: string } };
            assert.equal(state.ready, true);
            assert.equal(state.links.companion, `http://localhost:${port + 2}/`);
            console.log(`      (npm start to the printed address: ${seconds.toFixed(1)} s, ts-node's compile included)`);
            run.child.kill("SIGINT");
            assert.equal(await run.exited, 0, run.output());
            // Every port it took is free again.
            for (const taken of [port, port + 1, port + 2]) {
                await assert.rejects(fetch(`http://127.0.0.1:${taken}/`), `port ${taken} still answers after Ctrl+C`);
            }
        } finally {
            run.child.kill("SIGKILL");
        }
    });

    it("says what to do when its port is taken, and starts nothing", async () => {
        const port = await freePorts();
        const squatter = createServer().listen(port + 1, "127.0.0.1");
        try {
            const run = npmStart(port, /in use/);
            const text = await run.printed;
            assert.equal(await run.exited, 1);
            assert.match(text, new RegExp(`Port ${port + 1} is in use by another program\\. Stop it, or start on other ports: PORT=${port + 10} npm start`));
            await assert.rejects(fetch(`http://127.0.0.1:${port}/`), "the simulator started anyway");
        } finally {
            squatter.close();
        }
    });
});

describe("the playground in a browser", function () {
    this.timeout(180000);
    let playground: Playground;
    let browserPath: string;
    const password = "Sunny-Lamp-2026!";

    before(async function () {
        browserPath = browserOrSkip(this);
        playground = await startPlayground({ port: 0, users: [{ email: "other@example.com", password: "Other-Lamp-2026!" }, { email: "third@example.com", password: "Third-Lamp-2026!" }] });
    });
    after(async () => {
        await playground?.stop();
    });

    it("links a new user, discovers the lamp, turns it on and to 40 %, and follows the companion page through a ChangeReport", async () => {
        const { context, close } = await launchChromium(browserPath);
        try {
            const alexa = await context.newPage();
            const problems: string[] = [];
            alexa.on("pageerror", (err) => problems.push(err.message));
            await alexa.goto(playground.url);
            await alexa.click("#enable");
            // The local pool's hosted login: sign up, confirm with the code from the mailbox.
            await alexa.click("#signUpLink");
            await alexa.fill("#signUpFormEmail", "new.user@example.com");
            await alexa.fill("#signUpFormPassword", password);
            await alexa.click("input[name=signUpButton]");
            await alexa.waitForSelector("#confirmFormCode");
            const mail = playground.cloud.pool.mailbox.at(-1)!;
            assert.equal(mail.email, "new.user@example.com");
            await alexa.fill("#confirmFormCode", mail.code);
            await alexa.click("input[name=confirm]");
            // Back in the simulator: linked, AcceptGrant answered, the lamp discovered.
            await alexa.waitForSelector("#lamp:not([hidden])");
            assert.match(await alexa.textContent("#account") ?? "", /Linked to new\.user@example\.com/);
            const sub = playground.cloud.pool.users().find((u) => u.email === "new.user@example.com")!.sub;
            const said = async () => (await alexa.locator("#conversation .said").allTextContents()).map((t) => t.replace(/^[\d:]+( [AP]M)?( · \d+ ms)?/, "").trim());
            assert.deepEqual((await said()).reverse(), ["(Alexa gives the skill permission to send events)", "(Enable skill: the account is linked)", "Alexa, discover devices"]);

            await alexa.click("#say-on");
            await alexa.waitForSelector("#lamp[data-power=ON]");
            await alexa.fill("#brightness-value", "40");
            await alexa.click("#say-set");
            await alexa.waitForSelector('#lamp[data-brightness="40"]');
            const answers = await alexa.locator("#conversation .speech").allTextContents();
            assert.deepEqual(answers.slice(0, 2), ["OK", "OK"]);
            assert.deepEqual((await said()).slice(0, 2), ["Alexa, set Smart Lamp to 40 percent", "Alexa, turn on Smart Lamp"]);
            // The skill's answers, as Alexa received them, are valid Smart Home messages.
            const state = await (await fetch(new URL("api/state", playground.url))).json() as any;
            for (const entry of state.activity.filter((a: any) => a.response)) {
                if (alexaDataPresent) {
                    assertValidAlexaMessage(entry.response);
                }
                assert.ok(!JSON.stringify(entry).includes("eyJ"), "the page's state holds a token");
            }
            assert.equal(state.lamps[0].endpointId, lampEndpointId(sub));

            // The companion page in a second tab: signed in already on this browser (the pool's
            // session), it shows the same lamp; switching it off there reaches Alexa as a ChangeReport.
            const companion = await context.newPage();
            companion.on("pageerror", (err) => problems.push(err.message));
            await companion.goto(playground.companionUrl);
            await companion.click("#sign-in");
            await companion.waitForSelector("body[data-lamp=ON]");
            assert.equal(await companion.textContent("#brightness"), "40");
            await companion.click("#toggle");
            await companion.waitForSelector("body[data-lamp=OFF]");
            await alexa.waitForSelector("#lamp[data-power=OFF]", { timeout: 15000 });
            assert.match(await alexa.textContent("#lamp-from") ?? "", /a ChangeReport/);
            assert.match(await alexa.textContent("#reports") ?? "", /OFF.*APP_INTERACTION/);
            const report = playground.cloud.gateway.accepted.at(-1)!.body;
            if (alexaDataPresent) {
                assertValidAlexaMessage(report);
            }
            assert.deepEqual(problems, []);
            await alexa.screenshot({ path: path.resolve(__dirname, "../reports/playground.png"), fullPage: true });

            // Disabling the skill revokes the skill's grant at Login with Amazon: the next change on
            // the companion page cannot reach Alexa, and the consumer forgets the dead grant (the
            // one answer that may: handler/causes.ts).
            await alexa.click("#disable");
            await alexa.waitForSelector("#enable:not([hidden])");
            await companion.click("#toggle");
            await companion.waitForSelector("body[data-lamp=ON]");
            await alexa.waitForSelector("#logs li:has-text('ChangeReport forgotten')", { timeout: 15000 });
            assert.equal(await alexa.locator("#reports li").count(), 1, "a report reached the disabled skill's Alexa");
        } finally {
            await close();
        }
    });

    it("refuses a wrong password, a tampered code, a skill that cannot take the events grant and another user's endpoint; refreshes an expired token", async () => {
        const { context, close } = await launchChromium(browserPath);
        try {
            const alexa = await context.newPage();
            await alexa.goto(playground.url);
            // Whatever an earlier test left linked, this Alexa account starts unlinked.
            await fetch(new URL("api/disable", playground.url), { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
            // A wrong password: the login page says so and no code is issued.
            const codesBefore = playground.cloud.pool.issued.codes;
            await alexa.click("#enable");
            await alexa.fill("#signInFormUsername", "other@example.com");
            await alexa.fill("#signInFormPassword", "Not-The-Password-1!");
            await alexa.click("input[name=signInSubmitButton]");
            assert.equal(await alexa.textContent("#loginErrorMessage"), "Incorrect username or password.");
            assert.equal(playground.cloud.pool.issued.codes, codesBefore);
            // The right password, but the code altered on its way back to Alexa: the token endpoint
            // refuses it (invalid_grant) and Alexa does not link.
            // (The login's answer is the redirect to Alexa's URL with the code: altered on the way.)
            await alexa.route("**/login?**", async (route) => {
                const answer = await route.fetch({ maxRedirects: 0 });
                const location = answer.headers().location;
                if (!location) {
                    return route.fulfill({ response: answer });
                }
                const back = new URL(location);
                back.searchParams.set("code", back.searchParams.get("code")!.replace(/^./, (c) => (c === "a" ? "b" : "a")));
                return route.fulfill({ status: 302, headers: { location: back.toString() } });
            });
            await alexa.fill("#signInFormUsername", "other@example.com");
            await alexa.fill("#signInFormPassword", "Other-Lamp-2026!");
            await alexa.click("input[name=signInSubmitButton]");
            await alexa.waitForSelector("#link-error:not([hidden])");
            assert.match(await alexa.textContent("#link-error") ?? "", /Unable to link .*invalid_grant/);
            assert.equal(await alexa.isVisible("#enable"), true);
            await alexa.unroute("**/login?**");
            // The skill cannot take the events grant (Login with Amazon refuses its code): Alexa does not link.
            playground.cloud.lwa.answerNext(1, 400, { error: "invalid_grant", error_description: "The request has an invalid grant parameter : code" });
            await alexa.click("#enable");
            await alexa.waitForSelector("#link-error:has-text('ACCEPT_GRANT_FAILED')");
            assert.equal(await alexa.isVisible("#lamp"), false);
            assert.equal(playground.cloud.lwa.scriptedLeft(), 0);
            // Linked properly (the pool's session signs the user in at once), then a directive for
            // another user's lamp: the skill refuses it.
            await alexa.click("#enable");
            await alexa.waitForSelector("#lamp:not([hidden])");
            assert.match(await alexa.textContent("#account") ?? "", /Linked to other@example\.com/);
            // The access token expires: Alexa refreshes it (grant_type=refresh_token) before the next directive.
            const tokensBefore = playground.cloud.pool.issued.tokens;
            await alexa.click("#expire");
            await alexa.click("#say-state");
            await alexa.waitForSelector("#account:has-text('refreshed 1 time')");
            assert.equal(playground.cloud.pool.issued.tokens, tokensBefore + 1);
            assert.deepEqual((await alexa.locator("#conversation .speech").allTextContents()).slice(0, 2), ["OK", "New access token"]);
            const someoneElse = playground.cloud.pool.users().find((u) => u.email === "third@example.com")!;
            await alexa.click("summary:text('Another endpoint')");
            await alexa.fill("#other-endpoint", lampEndpointId(someoneElse.sub));
            await alexa.click("#say-other");
            await alexa.waitForSelector("#conversation .speech.refused");
            const state = await (await fetch(new URL("api/state", playground.url))).json() as any;
            const last = state.activity.at(-1);
            assert.equal(last.response.event.payload.type, "NO_SUCH_ENDPOINT");
            assert.equal(last.outcome.speech, "Sorry, I can't find that device. It may have been removed.");
        } finally {
            await close();
        }
    });
});
