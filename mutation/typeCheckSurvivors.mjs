// `node mutation/typeCheckSurvivors.mjs <mutation.json>`: the type check, after the run, of the
// mutants that survived a part run without Stryker's checker (mutation/infra.mjs, program.mjs).
//
// Why afterwards: for infra/ the checker needs the Pulumi types, and it took about 4 s per mutant
// here, longer than the tests of most mutants. Without it every mutant runs, also those the
// compiler would reject (ts-node in the tests does not type-check); a rejected one that no test
// detects is no missing test, since `pulumi up` would refuse the program. So only the survivors
// are checked, all in one TypeScript language service (a fraction of a second each), and those
// the compiler rejects are marked as Stryker's checker would have: CompileError, with its reason.
// Only the mutated file's errors are counted: a mutant that breaks only another file stays a
// survivor (a survivor too many, never a rejection too many). The report is rewritten in place,
// and the score printed.
import fs from "fs";
import path from "path";
import ts from "typescript";

const [reportFile, tsconfigFile = "mutation/tsconfig.code.json"] = process.argv.slice(2);
if (!reportFile) {
    console.error("usage: node mutation/typeCheckSurvivors.mjs <reports/.../mutation.json> [tsconfig]");
    process.exit(2);
}
const report = JSON.parse(fs.readFileSync(reportFile, "utf8"));
const parsed = ts.getParsedCommandLineOfConfigFile(path.resolve(tsconfigFile), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, " "));
    },
});

// One mutated file at a time: its text is swapped in the language service's view of the project.
const swapped = new Map();
const versions = new Map();
const service = ts.createLanguageService({
    getScriptFileNames: () => parsed.fileNames,
    getScriptVersion: (file) => String(versions.get(path.resolve(file)) ?? 0),
    getScriptSnapshot: (file) => {
        const absolute = path.resolve(file);
        const text = swapped.get(absolute) ?? (fs.existsSync(absolute) ? fs.readFileSync(absolute, "utf8") : undefined);
        return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    },
    getCurrentDirectory: () => process.cwd(),
    // As Stryker's checker compiles (typescript-checker, tsconfig-helpers.js): a mutant that only
    // leaves a variable unread or code unreachable is not rejected.
    getCompilationSettings: () => ({ ...parsed.options, allowUnreachableCode: true, noUnusedLocals: false, noUnusedParameters: false }),
    getDefaultLibFileName: ts.getDefaultLibFilePath,
    fileExists: ts.sys.fileExists,
    readFile: ts.sys.readFile,
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
}, ts.createDocumentRegistry());

function swap(file, text) {
    if (text === undefined) swapped.delete(file);
    else swapped.set(file, text);
    versions.set(file, (versions.get(file) ?? 0) + 1);
}

const errorsOf = (file) => [...service.getSyntacticDiagnostics(file), ...service.getSemanticDiagnostics(file)]
    .filter((d) => d.category === ts.DiagnosticCategory.Error);

/** Offset of a report location (line and column both from 1). */
function offsetOf(lines, { line, column }) {
    let offset = 0;
    for (let i = 0; i < line - 1; i++) offset += lines[i].length + 1;
    return offset + column - 1;
}

let rejected = 0;
for (const [file, { source, mutants }] of Object.entries(report.files)) {
    const undetected = mutants.filter((m) => (m.status === "Survived" || m.status === "NoCoverage") && typeof m.replacement === "string");
    if (undetected.length === 0) continue;
    const absolute = path.resolve(file);
    const lines = source.split("\n");
    // The errors of the file as the run saw it, whatever it holds on disk now.
    swap(absolute, source);
    const before = errorsOf(absolute).length;
    for (const mutant of undetected) {
        const start = offsetOf(lines, mutant.location.start);
        const end = offsetOf(lines, mutant.location.end);
        swap(absolute, source.slice(0, start) + mutant.replacement + source.slice(end));
        const errors = errorsOf(absolute);
        if (errors.length > before) {
            mutant.status = "CompileError";
            mutant.statusReason = `rejected by the TypeScript compiler after the run: ${ts.flattenDiagnosticMessageText(errors[0].messageText, " ")}`;
            rejected++;
        }
    }
    swap(absolute, undefined);
}
fs.writeFileSync(reportFile, JSON.stringify(report));

const all = Object.values(report.files).flatMap((f) => f.mutants);
const count = (status) => all.filter((m) => m.status === status).length;
const detected = count("Killed") + count("Timeout");
const valid = detected + count("Survived") + count("NoCoverage");
console.log(`${rejected} undetected mutants rejected by the compiler, now CompileError in ${reportFile}.`);
console.log(`Score: ${(100 * detected / valid).toFixed(2)} % (${count("Killed")} killed, ${count("Timeout")} timed out, ` +
    `${count("Survived")} survived, ${count("NoCoverage")} not reached; ${count("CompileError")} rejected by the compiler).`);
