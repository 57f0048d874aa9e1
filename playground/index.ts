// The playground: the stack stood up on this machine (localCloud.ts) and Alexa in front of it
// (alexaSimulator.ts), joined as they are in AWS: Alexa's redirect URL reaches the simulator, the
// functions' log lines and the pool's mail reach the page. `npm start` (main.ts) and the tests
// start it the same way.
import { startAlexaSimulator } from "./alexaSimulator";
import { assertPortFree, FunctionName, LocalCloud, startLocalCloud } from "./localCloud";
import { ReadableLine, readableLine } from "./readableLog";

export interface PlaygroundOptions {
    /** The simulator's port; the pool takes the next one, the companion page the one after (0: any free ports). */
    port: number;
    /** Users the pool holds from the start. */
    users?: { email: string; password: string }[];
    /** Hears each function log line, made readable. */
    onLog?: (line: ReadableLine) => void;
    onMail?: (mail: { email: string; code: string }) => void;
}

export interface Playground {
    /** The one address to open: the Alexa simulator. */
    url: string;
    companionUrl: string;
    cloud: LocalCloud;
    stop(): Promise<void>;
}

export async function startPlayground(options: PlaygroundOptions): Promise<Playground> {
    const ports = options.port === 0 ? [0, 0, 0] : [options.port, options.port + 1, options.port + 2];
    for (const port of ports) {
        await assertPortFree(port);
    }
    const simulator = await startAlexaSimulator(ports[0]);
    try {
        const cloud = await startLocalCloud({
            poolPort: ports[1],
            companionPort: ports[2],
            alexaRedirectOrigin: new URL(simulator.url).origin,
            users: options.users ?? [],
            onLog: (fn: FunctionName, text: string, stream) => {
                const line = readableLine(fn, text, stream);
                if (line) {
                    simulator.log(line);
                    options.onLog?.(line);
                }
            },
            onMail: (mail) => {
                simulator.mail(mail);
                options.onMail?.(mail);
            },
        });
        simulator.attach(cloud);
        return {
            url: simulator.url,
            companionUrl: cloud.companionUrl,
            cloud,
            async stop() {
                await simulator.stop();
                await cloud.stop();
            },
        };
    } catch (err) {
        await simulator.stop();
        throw err;
    }
}
