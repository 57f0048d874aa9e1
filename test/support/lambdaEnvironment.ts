// What Lambda puts in a function's environment (region, credentials) and the tests' own endpoint
// variables, set in this process for a while: the function entries read them from process.env.

/**
 * Sets each variable (undefined: removes it) and returns what puts every one of them back as it
 * was, set or not.
 */
export function setEnvironment(values: Record<string, string | undefined>): () => void {
    const before = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
    const apply = (next: Record<string, string | undefined>) => {
        for (const [name, value] of Object.entries(next)) {
            if (value === undefined) {
                delete process.env[name];
            } else {
                process.env[name] = value;
            }
        }
    };
    apply(values);
    return () => apply(before);
}
