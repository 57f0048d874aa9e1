// Lint: typescript-eslint's recommended rules, plus the two that guard this project's promises.
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "dist/", ".stryker-tmp*/", "reports/"] },
    ...tseslint.configs.recommended,
    {
        rules: {
            // Handler responses and Pulumi mock inputs are untyped JSON by nature.
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
            // A log line must never carry the token or the event; console is reserved for scripts.
            "no-console": "error",
        },
    },
    {
        files: ["scripts/**/*.ts", "scripts/**/*.js", "test/**/*.ts", "local/**/*.ts", "playground/**/*.ts", "mutation/**/*.mjs"],
        rules: { "no-console": "off", "@typescript-eslint/no-require-imports": "off" },
    },
);
