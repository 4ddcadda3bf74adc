/** mcp-router's version, read once from package.json; everything that names the version imports it. */
import { existsSync, readFileSync } from "node:fs";

// src/version.ts (tsx) and dist/src/version.js (built) sit one and two levels below package.json.
const packageJson = [new URL("../package.json", import.meta.url), new URL("../../package.json", import.meta.url)].find((url) => existsSync(url));

export const VERSION: string = packageJson ? (JSON.parse(readFileSync(packageJson, "utf8")) as { version: string }).version : "0.0.0";

/** How mcp-router introduces itself to MCP peers (clients and upstream servers). */
export const IMPLEMENTATION = { name: "mcp-router", version: VERSION } as const;
