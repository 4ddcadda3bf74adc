/**
 * The host's address on the engine's default bridge network: where containers on that bridge
 * reach the daemon. Docker reports it as the IPAM config's `Gateway`, except on the very first
 * start of a freshly installed engine, which has been seen to report only the subnet. Then the
 * bridge interface itself (named in the network's options, `docker0` by default) carries the
 * address, and failing that Docker's own rule applies: the first host address of the subnet.
 */
import { networkInterfaces } from "node:os";

export interface BridgeNetworkInfo {
  IPAM?: { Config?: ReadonlyArray<{ Subnet?: string; Gateway?: string }> | null } | null;
  Options?: Readonly<Record<string, string>> | null;
}

type Interfaces = ReturnType<typeof networkInterfaces>;

/** The gateway address of an IPv4 bridge, or undefined when the network has no IPv4 subnet. */
export function bridgeGateway(bridge: BridgeNetworkInfo | undefined, interfaces: Interfaces = networkInterfaces()): string | undefined {
  const configs = bridge?.IPAM?.Config ?? [];
  const reported = configs.find((c) => c.Gateway && isIPv4(c.Gateway))?.Gateway;
  if (reported) return reported;
  const subnet = configs.map((c) => c.Subnet).find((s): s is string => !!s && isIPv4(s.split("/")[0] ?? ""));
  const name = bridge?.Options?.["com.docker.network.bridge.name"] ?? "docker0";
  const onInterface = interfaces[name]?.find((a) => a.family === "IPv4" && (!subnet || inSubnet(a.address, subnet)))?.address;
  if (onInterface) return onInterface;
  return subnet ? firstHost(subnet) : undefined;
}

function isIPv4(text: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(text);
}

function toNumber(ip: string): number {
  return ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

function toAddress(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

function parseSubnet(subnet: string): { base: number; bits: number } {
  const [ip = "", bits = "32"] = subnet.split("/");
  const prefix = Number(bits);
  const size = 2 ** (32 - prefix);
  return { base: toNumber(ip) - (toNumber(ip) % size), bits: prefix };
}

function inSubnet(ip: string, subnet: string): boolean {
  const { base, bits } = parseSubnet(subnet);
  const n = toNumber(ip);
  return n >= base && n < base + 2 ** (32 - bits);
}

/** `172.17.0.0/16` -> `172.17.0.1`. */
function firstHost(subnet: string): string | undefined {
  const { base, bits } = parseSubnet(subnet);
  return bits <= 30 ? toAddress(base + 1) : undefined;
}
