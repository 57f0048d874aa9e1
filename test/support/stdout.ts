// What the functions write to stdout (their log lines), caught in the test's own process.

/**
 * Replaces `fs.writeSync` (where the log goes, file descriptor 1) and `process.stdout.write` while
 * `run` runs, and returns what reached each. `failWrites` makes writeSync fail as a full pipe does.
 */
export async function capturingStdout(run: () => Promise<void> | void, failWrites = false): Promise<{ fd1: string[]; stream: string[] }> {
    const fs = require("fs");
    const writeSync = fs.writeSync;
    const write = process.stdout.write;
    const captured = { fd1: [] as string[], stream: [] as string[] };
    fs.writeSync = (fd: number, text: string, ...rest: unknown[]) => {
        if (fd !== 1) {
            return writeSync(fd, text, ...rest);
        }
        if (failWrites) {
            throw Object.assign(new Error("EAGAIN: resource temporarily unavailable, write"), { code: "EAGAIN" });
        }
        captured.fd1.push(text);
        return text.length;
    };
    process.stdout.write = ((text: string) => captured.stream.push(text) > 0) as typeof process.stdout.write;
    try {
        await run();
    } finally {
        fs.writeSync = writeSync;
        process.stdout.write = write;
    }
    return captured;
}
