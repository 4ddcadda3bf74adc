// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The rooms of src/ and the rooms each may NOT import (ARCHITECTURE.md): every arrow points down.
 * A change that needs one of these arrows is in the wrong room.
 */
const FORBIDDEN = {
  registry: ["auth", "secrets", "launch", "sync", "observe", "gateway", "transports", "daemon", "cli", "propose", "console"],
  secrets: ["auth", "launch", "sync", "observe", "gateway", "transports", "daemon", "cli", "propose", "console"],
  launch: ["auth", "sync", "observe", "gateway", "transports", "daemon", "cli", "propose", "console"],
  sync: ["auth", "launch", "observe", "gateway", "transports", "daemon", "cli", "propose", "console"],
  observe: ["auth", "gateway", "transports", "daemon", "cli", "propose", "console"],
  gateway: ["sync", "transports", "daemon", "cli", "propose", "console"],
  auth: ["secrets", "launch", "sync", "observe", "gateway", "transports", "daemon", "cli", "propose", "console"],
  propose: ["auth", "sync", "observe", "gateway", "transports", "daemon", "cli", "console"],
  transports: ["launch", "sync", "daemon", "cli", "propose", "console"],
  console: ["daemon", "cli"],
  daemon: ["cli", "propose"],
  cli: [],
};

/** The one file that loads the OpenTelemetry SDK, imported lazily when tracing is on (observe/tracing.ts). */
const OTEL_TRACER = "src/observe/otel-tracer.ts";

const roomRule = (room, forbidden, otel) => ({
  "no-restricted-imports": [
    "error",
    {
      patterns: [
        ...(forbidden.length
          ? [{ regex: `^(\\.\\./)+(${forbidden.join("|")})/`, message: `src/${room}/ may not import ${forbidden.join(", ")} (the rooms in ARCHITECTURE.md: arrows point down).` }]
          : []),
        { regex: "^(\\.\\./)+bin\\.js$", message: "Only the entry point is src/bin.ts; nothing imports it." },
        ...(otel
          ? [{ group: ["@opentelemetry/*"], allowTypeImports: true, message: `Only ${OTEL_TRACER} loads the OpenTelemetry SDK (lazily, when tracing is on); use the CallTracer seam of observe/tracing.ts.` }]
          : []),
      ],
    },
  ],
});

const rooms = [
  ...Object.entries(FORBIDDEN).map(([room, forbidden]) => ({ files: [`src/${room}/**/*.ts`], rules: roomRule(room, forbidden, true) })),
  { files: [OTEL_TRACER], rules: roomRule("observe", FORBIDDEN.observe, false) },
];

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "src/registry/types.generated.ts", "src/registry/access.generated.ts", "test/fixtures/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": ["error", { allow: ["error"] }],
    },
  },
  ...rooms,
  {
    // Only the entry point touches the process's environment, arguments, streams and exit status.
    files: ["src/**/*.ts"],
    ignores: ["src/bin.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        ...["env", "argv", "exit", "exitCode", "stdin", "stdout", "stderr", "on", "once"].map((property) => ({
          object: "process",
          property,
          message: "Only src/bin.ts touches the process; take what you need as a parameter (CliContext, DaemonConfig).",
        })),
      ],
    },
  },
  {
    // The web console's own scripts: plain ES modules run by the browser, no build step.
    files: ["web/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: Object.fromEntries(
        ["window", "document", "location", "history", "Node", "HTMLElement", "Event", "CustomEvent", "EventSource", "fetch", "URL", "setTimeout", "clearTimeout", "TextDecoder", "Blob", "navigator", "setInterval", "clearInterval"].map((name) => [name, "readonly"]),
      ),
    },
  },
  {
    files: ["src/bin.ts", "scripts/**", "bench/**", "test/**"],
    rules: { "no-console": "off", "no-restricted-properties": "off" },
  },
);
