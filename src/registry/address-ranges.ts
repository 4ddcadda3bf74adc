/**
 * Which addresses are not the public internet: loopback, private (RFC 1918, unique local),
 * link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, "this network", multicast
 * and reserved ranges, in IPv4 and IPv6 (IPv4-mapped and NAT64 forms included). The registry
 * refuses such targets unless the operator policy allows them; the launchers check every address
 * a name resolves to before they connect, so a public name that resolves to a private address
 * is refused too.
 */
import { BlockList, isIP } from "node:net";

const V4_RANGES: readonly [string, number][] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

const V6_RANGES: readonly [string, number][] = [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
  ["2001:db8::", 32], // documentation
];

const blocked = new BlockList();
for (const [address, prefix] of V4_RANGES) blocked.addSubnet(address, prefix, "ipv4");
for (const [address, prefix] of V6_RANGES) blocked.addSubnet(address, prefix, "ipv6");

/** The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) IPv6 address. */
function embeddedV4(ip: string): string | undefined {
  const match = /^(?:::ffff:|64:ff9b::)(?:0:)?([0-9a-f.:]+)$/i.exec(ip);
  if (!match) return undefined;
  const tail = match[1] as string;
  if (isIP(tail) === 4) return tail;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail);
  if (!hex) return undefined;
  const high = parseInt(hex[1] as string, 16);
  const low = parseInt(hex[2] as string, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** True for any address that is not a public unicast address (see the file comment). */
export function isNonPublicAddress(ip: string): boolean {
  const bare = ip.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, "ipv4");
  if (family !== 6) return false;
  const v4 = embeddedV4(bare);
  if (v4) return blocked.check(v4, "ipv4");
  return blocked.check(bare, "ipv6");
}

/** True when a CIDR block reaches any non-public address (`10.0.0.0/8`, `0.0.0.0/0`). */
export function cidrReachesNonPublic(address: string, prefix: number): boolean {
  if (isIP(address) !== 4) return true;
  const toInt = (ip: string) => ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  const size = 2 ** (32 - prefix);
  const start = Math.floor(toInt(address) / size) * size;
  const end = start + size - 1;
  return V4_RANGES.some(([range, bits]) => {
    const rangeStart = toInt(range);
    const rangeEnd = rangeStart + 2 ** (32 - bits) - 1;
    return start <= rangeEnd && rangeStart <= end;
  });
}

/** Host names that always mean this machine or its private network, whatever DNS says. */
export function isNonPublicName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return (
    name === "localhost" ||
    name.endsWith(".localhost") ||
    name.endsWith(".local") ||
    name.endsWith(".internal") ||
    name.endsWith(".home.arpa") ||
    name === "host.docker.internal" ||
    name === "metadata" ||
    !name.includes(".")
  );
}

/** True when a URL's host (a literal address or a name) is not on the public internet. */
export function isNonPublicHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  return isIP(bare) ? isNonPublicAddress(bare) : isNonPublicName(bare);
}
