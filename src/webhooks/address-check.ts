import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'

/*
 * SSRF guard: a webhook URL may not reach the server's own network (loopback,
 * private, link-local, multicast and other special ranges) unless
 * WEBHOOK_ALLOW_PRIVATE=true. The URL is checked when it is saved, and every
 * address is checked again when a delivery connects, because DNS can change.
 */
const special = new BlockList()
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4]
] as const) special.addSubnet(net, bits, 'ipv4')
for (const [net, bits] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8]
] as const) special.addSubnet(net, bits, 'ipv6')

/** The IPv4 address inside an IPv4-mapped IPv6 one (`::ffff:127.0.0.1`, `::ffff:7f00:1`), if it is one. */
function mappedIpv4 (address: string): string | null {
  const m = /^(?:0{0,4}:){0,5}:?ffff:(.+)$/i.exec(address)
  if (m === null) return null
  const tail = m[1] as string
  if (isIP(tail) === 4) return tail
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail)
  if (hex === null) return null
  const hi = parseInt(hex[1] as string, 16)
  const lo = parseInt(hex[2] as string, 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

/** True for an address a webhook may reach without WEBHOOK_ALLOW_PRIVATE. */
export function isPublicAddress (address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  const family = isIP(bare)
  if (family === 0) return false
  if (family === 4) return !special.check(bare, 'ipv4')
  const v4 = mappedIpv4(bare)
  if (v4 !== null) return !special.check(v4, 'ipv4')
  return !special.check(bare, 'ipv6')
}

export class BlockedAddressError extends Error {
  readonly code = 'EWEBHOOKBLOCKED'
  constructor (address: string) {
    super(`${address} is a loopback, private, link-local or multicast address`)
  }
}

/**
 * A `lookup` for http.request: resolves as usual, then refuses to connect if
 * any resolved address is not public. Node skips lookup for literal IPs, so
 * callers check those themselves (checkUrlHost).
 */
export function checkedLookup (allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err !== null) { callback(err, '', 0); return }
      const blocked = allowPrivate ? undefined : addresses.find(a => !isPublicAddress(a.address))
      if (blocked !== undefined) { callback(new BlockedAddressError(blocked.address), '', 0); return }
      if (options.all === true) { (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses); return }
      const first = addresses[0]
      if (first === undefined) { callback(new Error(`${hostname} has no address`), '', 0); return }
      callback(null, first.address, first.family)
    })
  }
}

/** Why a webhook URL may not be used, or null when it may: checked when it is saved. */
export async function urlProblem (raw: string, allowPrivate: boolean): Promise<string | null> {
  let url: URL
  try { url = new URL(raw) } catch { return 'is not a URL' }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be http or https'
  if (url.username !== '' || url.password !== '') return 'must not hold a user name or password'
  if (allowPrivate) return null
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) !== 0) return isPublicAddress(host) ? null : 'names a loopback, private, link-local or multicast address'
  const addresses = await new Promise<LookupAddress[] | null>(resolve => {
    dnsLookup(host, { all: true }, (err, found) => resolve(err === null ? found : null))
  })
  if (addresses === null || addresses.length === 0) return 'names a host that does not resolve'
  return addresses.every(a => isPublicAddress(a.address)) ? null : 'resolves to a loopback, private, link-local or multicast address'
}

/** At delivery time: a literal IP in the URL never goes through lookup, so it is checked here. */
export function literalHostBlocked (url: URL, allowPrivate: boolean): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return !allowPrivate && isIP(host) !== 0 && !isPublicAddress(host)
}
