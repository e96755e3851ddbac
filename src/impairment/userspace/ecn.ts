/**
 * ECN bits of the inner IP packet the relay carries (RFC 3168): the VXLAN payload is an Ethernet
 * frame (an optional 802.1Q tag is skipped); IPv4's ECN field is the low two bits of the TOS byte,
 * IPv6's the low two bits of the traffic class. Setting CE in IPv4 patches the header checksum
 * incrementally (RFC 1624: HC' = ~(~HC + ~m + m')); IPv6 has no header checksum. Pure, in place.
 */

/** byte offset of the IP header and its version (4 or 6) in the Ethernet frame at `off`, or null */
function ipHeader(buf: Uint8Array, off: number, end: number): { ip: number; version: 4 | 6 } | null {
  let t = off + 12;
  if (end < t + 2) return null;
  let type = (buf[t]! << 8) | buf[t + 1]!;
  if (type === 0x8100) {
    t += 4;
    if (end < t + 2) return null;
    type = (buf[t]! << 8) | buf[t + 1]!;
  }
  const ip = t + 2;
  if (type === 0x0800 && end >= ip + 20 && buf[ip]! >> 4 === 4) return { ip, version: 4 };
  if (type === 0x86dd && end >= ip + 40 && buf[ip]! >> 4 === 6) return { ip, version: 6 };
  return null;
}

/** The ECN codepoint (0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE) of the frame at `off`, or -1 when it is not IP. */
export function ecnCodepoint(buf: Uint8Array, off: number, end = buf.length): number {
  const h = ipHeader(buf, off, end);
  if (!h) return -1;
  return h.version === 4 ? buf[h.ip + 1]! & 3 : (buf[h.ip + 1]! >> 4) & 3;
}

/**
 * Set CE on the frame at `off` (bytes up to `end`) if it is ECN-capable; true when the packet now carries CE (it was
 * ECT(0), ECT(1) or already CE, as the kernel's INET_ECN_set_ce), false when it is Not-ECT or not IP.
 */
export function markCe(buf: Uint8Array, off: number, end = buf.length): boolean {
  const h = ipHeader(buf, off, end);
  if (!h) return false;
  const ip = h.ip;
  if (h.version === 6) {
    if (((buf[ip + 1]! >> 4) & 3) === 0) return false;
    buf[ip + 1] = buf[ip + 1]! | 0x30;
    return true;
  }
  const tos = buf[ip + 1]!;
  if ((tos & 3) === 0) return false;
  if ((tos & 3) === 3) return true;
  const m = (buf[ip]! << 8) | tos; // the 16-bit word holding version/IHL and TOS
  const m2 = (buf[ip]! << 8) | (tos | 3);
  const hc = (buf[ip + 10]! << 8) | buf[ip + 11]!;
  let sum = (~hc & 0xffff) + (~m & 0xffff) + m2;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  const hc2 = ~sum & 0xffff;
  buf[ip + 1] = tos | 3;
  buf[ip + 10] = hc2 >> 8;
  buf[ip + 11] = hc2 & 0xff;
  return true;
}
