// The functions' JSON log lines (handler/log.ts and the consumer's and companion's lines), told in
// one readable line each, for the terminal and the simulator page. A line that is not a JSON object
// (a console.log left in) is shown as it is; on stderr (a stack trace, the runtime's own errors) at
// error level.

export interface ReadableLine {
    fn: string;
    level: "info" | "warn" | "error";
    /** What happened: the directive or request, and its outcome. */
    what: string;
    /** The remaining fields that matter to a reader, in words. */
    detail: string;
}

const SHOWN_APART = new Set(["level", "kind", "namespace", "name", "outcome", "method", "path", "status", "durationMs", "messageId", "requestId"]);

export function readableLine(fn: string, line: string, stream: "stdout" | "stderr" = "stdout"): ReadableLine | undefined {
    if (line.trim() === "") {
        return undefined;
    }
    const asItIs: ReadableLine = { fn, level: stream === "stderr" ? "error" : "info", what: line, detail: "" };
    let entry: Record<string, unknown>;
    try {
        entry = JSON.parse(line);
    } catch {
        return asItIs;
    }
    if (entry === null || typeof entry !== "object") {
        return asItIs;
    }
    const level = entry.level === "error" || entry.level === "warn" ? entry.level : "info";
    const took = typeof entry.durationMs === "number" ? ` in ${Number(entry.durationMs.toFixed(1))} ms` : "";
    let what: string;
    if (entry.kind === "CompanionRequest") {
        what = `${entry.method} ${entry.path} → ${entry.status}${took}`;
    } else if (entry.outcome === "sealed" || entry.outcome === "unsealed") {
        // The consumer's run at `pulumi up` (and at npm start): grants stored in the clear, sealed.
        what = `stored grants ${entry.outcome}`;
    } else if (entry.kind === "ChangeReport") {
        what = `ChangeReport ${entry.outcome}`;
    } else if (entry.namespace !== undefined || entry.name !== undefined) {
        what = `${entry.namespace}.${entry.name} → ${entry.outcome}${took}`;
    } else {
        what = String(entry.outcome ?? entry.message ?? line);
    }
    const detail = Object.entries(entry)
        .filter(([key, value]) => !SHOWN_APART.has(key) && value !== undefined)
        .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
        .join(" · ");
    return { fn, level, what, detail };
}

/** The line for a terminal: time, function, level (coloured when `colour`), what happened. */
export function terminalLine(line: ReadableLine, at: Date, colour: boolean): string {
    const paint = (code: number, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
    const level = line.level === "error" ? paint(31, "error") : line.level === "warn" ? paint(33, "warn ") : paint(2, "info ");
    const time = paint(2, at.toTimeString().slice(0, 8));
    return `${time} ${line.fn.padEnd(9)} ${level} ${line.what}${line.detail ? paint(2, "  " + line.detail) : ""}`;
}
