// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // images/agent-common holds plain CommonJS that runs inside agent containers, not project code.
  { ignores: ["dist/", "node_modules/", "images/**/node_modules/", "images/agent-common/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/switch-exhaustiveness-check": [
        "error",
        { considerDefaultExhaustiveForUnions: true },
      ],
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            { from: "package", name: ["describe", "it", "test", "suite"], package: "node:test" },
          ],
        },
      ],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']",
          message: "Only src/cli/main.ts exits the process; throw a BottleError instead.",
        },
      ],
    },
  },
  {
    // core is the bottom layer: it never imports the layers built on it.
    files: ["src/core/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "(^|/)(providers|sidecar|cli|backend)/",
              message:
                "src/core never imports providers, sidecar, cli or backend; move what core needs into src/core.",
            },
          ],
        },
      ],
    },
  },
  {
    // The operator's actions sit above core and backend, below the CLI and the dashboard, which
    // render what they return: no terminal I/O, and none of the layers built on them.
    files: ["src/operator/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "(^|/)(cli|dashboard|sidecar|providers)/",
              message:
                "src/operator imports only core and backend; the CLI and the dashboard build on it.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["src/cli/main.ts", "scripts/**", "test/**"],
    rules: { "no-restricted-syntax": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ["scripts/**/*.mjs", "bin/**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
);
