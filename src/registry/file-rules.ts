/**
 * Rules about one registry file that JSON Schema cannot express. They run on a document that
 * already passed the schema, so the types can be trusted.
 */
import { isIP } from "node:net";
import { posix } from "node:path";
import { refusedSettingRules } from "./refused-settings.js";
import type { Argument, KeyValueInput, RegistryFile } from "./types.js";

export interface Problem {
  segments: (string | number)[];
  rule: string;
  message: string;
  hint?: string;
}

const PREFIX_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** The prefix a file declares, or the one its file name implies when it has no `router:` block. */
export function prefixOf(entry: RegistryFile, relPath: string): string {
  return entry.router?.prefix ?? posix.basename(relPath).replace(/\.ya?ml$/i, "");
}

export function fileRules(entry: RegistryFile, relPath: string): Problem[] {
  return [
    ...prefixRules(entry, relPath),
    ...runnableRules(entry),
    ...secretRules(entry),
    ...argumentRules(entry),
    ...networkRules(entry),
    ...pathRules(entry),
    ...refusedSettingRules(entry),
  ];
}

function prefixRules(entry: RegistryFile, relPath: string): Problem[] {
  const base = posix.basename(relPath).replace(/\.ya?ml$/i, "");
  const declared = entry.router?.prefix;
  if (declared !== undefined && declared !== base) {
    return [{
      segments: ["router", "prefix"],
      rule: "prefix.file-name",
      message: `prefix "${declared}" does not match the file name "${posix.basename(relPath)}"`,
      hint: `Rename the file to \`${posix.join(posix.dirname(relPath), `${declared}.yaml`)}\`, or set \`prefix: ${base}\`.`,
    }];
  }
  if (declared === undefined && (!PREFIX_PATTERN.test(base) || base.length > 32)) {
    return [{
      segments: [],
      rule: "prefix.file-name",
      message: `file name "${posix.basename(relPath)}" is not a valid tool prefix`,
      hint: "Name the file after a short lower-case prefix such as `memory.yaml`, or add `router: {prefix: ...}` and rename the file to match.",
    }];
  }
  return [];
}

function runnableRules(entry: RegistryFile): Problem[] {
  const problems: Problem[] = [];
  const packages = entry.packages ?? [];
  const remotes = entry.remotes ?? [];
  const router = entry.router;
  if (!packages.length && !remotes.length && !router?.openapi && !router?.build) {
    problems.push({
      segments: [],
      rule: "server.nothing-to-run",
      message: "declares nothing to run: no `packages`, `remotes`, `router.openapi` or `router.build`",
      hint: "Add a package (e.g. `registryType: npm`) or a remote endpoint.",
    });
  }
  for (const [field, list, plural] of [["package", packages, "packages"], ["remote", remotes, "remotes"]] as const) {
    const index = router?.[field];
    if (index !== undefined && index >= list.length) {
      problems.push({
        segments: ["router", field],
        rule: `router.${field}-index`,
        message: `points at ${plural}[${index}], but the file has ${list.length} ${field}(s)`,
        hint: `Use the index of an entry in \`${plural}\` (counting from 0).`,
      });
    }
  }
  packages.forEach((pkg, i) => {
    if (pkg.registryType === "oci") {
      const ref = pkg.identifier;
      const lastSegment = ref.slice(ref.lastIndexOf("/") + 1);
      const tag = lastSegment.includes(":") ? lastSegment.slice(lastSegment.indexOf(":") + 1) : undefined;
      if (!ref.includes("@sha256:") && (!tag || tag === "latest")) {
        problems.push({
          segments: ["packages", i, "identifier"],
          rule: "package.oci-tag",
          message: tag === "latest" ? "must pin an image tag or digest, not `latest`" : "must pin an image tag or digest",
          hint: "Write the full reference, e.g. `ghcr.io/owner/image:1.2.3` or `...@sha256:<digest>`.",
        });
      }
    }
    const seen = new Map<string, number>();
    (pkg.environmentVariables ?? []).forEach((v, j) => {
      const first = seen.get(v.name);
      if (first !== undefined) {
        problems.push({
          segments: ["packages", i, "environmentVariables", j, "name"],
          rule: "env.duplicate",
          message: `"${v.name}" is already declared at environmentVariables[${first}]`,
          hint: "Declare each environment variable once.",
        });
      } else seen.set(v.name, j);
    });
  });
  return problems;
}

interface SecretCarrier {
  isSecret?: boolean;
  value?: string;
  default?: string;
  variables?: Record<string, { isSecret?: boolean; value?: string; default?: string } | undefined>;
}

function secretRules(entry: RegistryFile): Problem[] {
  const problems: Problem[] = [];
  const check = (input: SecretCarrier, segments: (string | number)[]) => {
    if (input.isSecret) {
      for (const field of ["value", "default"] as const) {
        const literal = input[field];
        // "Bearer {token}" is a template: the secret part comes from a variable. A literal is a leak.
        if (literal !== undefined && !/\{[A-Za-z_][A-Za-z0-9_]*\}/.test(literal)) {
          problems.push({
            segments: [...segments, field],
            rule: "secret.literal",
            message: `a secret must not carry a literal \`${field}\``,
            hint: "Remove the value from the file and give it to the daemon's secret store (its secrets file or folder); the file only declares the name.",
          });
        }
      }
    }
    for (const [name, variable] of Object.entries(input.variables ?? {})) {
      if (variable) check(variable, [...segments, "variables", name]);
    }
  };
  const checkList = (list: readonly (KeyValueInput | Argument)[] | undefined, segments: (string | number)[]) =>
    (list ?? []).forEach((input, i) => check(input as SecretCarrier, [...segments, i]));

  (entry.packages ?? []).forEach((pkg, i) => {
    checkList(pkg.environmentVariables, ["packages", i, "environmentVariables"]);
    checkList(pkg.runtimeArguments, ["packages", i, "runtimeArguments"]);
    checkList(pkg.packageArguments, ["packages", i, "packageArguments"]);
    if (pkg.transport.type !== "stdio") checkList(pkg.transport.headers, ["packages", i, "transport", "headers"]);
  });
  (entry.remotes ?? []).forEach((remote, i) => {
    checkList(remote.headers, ["remotes", i, "headers"]);
    for (const [name, variable] of Object.entries(remote.variables ?? {})) {
      if (variable) check(variable, ["remotes", i, "variables", name]);
    }
  });
  return problems;
}

function argumentRules(entry: RegistryFile): Problem[] {
  const problems: Problem[] = [];
  (entry.packages ?? []).forEach((pkg, i) => {
    for (const list of ["runtimeArguments", "packageArguments"] as const) {
      (pkg[list] ?? []).forEach((arg, j) => {
        for (const field of ["value", "default"] as const) {
          const value = arg[field];
          if (typeof value === "string" && /^\s*-/.test(value)) {
            problems.push({
              segments: ["packages", i, list, j, field],
              rule: "argument.flag-smuggling",
              message: `value "${value.length > 40 ? `${value.slice(0, 37)}...` : value}" starts with "-" and would be read as a flag by the runner`,
              hint: "Declare flags as `{type: named, name: --flag}`; a value must not start with `-`.",
            });
          }
          if (typeof value === "string" && /[\0\r\n]/.test(value)) {
            problems.push({
              segments: ["packages", i, list, j, field],
              rule: "argument.control-character",
              message: "contains a line break or NUL character",
              hint: "Arguments are single-line values.",
            });
          }
        }
      });
    }
  });
  return problems;
}

function networkRules(entry: RegistryFile): Problem[] {
  const network = entry.router?.network;
  if (!network || typeof network === "string") return [];
  const problems: Problem[] = [];
  network.allow.forEach((host, i) => {
    const reason = invalidHost(host);
    if (reason) {
      problems.push({
        segments: ["router", "network", "allow", i],
        rule: "network.host",
        message: `"${host}" is not a valid host: ${reason}`,
        hint: "Use a host name (`api.github.com`), a wildcard (`*.github.com`), an IP address or a CIDR block, optionally with `:port`.",
      });
    }
  });
  return problems;
}

/** Why `entry` is not a valid allowlist host, or undefined when it is. */
export function invalidHost(entry: string): string | undefined {
  if (/[\s/]/.test(entry) && !/^[\d.]+\/\d{1,2}$/.test(entry)) return "no scheme, path or spaces allowed";
  let host = entry;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  let port: string | undefined;
  if (bracketed) {
    host = bracketed[1] as string;
    port = bracketed[2];
    if (isIP(host) !== 6) return "not an IPv6 address";
  } else if (isIP(entry) === 6) {
    return undefined;
  } else {
    const colon = entry.lastIndexOf(":");
    if (colon >= 0) {
      host = entry.slice(0, colon);
      port = entry.slice(colon + 1);
    }
  }
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    return "port must be a number from 1 to 65535";
  }
  if (bracketed) return undefined;
  const cidr = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(host);
  if (cidr) return isIP(cidr[1] as string) === 4 && Number(cidr[2]) <= 32 ? undefined : "not a valid CIDR block";
  if (/^[\d.]+$/.test(host)) return isIP(host) === 4 ? undefined : "not a valid IPv4 address";
  const name = host.startsWith("*.") ? host.slice(2) : host;
  if (name.length === 0 || name.length > 253) return "host names are 1 to 253 characters";
  const labels = name.split(".");
  for (const label of labels) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)) {
      return label.includes("*") ? "`*` is only allowed as the whole first label (`*.example.com`)" : `bad label "${label}"`;
    }
  }
  return undefined;
}

function pathRules(entry: RegistryFile): Problem[] {
  const problems: Problem[] = [];
  const checkRelative = (value: string | undefined, segments: (string | number)[]) => {
    if (value === undefined || /^https?:\/\//.test(value)) return;
    const normal = posix.normalize(value);
    if (value.startsWith("/") || normal === ".." || normal.startsWith("../")) {
      problems.push({
        segments,
        rule: "path.outside-registry",
        message: `"${value}" leaves the registry repository`,
        hint: "Use a path relative to the registry repository root, without `..`.",
      });
    }
  };
  checkRelative(entry.router?.build?.dockerfile, ["router", "build", "dockerfile"]);
  checkRelative(entry.router?.build?.context, ["router", "build", "context"]);
  checkRelative(entry.router?.openapi?.spec, ["router", "openapi", "spec"]);
  return problems;
}
