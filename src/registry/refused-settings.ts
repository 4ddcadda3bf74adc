/**
 * Settings no registry file may use, whatever the operator policy says: environment variables
 * that change how a program loads or where its traffic goes, headers that belong to HTTP or to
 * MCP itself, runtime arguments the launcher would not pass, host paths that are the host, and
 * allowlists as wide as the internet. Each is refused with a located error, never ignored.
 */
import { isIP } from "node:net";
import type { Problem } from "./file-rules.js";
import { neverMountable } from "./policy.js";
import type { Argument, Package, RegistryFile } from "./types.js";

/** Variables that load code, change a runtime's search paths, or redirect traffic (the daemon sets the proxy ones itself). */
const LOADER_VARIABLES = new Set([
  "PATH", "HOME", "SHELL", "ENV", "BASH_ENV", "IFS", "PS4", "SHELLOPTS", "GCONV_PATH", "HOSTALIASES", "LOCALDOMAIN", "RES_OPTIONS",
  "NODE_OPTIONS", "NODE_PATH", "NODE_TLS_REJECT_UNAUTHORIZED", "NODE_USE_ENV_PROXY",
  "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONSAFEPATH", "PYTHONINSPECT",
  "PERL5LIB", "PERL5OPT", "PERLLIB", "RUBYLIB", "RUBYOPT", "GEM_PATH", "GEM_HOME",
  "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH",
  "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "FTP_PROXY",
]);
const LOADER_PREFIXES = ["DYLD_", "NPM_CONFIG_", "PIP_", "UV_", "MCP_ROUTER_"];
/** The dynamic loader's variables (`LD_ACCESS_TOKEN`, LaunchDarkly's, is an ordinary name). */
const DYNAMIC_LOADER = /^LD_(PRELOAD|LIBRARY_PATH|AUDIT|DEBUG|DEBUG_OUTPUT|PROFILE|PROFILE_OUTPUT|BIND_NOW|BIND_NOT|ORIGIN_PATH|DYNAMIC_WEAK|HWCAP_MASK|ASSUME_KERNEL|USE_LOAD_BIAS|SHOW_AUXV|TRACE_LOADED_OBJECTS|WARN|VERBOSE|POINTER_GUARD|RUN_PATH)$/;

/** Why an environment variable name is refused, or undefined. Case-insensitive: `http_proxy` counts too. */
export function refusedVariable(name: string): string | undefined {
  const upper = name.toUpperCase();
  if (upper.startsWith("MCP_ROUTER_")) return "it names the daemon's own configuration";
  if (LOADER_VARIABLES.has(upper) || DYNAMIC_LOADER.test(upper) || LOADER_PREFIXES.some((p) => upper.startsWith(p))) {
    return /PROXY$/.test(upper) ? "the daemon sets the proxy variables itself to enforce egress" : "it changes what code the server loads or how it runs";
  }
  return undefined;
}

/** Headers HTTP or MCP own: hop-by-hop, framing, the session and protocol headers, the proxy's. */
const PROTOCOL_HEADERS = new Set([
  "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer", "expect",
  "proxy-authorization", "proxy-authenticate", "proxy-connection", "content-type", "accept",
  "mcp-session-id", "mcp-protocol-version", "mcp-method", "mcp-name", "last-event-id",
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Why a header name is refused, or undefined. */
export function refusedHeader(name: string): string | undefined {
  if (!HEADER_NAME.test(name)) return "it is not a valid HTTP header name";
  if (PROTOCOL_HEADERS.has(name.toLowerCase())) return "HTTP or MCP sets it; a file must not";
  return undefined;
}

/**
 * Why the launcher would not honour a runtime argument (`docker run ...`, `npx ...`), or undefined
 * for those that say what it does anyway: `run`, `-i`, `--rm`, `--init`, `-y`, the image's own
 * name, `-e NAME` for a declared variable, and values that fill a `{placeholder}` of the transport url.
 */
export function ignoredRuntimeArgument(arg: Argument, pkg: Package): string | undefined {
  const url = pkg.transport.type === "stdio" ? "" : pkg.transport.url;
  const key = arg.type === "named" ? arg.name.replace(/^-+/, "") : arg.valueHint;
  if (key !== undefined && url.includes(`{${key}}`)) return undefined;
  const value = arg.value ?? arg.default;
  if (arg.type === "positional") {
    const image = pkg.identifier.replace(/[:@].*$/, "");
    if (value === "run" || value === pkg.identifier || value === image) return undefined;
    return `runtime argument ${JSON.stringify(value ?? arg.valueHint ?? "positional")} would not be passed: mcp-router runs the package itself`;
  }
  if (IMPLIED_FLAGS.has(arg.name)) return undefined;
  if (arg.name === "-e" || arg.name === "--env") {
    const name = /^([A-Za-z_][A-Za-z0-9_]*)(=|$)/.exec(value ?? "")?.[1];
    if (name && (pkg.environmentVariables ?? []).some((v) => v.name === name)) return undefined;
    return `runtime argument ${arg.name} ${value ?? ""} would not be passed, so the server would never see ${name ?? "that variable"}; declare it in \`environmentVariables\` instead`;
  }
  return `runtime argument ${arg.name} would not be passed: mcp-router runs the package itself, with its own hardened settings`;
}

/** Runtime flags that say what the launcher does anyway (an interactive, removed, init-reaped container; npx without prompts). */
const IMPLIED_FLAGS = new Set(["-i", "--interactive", "--rm", "--init", "-y", "--yes"]);

export function refusedSettingRules(entry: Readonly<RegistryFile>): Problem[] {
  const problems: Problem[] = [];
  const push = (segments: (string | number)[], rule: string, message: string, hint: string) => problems.push({ segments, rule, message, hint });

  const variable = (name: string, segments: (string | number)[]) => {
    const why = refusedVariable(name);
    if (why) push(segments, "env.refused-name", `environment variable ${name} is refused: ${why}`, "Remove it; mcp-router sets the runtime's environment itself. A server option needs a name of its own.");
  };
  const header = (name: string, segments: (string | number)[]) => {
    const why = refusedHeader(name);
    if (why) push(segments, "header.refused-name", `header ${name} is refused: ${why}`, "Remove it; only application headers (Authorization, X-API-Key, ...) belong in a registry file.");
  };
  const variables = (vars: Record<string, unknown> | undefined, segments: (string | number)[]) => {
    for (const name of Object.keys(vars ?? {})) if (refusedVariable(name)?.startsWith("it names the daemon")) variable(name, [...segments, "variables", name]);
  };

  (entry.packages ?? []).forEach((pkg, i) => {
    (pkg.environmentVariables ?? []).forEach((v, j) => {
      variable(v.name, ["packages", i, "environmentVariables", j, "name"]);
      variables(v.variables, ["packages", i, "environmentVariables", j]);
    });
    if (pkg.transport.type !== "stdio") {
      (pkg.transport.headers ?? []).forEach((h, j) => {
        header(h.name, ["packages", i, "transport", "headers", j, "name"]);
        variables(h.variables, ["packages", i, "transport", "headers", j]);
      });
    }
    (pkg.packageArguments ?? []).forEach((a, j) => variables(a.variables, ["packages", i, "packageArguments", j]));
    (pkg.runtimeArguments ?? []).forEach((arg, j) => {
      const why = ignoredRuntimeArgument(arg, pkg);
      if (why) push(["packages", i, "runtimeArguments", j], "argument.runtime-ignored", why, "Remove it. mcp-router runs the package itself, with its own hardened settings: environment goes in `environmentVariables`, the server's own arguments in `packageArguments`, mounts and limits in `router:` (as the operator policy allows).");
    });
  });
  (entry.remotes ?? []).forEach((remote, i) => {
    (remote.headers ?? []).forEach((h, j) => {
      header(h.name, ["remotes", i, "headers", j, "name"]);
      variables(h.variables, ["remotes", i, "headers", j]);
    });
    variables(remote.variables, ["remotes", i]);
  });
  const auth = entry.router?.openapi?.auth;
  if (auth?.secret) variable(auth.secret, ["router", "openapi", "auth", "secret"]);
  if (auth?.type === "apiKey" && auth.in !== "query" && auth.name) header(auth.name, ["router", "openapi", "auth", "name"]);

  (entry.router?.mounts ?? []).forEach((mount, i) => {
    for (const field of ["source", "target"] as const) {
      if (/[:,\0\r\n]/.test(mount[field])) push(["router", "mounts", i, field], "mount.malformed", `${field} ${JSON.stringify(mount[field])} contains ":", "," or a control character, which would change the bind's meaning`, "Use a plain absolute path.");
    }
    const never = neverMountable(mount.source);
    if (never) push(["router", "mounts", i, "source"], "mount.refused", `${mount.source} can never be mounted into a server: ${never}`, "Mount a folder that holds only what the server needs, and that the operator policy lists.");
  });

  const network = entry.router?.network;
  if (network && typeof network === "object") {
    network.allow.forEach((pattern, i) => {
      const wildcard = /^\*\.([^.:]+)(?::\d+)?$/.exec(pattern);
      const cidr = /^([\d.]+)\/(\d{1,2})(?::\d+)?$/.exec(pattern);
      if (wildcard || (cidr && isIP(cidr[1] as string) === 4 && Number(cidr[2]) < 8)) {
        push(["router", "network", "allow", i], "network.too-wide", `allowlist entry "${pattern}" covers a whole top-level domain or most of the internet`, "Name the hosts the server talks to (`api.example.com`, `*.example.com`), or use `network: public`.");
      }
    });
  }
  return problems;
}
