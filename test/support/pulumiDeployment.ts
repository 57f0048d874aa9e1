// What the Pulumi engine does, between two runs of a program, with the resources the second run no
// longer declares, which Pulumi's mocks never see: it deletes them, and refuses (failing the whole
// `up`, and `preview` too) to delete one that the state records as protected; a resource the state
// records with retainOnDelete is only dropped from the state, its provider's Delete not called.
// Both flags are read from the state the first run left, not from the second run. Modeled on
// pulumi/pulumi pkg/resource/deploy/step.go, DeleteStep.Apply and deleteProtectedError (the message
// below is its wording), and the engine's tests TestProtect and TestRetainOnDelete.
import type { RecordedResource } from "../../local/pulumiProgram";

export interface PlannedDelete {
    urn: string;
    type: string;
    name: string;
    /** Left in the cloud, only dropped from the stack's state. */
    retained: boolean;
}

export interface UpdatePlan {
    deletes: PlannedDelete[];
    /** The engine's refusal, when a protected resource would be deleted: the `up` fails. */
    refusals: string[];
}

/** The deletes an `up` plans when the state holds `before` and the program now declares `after`. */
export function planDeletes(before: RecordedResource[], after: RecordedResource[]): UpdatePlan {
    const declared = new Set(after.map((r) => r.urn));
    const gone = before.filter((r) => r.urn !== "" && !declared.has(r.urn));
    return {
        deletes: gone.map((r) => ({ urn: r.urn, type: r.type, name: r.name, retained: r.retainOnDelete })),
        refusals: gone.filter((r) => r.protect).map((r) =>
            `resource "${r.urn}" cannot be deleted\nbecause it is protected. To unprotect the resource, either remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\`, or use the command:\n\`pulumi state unprotect ${r.urn}\``),
    };
}
