// Headless Chromium from Debian's package, driven by playwright-core (no browser download): the
// companion page's test signs in and switches the lamp in a real browser. `.ci/run` installs the
// package when /usr/bin/chromium is missing.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { BrowserContext } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface LaunchedBrowser {
    /** A context on a fresh profile (the --user-data-dir is Playwright's persistent-context folder). */
    context: BrowserContext;
    version: string;
    close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
    if (!fs.existsSync(CHROMIUM)) {
        throw new Error(`Chromium is not at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH; .ci/run does the first.`);
    }
    const { chromium } = await import("playwright-core");
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "chromium-profile-"));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"],
    });
    return {
        context,
        version: context.browser()?.version() ?? "unknown",
        async close() {
            await context.close();
            fs.rmSync(profile, { recursive: true, force: true });
        },
    };
}
