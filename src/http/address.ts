import { isIPv6 } from 'node:net'

/**
 * The key per-address limits count by. An IPv6 customer usually holds a whole
 * /64 (2^64 addresses), so counting single addresses would let one client be
 * endlessly many: IPv6 is keyed by its /64, IPv4 (and IPv4-mapped IPv6) by the address.
 */
export function addressKey (ip: string): string {
  // Every poll asks: an IPv4 address (no colon) is its own key, without a regex.
  if (!ip.includes(':')) return ip
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped !== null) return mapped[1] as string
  if (!isIPv6(ip)) return ip
  // The loopback address is one host, not a customer's /64.
  if (ip === '::1') return ip
  const [head = '', tail = ''] = ip.split('%')[0]?.split('::') ?? []
  const left = head === '' ? [] : head.split(':')
  const right = tail === '' ? [] : tail.split(':')
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left
  return `${groups.slice(0, 4).map(g => parseInt(g, 16).toString(16)).join(':')}::/64`
}

/**
 * Whether an address key is this machine's own (127.0.0.0/8 or ::1): a local
 * script, or a proxy in front whose forwarded addresses are not trusted
 * (`TRUST_PROXY` unset), where one address stands for every visitor.
 */
export function isLoopbackKey (key: string): boolean {
  return key.startsWith('127.') || key === '::1'
}
