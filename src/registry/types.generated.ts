/* Generated from schemas/server.schema.json by `npm run gen:types`. Do not edit by hand. */

/**
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "ExactVersion".
 */
export type ExactVersion = string;
/**
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "Transport".
 */
export type Transport = StdioTransport | StreamableHttpTransport | SseTransport;
/**
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "HttpUrl".
 */
export type HttpUrl = string;
/**
 * How the value is interpreted: `string` (default), `number`, `boolean` or `filepath`.
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "InputFormat".
 */
export type InputFormat = "string" | "number" | "boolean" | "filepath";
/**
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "Argument".
 */
export type Argument = PositionalArgument | NamedArgument;
/**
 * A value inserted verbatim into the command line.
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "PositionalArgument".
 */
export type PositionalArgument = PositionalArgument1 & {
  type: "positional";
  value?: string;
  /**
   * Label for the argument; not part of the command line.
   */
  valueHint?: string;
  description?: string;
  isRequired?: boolean;
  isSecret?: boolean;
  isRepeated?: boolean;
  format?: InputFormat;
  default?: string;
  placeholder?: string;
  choices?: string[];
  variables?: {
    [k: string]: Input | undefined;
  };
};
export type PositionalArgument1 = {
  [k: string]: unknown | undefined;
};
/**
 * A host name, `*.` wildcard host, IPv4 address or CIDR block, optionally with `:port`.
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "HostPattern".
 */
export type HostPattern = string;
/**
 * Tool names or `*` globs. `allowTools` exposes only these; `denyTools` hides these.
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "ToolSelector".
 */
export type ToolSelector = string[];

/**
 * One MCP server trusted by this registry: an MCP registry server.json document (format 2025-12-11) written as YAML, plus an optional `router:` block with mcp-router's execution policy.
 */
export interface RegistryFile {
  /**
   * JSON Schema this document follows. For a registry file, point at this schema so editors complete and check it; exports use the server.json schema URL.
   */
  $schema?: string;
  /**
   * Server name in reverse-DNS form, `namespace/name`, e.g. `io.github.modelcontextprotocol/server-memory`.
   */
  name: string;
  /**
   * Human-readable display name.
   */
  title?: string;
  /**
   * What the server does, in at most 100 characters.
   */
  description: string;
  version: ExactVersion;
  /**
   * Homepage or documentation of the server.
   */
  websiteUrl?: string;
  repository?: Repository;
  icons?: Icon[];
  /**
   * Ways to run the server locally. mcp-router runs one of them in a container (see `router.package`).
   */
  packages?: Package[];
  /**
   * Hosted endpoints of the server, proxied by mcp-router.
   */
  remotes?: Remote[];
  /**
   * Extension metadata, keyed by reverse-DNS namespace.
   */
  _meta?: {};
  router?: Router;
}
/**
 * Where the server's source code lives.
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "Repository".
 */
export interface Repository {
  /**
   * Repository URL for browsing and cloning.
   */
  url: string;
  /**
   * Hosting service, e.g. `github`.
   */
  source: string;
  /**
   * Stable repository id from the hosting service.
   */
  id?: string;
  /**
   * Relative path to the server inside a monorepo.
   */
  subfolder?: string;
}
/**
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "Icon".
 */
export interface Icon {
  src: string;
  mimeType?: "image/png" | "image/jpeg" | "image/jpg" | "image/svg+xml" | "image/webp";
  sizes?: string[];
  theme?: "light" | "dark";
}
/**
 * A package that runs the server.
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "Package".
 */
export interface Package {
  /**
   * Where the package comes from: `npm`, `pypi`, `oci`, `nuget`, `mcpb`, ...
   */
  registryType: string;
  registryBaseUrl?: string;
  /**
   * Package name (npm, pypi), full image reference (oci) or download URL (mcpb).
   */
  identifier: string;
  version?: ExactVersion;
  fileSha256?: string;
  /**
   * Runtime that starts the package: `npx`, `uvx`, `docker`, ...
   */
  runtimeHint?: string;
  transport: Transport;
  runtimeArguments?: Argument[];
  packageArguments?: Argument[];
  environmentVariables?: KeyValueInput[];
}
/**
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "StdioTransport".
 */
export interface StdioTransport {
  type: "stdio";
}
/**
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "StreamableHttpTransport".
 */
export interface StreamableHttpTransport {
  type: "streamable-http";
  url: HttpUrl;
  headers?: KeyValueInput[];
}
/**
 * An environment variable or HTTP header.
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "KeyValueInput".
 */
export interface KeyValueInput {
  name: string;
  description?: string;
  isRequired?: boolean;
  /**
   * A secret: its value comes from the daemon's secret source, never from this file.
   */
  isSecret?: boolean;
  format?: InputFormat;
  /**
   * Fixed value; `{name}` placeholders are replaced from `variables`.
   */
  value?: string;
  default?: string;
  placeholder?: string;
  choices?: string[];
  variables?: {
    [k: string]: Input | undefined;
  };
}
/**
 * A value supplied to the server (used for URL template variables).
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "Input".
 */
export interface Input {
  description?: string;
  isRequired?: boolean;
  /**
   * A secret: its value comes from the daemon's secret source, never from this file.
   */
  isSecret?: boolean;
  format?: InputFormat;
  /**
   * Fixed value; `{name}` placeholders are replaced from `variables`.
   */
  value?: string;
  default?: string;
  placeholder?: string;
  choices?: string[];
}
/**
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "SseTransport".
 */
export interface SseTransport {
  type: "sse";
  url: HttpUrl;
  headers?: KeyValueInput[];
}
/**
 * A command-line flag such as `--port=8080`.
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "NamedArgument".
 */
export interface NamedArgument {
  type: "named";
  name: string;
  value?: string;
  description?: string;
  isRequired?: boolean;
  isSecret?: boolean;
  isRepeated?: boolean;
  format?: InputFormat;
  default?: string;
  placeholder?: string;
  choices?: string[];
  variables?: {
    [k: string]: Input | undefined;
  };
}
/**
 * A hosted endpoint of the server.
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "Remote".
 */
export interface Remote {
  type: "streamable-http" | "sse";
  url: HttpUrl;
  headers?: KeyValueInput[];
  variables?: {
    [k: string]: Input | undefined;
  };
}
/**
 * mcp-router's execution policy for this server. Dropped on export.
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "Router".
 */
export interface Router {
  /**
   * Short unique name: tools appear as `<prefix>__<tool>`; the file must be named `<prefix>.yaml`.
   */
  prefix: string;
  /**
   * Set to false to keep the file but not serve the server.
   */
  enabled?: boolean;
  /**
   * `per-call` (default): a fresh container for every call. `per-session`: one per client session. `shared`: one long-lived container.
   */
  lifecycle?: "per-call" | "per-session" | "shared";
  /**
   * Index into `packages` of the package to run (default 0).
   */
  package?: number;
  /**
   * Index into `remotes` to proxy when there are no packages (default 0).
   */
  remote?: number;
  limits?: {
    memory?: string;
    cpus?: number;
    pids?: number;
    timeoutSeconds?: number;
    tmpfs?: string;
    /**
     * Most containers of this server at once.
     */
    concurrency?: number;
  };
  /**
   * Egress: `none` (default); `public` (any public host on ports 80 and 443, through the daemon's egress proxy, never private, loopback or link-local addresses); `{allow: [hosts]}` (only these, through the proxy); `bridge` (unrestricted, only where the operator policy allows it).
   */
  network?:
    | ("none" | "public" | "bridge")
    | {
        /**
         * @minItems 1
         */
        allow: [HostPattern, ...HostPattern[]];
      };
  allowTools?: ToolSelector;
  denyTools?: ToolSelector;
  /**
   * Tool catalog, as discovered by `mcp-router tools` or the proposal Action.
   */
  tools?: ToolInfo[];
  mounts?: Mount[];
  openapi?: OpenApi;
  build?: Build;
}
/**
 * A tool the server offers, as its tools/list reports it.
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "ToolInfo".
 */
export interface ToolInfo {
  name: string;
  title?: string;
  description?: string;
  inputSchema: {};
  outputSchema?: {};
  annotations?: {};
}
/**
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "Mount".
 */
export interface Mount {
  /**
   * Absolute host path, mounted read-only.
   */
  source: string;
  /**
   * Absolute path in the container.
   */
  target: string;
}
/**
 * Serve a REST API's operations as tools.
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "OpenApi".
 */
export interface OpenApi {
  /**
   * URL of the OpenAPI 3.0/3.1 document, or a path relative to the registry repo.
   */
  spec: string;
  /**
   * Overrides the spec's `servers[0].url`.
   */
  baseUrl?: string;
  include?: OpenApiFilter;
  exclude?: OpenApiFilter;
  auth?: OpenApiAuth;
  timeoutSeconds?: number;
  maxResponseBytes?: number;
}
/**
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "OpenApiFilter".
 */
export interface OpenApiFilter {
  tags?: string[];
  /**
   * Path templates; `*` matches one segment, `**` any number.
   */
  paths?: string[];
  methods?: ("get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace")[];
  /**
   * operationIds.
   */
  operations?: string[];
}
/**
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "OpenApiAuth".
 */
export interface OpenApiAuth {
  type: "bearer" | "apiKey" | "basic";
  /**
   * For `apiKey`: where the key goes (default header).
   */
  in?: "header" | "query";
  /**
   * For `apiKey`: header or query parameter name.
   */
  name?: string;
  /**
   * Name of the secret holding the token, key or password.
   */
  secret?: string;
  /**
   * For `basic`: user name.
   */
  username?: string;
}
/**
 * Build the server's image from a Dockerfile in the registry repo.
 *
 * This interface was referenced by `RegistryFile`'s JSON-Schema
 * via the `definition` "Build".
 */
export interface Build {
  /**
   * Path relative to the registry repo root.
   */
  dockerfile: string;
  /**
   * Build context relative to the registry repo root (default: the Dockerfile's folder).
   */
  context?: string;
  /**
   * Command to run in the image (default: the image's own).
   */
  command?: string[];
}
