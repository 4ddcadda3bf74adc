/**
 * A server's `router.network.allow` list, compiled once and asked per connection: may this
 * container reach `host:port`? Patterns (already validated by the registry's `network.host`
 * rule): `api.github.com`, `*.github.com` (subdomains only), `10.1.2.3`, `10.0.0.0/8`, `[::1]`,
 * each optionally with `:port`. Without a port, only the web ports 80 and 443 are allowed.
 */
import { BlockList, isIP } from "node:net";

/** Ports a pattern without `:port` allows. */
export const DEFAULT_EGRESS_PORTS: readonly number[] = [80, 443];

type Rule =
  | { kind: "name"; name: string; ports: readonly number[] }
  | { kind: "suffix"; suffix: string; ports: readonly number[] }
  | { kind: "ip"; list: BlockList; ports: readonly number[] }
  | { kind: "any"; ports: readonly number[] };

export class EgressAllowlist {
  private readonly rules: Rule[];

  /** `"public"`: any host on the web ports (the proxy still refuses private addresses). */
  constructor(readonly patterns: readonly string[] | "public") {
    this.rules = patterns === "public" ? [{ kind: "any", ports: DEFAULT_EGRESS_PORTS }] : patterns.map(compile);
  }

  /** Whether a connection to `host:port` is allowed. Host names never match IP rules, and vice versa. */
  allows(host: string, port: number): boolean {
    const bare = host.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "").toLowerCase();
    const family = isIP(bare);
    return this.rules.some((rule) => {
      if (!rule.ports.includes(port)) return false;
      switch (rule.kind) {
        case "any":
          return true;
        case "name":
          return family === 0 && bare === rule.name;
        case "suffix":
          return family === 0 && bare.endsWith(rule.suffix) && bare.length > rule.suffix.length;
        case "ip":
          return family !== 0 && rule.list.check(bare, family === 6 ? "ipv6" : "ipv4");
      }
    });
  }
}

function compile(pattern: string): Rule {
  let host = pattern.trim().toLowerCase();
  let ports = DEFAULT_EGRESS_PORTS;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracketed) {
    host = bracketed[1] as string;
    if (bracketed[2]) ports = [Number(bracketed[2])];
  } else if (isIP(host) !== 6) {
    const port = /^(.*):(\d{1,5})$/.exec(host);
    if (port) {
      host = port[1] as string;
      ports = [Number(port[2])];
    }
  }
  const cidr = /^(.+)\/(\d{1,3})$/.exec(host);
  if (cidr || isIP(host)) {
    const list = new BlockList();
    const address = cidr ? (cidr[1] as string) : host;
    const type = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (cidr) list.addSubnet(address, Number(cidr[2]), type);
    else list.addAddress(address, type);
    return { kind: "ip", list, ports };
  }
  if (host.startsWith("*.")) return { kind: "suffix", suffix: host.slice(1), ports };
  return { kind: "name", name: host, ports };
}
