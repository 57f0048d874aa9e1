// A real browser for the page tests, driven by playwright-core, which downloads none: the tests use
// a Chrome, Chromium or Edge already installed. Where one is looked for: CHROMIUM_PATH when set (and
// only there), else the places each of them installs itself on Linux, macOS and Windows (the paths
// playwright-core's channels use: server/registry/index.js, and Debian's and Snap's packages), else
// those names on PATH. Without one, the browser tests are skipped, saying what to install; under
// CI (CI=true) the run fails instead, as a silent skip there would pass untested.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { BrowserContext } from "playwright-core";

/** Where Chrome, Chromium and Edge install themselves, in the order tried. */
export function browserCandidates(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string[] {
    if (platform === "darwin") {
        return [
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
            "/Applications/Chromium.app/Contents/MacOS/Chromium",
            "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
            path.join(os.homedir(), "Applications/Google Chrome.app/Contents/MacOS/Google Chrome"),
        ];
    }
    if (platform === "win32") {
        const roots = [env.LOCALAPPDATA, env.PROGRAMFILES, env["PROGRAMFILES(X86)"]].filter((root): root is string => !!root);
        return roots.flatMap((root) => [
            path.win32.join(root, "Google\\Chrome\\Application\\chrome.exe"),
            path.win32.join(root, "Microsoft\\Edge\\Application\\msedge.exe"),
        ]);
    }
    return [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/snap/bin/chromium",
        "/opt/google/chrome/chrome",
        "/usr/bin/google-chrome",
        "/usr/bin/google-chrome-stable",
        "/opt/microsoft/msedge/msedge",
        "/usr/bin/microsoft-edge",
    ];
}

const NAMES_ON_PATH = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "microsoft-edge", "msedge"];

export type BrowserLookup = { found: string } | { missing: string };

/** The browser to drive, or why there is none. */
export function findBrowser(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, exists: (file: string) => boolean = fs.existsSync): BrowserLookup {
    if (env.CHROMIUM_PATH) {
        return exists(env.CHROMIUM_PATH)
            ? { found: env.CHROMIUM_PATH }
            : { missing: `CHROMIUM_PATH is ${env.CHROMIUM_PATH}, where there is no browser: set it to a Chrome, Chromium or Edge, or unset it to look in the usual places` };
    }
    const onPath = (env.PATH ?? "").split(path.delimiter).filter(Boolean)
        .flatMap((dir) => NAMES_ON_PATH.map((name) => path.join(dir, platform === "win32" ? `${name}.exe` : name)));
    const found = [...browserCandidates(platform, env), ...onPath].find(exists);
    return found
        ? { found }
        : { missing: "no Chrome, Chromium or Edge is installed where they install themselves: install one (Debian/Ubuntu: apt-get install -y chromium; macOS: Google Chrome), or set CHROMIUM_PATH to one" };
}

/**
 * For a suite's `before`: the browser, or the suite skipped with the reason printed (its tests show
 * as pending, by name). Under CI=true a missing browser throws.
 */
export function browserOrSkip(ctx: Mocha.Context, env: NodeJS.ProcessEnv = process.env): string {
    const lookup = findBrowser(env);
    if ("found" in lookup) {
        return lookup.found;
    }
    if (env.CI === "true") {
        throw new Error(`The browser tests cannot run, and CI=true: ${lookup.missing}. (.ci/run installs Debian's chromium when it is missing.)`);
    }
    console.log(`    (browser tests skipped: ${lookup.missing})`);
    ctx.skip();
}

export interface LaunchedBrowser {
    /** A context on a fresh profile (the --user-data-dir is Playwright's persistent-context folder). */
    context: BrowserContext;
    version: string;
    close(): Promise<void>;
}

export async function launchChromium(executablePath: string): Promise<LaunchedBrowser> {
    const { chromium } = await import("playwright-core");
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "chromium-profile-"));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath,
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
