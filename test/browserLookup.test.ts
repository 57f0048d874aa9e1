import { strict as assert } from "assert";
import { browserCandidates, browserOrSkip, findBrowser } from "./support/browser";

describe("finding a browser for the page tests", () => {
    const only = (...present: string[]) => (file: string) => present.includes(file);

    it("takes CHROMIUM_PATH when set, and only it: a wrong one is reported, not passed over", () => {
        assert.deepEqual(findBrowser({ CHROMIUM_PATH: "/opt/my/chrome", PATH: "/usr/bin" }, "linux", only("/opt/my/chrome", "/usr/bin/chromium")), { found: "/opt/my/chrome" });
        const lookup = findBrowser({ CHROMIUM_PATH: "/nonexistent", PATH: "/usr/bin" }, "linux", only("/usr/bin/chromium"));
        assert.ok("missing" in lookup);
        assert.match(lookup.missing, /^CHROMIUM_PATH is \/nonexistent, where there is no browser/);
    });

    it("finds Debian's chromium, Google Chrome or Edge where each installs itself on Linux, in that order", () => {
        assert.deepEqual(findBrowser({}, "linux", only("/opt/google/chrome/chrome", "/opt/microsoft/msedge/msedge")), { found: "/opt/google/chrome/chrome" });
        assert.deepEqual(findBrowser({}, "linux", only("/opt/microsoft/msedge/msedge")), { found: "/opt/microsoft/msedge/msedge" });
        assert.deepEqual(findBrowser({}, "linux", only("/usr/bin/chromium", "/opt/google/chrome/chrome")), { found: "/usr/bin/chromium" });
    });

    it("finds Chrome, Chromium or Edge in /Applications on macOS, and Chrome or Edge under Program Files on Windows", () => {
        const chrome = "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome";
        assert.deepEqual(findBrowser({}, "darwin", only(chrome, "/usr/bin/chromium")), { found: chrome });
        assert.ok(browserCandidates("darwin").includes("/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"));
        const edge = "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe";
        assert.deepEqual(findBrowser({ "PROGRAMFILES(X86)": "C:\\Program Files (x86)" }, "win32", only(edge)), { found: edge });
    });

    it("finds one by its name on PATH when it is nowhere usual", () => {
        assert.deepEqual(findBrowser({ PATH: "/home/me/bin:/nix/bin" }, "linux", only("/nix/bin/google-chrome-stable")), { found: "/nix/bin/google-chrome-stable" });
    });

    it("says what to install when there is none", () => {
        const lookup = findBrowser({ PATH: "/usr/bin" }, "linux", only());
        assert.ok("missing" in lookup);
        assert.match(lookup.missing, /install one \(Debian\/Ubuntu: apt-get install -y chromium; macOS: Google Chrome\), or set CHROMIUM_PATH/);
    });

    describe("in a suite's before hook", () => {
        const context = () => {
            const ctx = { skipped: false, skip() { this.skipped = true; throw new Error("skipped"); } };
            return ctx;
        };

        it("skips the suite outside CI, and fails the run under CI=true", () => {
            const outside = context();
            assert.throws(() => browserOrSkip(outside as unknown as Mocha.Context, { CHROMIUM_PATH: "/nonexistent" }), /skipped/);
            assert.equal(outside.skipped, true);
            const underCi = context();
            assert.throws(() => browserOrSkip(underCi as unknown as Mocha.Context, { CHROMIUM_PATH: "/nonexistent", CI: "true" }),
                /The browser tests cannot run, and CI=true: CHROMIUM_PATH is \/nonexistent/);
            assert.equal(underCi.skipped, false);
        });
    });
});
