/** A JID split into its parts (RFC 7622), without the stringprep this service does not need: local parts are our usernames and room names. */
export interface Jid { local: string | null, domain: string, resource: string | null }

export function parseJid (text: string | undefined): Jid | null {
  if (text === undefined || text === '' || text.length > 3071) return null
  const slash = text.indexOf('/')
  const bare = slash === -1 ? text : text.slice(0, slash)
  const resource = slash === -1 ? null : text.slice(slash + 1)
  const at = bare.indexOf('@')
  const local = at === -1 ? null : bare.slice(0, at)
  const domain = (at === -1 ? bare : bare.slice(at + 1)).toLowerCase()
  if (domain === '' || local === '' || resource === '') return null
  return { local: local === null ? null : local.toLowerCase(), domain, resource }
}

export function formatJid (local: string | null, domain: string, resource?: string | null): string {
  return `${local === null ? '' : `${local}@`}${domain}${resource === null || resource === undefined ? '' : `/${resource}`}`
}

/** The two domains this service answers for: users at `domain`, channels at `conference.domain`. */
export interface XmppDomains { domain: string, muc: string }

export function xmppDomains (domain: string): XmppDomains {
  return { domain: domain.toLowerCase(), muc: `conference.${domain.toLowerCase()}` }
}
