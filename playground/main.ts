// `npm start`: the stack, Cognito, Login with Amazon, the event gateway and Alexa itself on this
// machine, on 127.0.0.1 only, with nothing but `npm ci` before it. PORT (default 4000) is the
// simulator's; the two after it are the login's and the companion page's.
import { PortBusy } from "./localCloud";
import { Playground, startPlayground } from "./index";
import { terminalLine } from "./readableLog";

const DEMO_USER = { email: "demo@example.com", password: "Lamp-demo-2026!" };

async function main() {
    const port = Number(process.env.PORT ?? 4000);
    if (!Number.isInteger(port) || port < 1 || port > 65533) {
        console.error(`PORT must be a port number from 1 to 65533 (not ${JSON.stringify(process.env.PORT)}).`);
        process.exit(2);
    }
    const started = performance.now();
    const colour = process.stdout.isTTY === true;
    // Ctrl+C stops whatever has started, even while starting; a second one does not wait.
    let playground: Playground | undefined;
    let stopping = false;
    const stop = async () => {
        if (stopping) {
            console.log("Stopped without waiting.");
            process.exit(130);
        }
        stopping = true;
        if (!playground) {
            console.log("\nStopping as soon as what is starting has started (Ctrl+C again: at once)…");
            return;
        }
        console.log("\nStopping every server and function…");
        await playground.stop();
        process.exit(0);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    console.log("Starting: running index.ts under Pulumi's mocks and standing up what it declares…");
    try {
        playground = await startPlayground({
            port,
            users: [DEMO_USER],
            onLog: (line) => console.log(terminalLine(line, new Date(), colour)),
            onMail: (mail) => console.log(`  ✉  mail to ${mail.email}: your confirmation code is ${mail.code}`),
        });
    } catch (err) {
        if (err instanceof PortBusy) {
            console.error(`\nPort ${err.port} is in use by another program. Stop it, or start on other ports: PORT=${port + 10} npm start`);
            process.exit(1);
        }
        throw err;
    }
    if (stopping) {
        // Ctrl+C came while starting: stop what just started.
        await playground.stop();
        process.exit(0);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const bold = (text: string) => (colour ? `\x1b[1m${text}\x1b[0m` : text);
    console.log(`
Ready in ${seconds} s. Open the Alexa simulator:

    ${bold(playground.url)}

  Enable the skill and sign in as ${DEMO_USER.email} / ${DEMO_USER.password}, or sign up
  (the confirmation code shows here and on the page).
  Companion page: ${playground.companionUrl}
  Everything runs on 127.0.0.1 and lives in memory: stopping forgets users, links and lamps.
  Stop with Ctrl+C. The functions' log lines follow.
`);
}

main().catch((err) => {
    console.error("The playground could not start:", err instanceof Error ? err.message : err);
    process.exit(1);
});
