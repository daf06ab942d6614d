/* global fetch, DOMException */
// The HTTP contract, one function per route. Every URL is relative so the app
// works under any BASE_PATH: the page is served at `{BASE_PATH}/` and
// `fetch('api/me')` resolves to `{BASE_PATH}/api/me`.

/** A failed request: `status` 0 means the network failed before an answer. */
export class ApiError extends Error {
  constructor (status, error = {}, retryAfter = null) {
    super(error.message || (status === 0 ? 'Cannot reach the server' : `Request failed (${status})`))
    this.name = 'ApiError'
    this.status = status
    this.code = error.code || (status === 0 ? 'network' : 'http_' + status)
    this.fields = error.fields || null
    this.cursor = error.cursor ?? null
    /** The answer carried this server's JSON error body: the error is ours,
     * not a proxy's or a router's page (see docs/API.md, "Whose error is it"). */
    this.ours = typeof error.code === 'string'
    /** Milliseconds the server asked us to wait (Retry-After), or null. */
    this.retryAfter = retryAfter
  }

  /** Worth trying again later with the same request (network, 5xx, 429). */
  get transient () {
    return this.status === 0 || this.status === 429 || this.status >= 500
  }
}

/** Retry-After in milliseconds (seconds or an HTTP date), or null. */
export function parseRetryAfter (value) {
  if (value === null || value === '') return null
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now())
}

/**
 * One request. Writes send JSON; PATCH and DELETE travel as POST with
 * X-HTTP-Method-Override because some corporate proxies drop other methods
 * (the contract accepts both forms).
 */
export async function request (method, path, body, { signal } = {}) {
  const headers = { Accept: 'application/json' }
  let realMethod = method
  if (method === 'PATCH' || method === 'DELETE') {
    headers['X-HTTP-Method-Override'] = method
    realMethod = 'POST'
  }
  const init = { method: realMethod, headers, credentials: 'same-origin', cache: 'no-store', signal }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  } else if (realMethod === 'POST') {
    // An empty JSON object keeps body parsers happy on body-less writes.
    headers['Content-Type'] = 'application/json'
    init.body = '{}'
  }
  let res
  try {
    res = await fetch(path, init)
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    throw new ApiError(0)
  }
  let data = null
  if (res.status !== 204) {
    try {
      data = await res.json()
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err
      data = null // an HTML error page from a proxy, a cut connection…
    }
  }
  if (!res.ok) {
    const error = data && typeof data.error === 'object' && data.error !== null ? data.error : {}
    throw new ApiError(res.status, error, parseRetryAfter(res.headers.get('Retry-After')))
  }
  return data
}

const enc = encodeURIComponent

export const api = {
  me: () => request('GET', 'api/me'),
  login: (username, password) => request('POST', 'api/login', { username, password }),
  register: (username, password, displayName, invite) =>
    request('POST', 'api/register', { username, password, ...(displayName ? { displayName } : {}), ...(invite ? { invite } : {}) }),
  logout: () => request('POST', 'api/logout'),
  changePassword: (currentPassword, newPassword) => request('POST', 'api/password', { currentPassword, newPassword }),
  revokeSessions: () => request('POST', 'api/sessions/revoke'),

  tokens: () => request('GET', 'api/tokens'),
  /** The current password is asked again: a stolen session alone must not mint a lasting token. */
  createToken: (name, password) => request('POST', 'api/tokens', { name, password }),
  deleteToken: (id) => request('DELETE', `api/tokens/${enc(id)}`),

  rooms: () => request('GET', 'api/rooms'),
  publicRooms: () => request('GET', 'api/rooms/public'),
  createRoom: (name, visibility) => request('POST', 'api/rooms', { name, visibility }),
  joinRoom: (room) => request('POST', `api/rooms/${enc(room)}/join`),
  leaveRoom: (room) => request('POST', `api/rooms/${enc(room)}/leave`),
  members: (room) => request('GET', `api/rooms/${enc(room)}/members`),
  addMember: (room, username) => request('POST', `api/rooms/${enc(room)}/members`, { username }),
  direct: (username) => request('POST', 'api/direct', { username }),

  incomingWebhooks: (room) => request('GET', `api/rooms/${enc(room)}/incoming-webhooks`),
  /** Answers `{id, name, url}`: the URL holds the secret and is shown this once. */
  createIncomingWebhook: (room, name) => request('POST', `api/rooms/${enc(room)}/incoming-webhooks`, { name }),
  deleteIncomingWebhook: (room, id) => request('DELETE', `api/rooms/${enc(room)}/incoming-webhooks/${enc(id)}`),
  outgoingWebhooks: (room) => request('GET', `api/rooms/${enc(room)}/outgoing-webhooks`),
  /** `hook`: {url, events?, name?}; answers with the signing `secret`, shown this once. */
  createOutgoingWebhook: (room, hook) => request('POST', `api/rooms/${enc(room)}/outgoing-webhooks`, hook),
  deleteOutgoingWebhook: (room, id) => request('DELETE', `api/rooms/${enc(room)}/outgoing-webhooks/${enc(id)}`),
  resumeOutgoingWebhook: (room, id) => request('POST', `api/rooms/${enc(room)}/outgoing-webhooks/${enc(id)}/resume`),

  updateRoom: (room, change) => request('PATCH', `api/rooms/${enc(room)}`, change),
  archiveRoom: (room) => request('DELETE', `api/rooms/${enc(room)}`),
  setRole: (room, username, role) => request('POST', `api/rooms/${enc(room)}/roles`, { username, role }),
  kick: (room, username) => request('POST', `api/rooms/${enc(room)}/kick`, { username }),
  ban: (room, username) => request('POST', `api/rooms/${enc(room)}/bans`, { username }),
  bans: (room) => request('GET', `api/rooms/${enc(room)}/bans`),
  unban: (room, username) => request('DELETE', `api/rooms/${enc(room)}/bans/${enc(username)}`),

  invites: () => request('GET', 'api/admin/invites'),
  createInvite: (uses, expiresInDays) => request('POST', 'api/admin/invites', { uses, expiresInDays }),
  deleteInvite: (code) => request('DELETE', `api/admin/invites/${enc(code)}`),
  users: (q, after) => {
    const query = new URLSearchParams()
    if (q) query.set('q', q)
    if (after) query.set('after', after)
    return request('GET', `api/admin/users?${query}`)
  },
  disableUser: (username) => request('POST', `api/admin/users/${enc(username)}/disable`),
  enableUser: (username) => request('POST', `api/admin/users/${enc(username)}/enable`),

  /** A page of history: the newest before `before`, or (with `after`) the oldest after it. */
  history: (room, before, limit = 50, after = null) => {
    const q = new URLSearchParams({ limit: String(limit) })
    if (before) q.set('before', before)
    if (after) q.set('after', after)
    return request('GET', `api/rooms/${enc(room)}/messages?${q}`)
  },
  search: (q, before = null, limit = 20) => {
    const params = new URLSearchParams({ q, limit: String(limit) })
    if (before) params.set('before', before)
    return request('GET', `api/search?${params}`)
  },
  send: (room, text, clientId) => request('POST', `api/rooms/${enc(room)}/messages`, { text, clientId }),
  edit: (room, id, text) => request('PATCH', `api/rooms/${enc(room)}/messages/${enc(id)}`, { text }),
  remove: (room, id) => request('DELETE', `api/rooms/${enc(room)}/messages/${enc(id)}`),
  read: (room, eventId) => request('POST', `api/rooms/${enc(room)}/read`, { eventId }),
  typing: (room) => request('POST', `api/rooms/${enc(room)}/typing`),

  /**
   * Without a cursor: the head, at once. With one: held until events or
   * `timeout` seconds (null: the server's POLL_TIMEOUT). `away`: nobody has
   * touched any tab for a while, which other members see in member lists.
   */
  poll: (cursor, signal, timeout = null, away = false) => {
    const q = new URLSearchParams(cursor == null ? {} : { cursor })
    if (cursor != null && timeout !== null) q.set('timeout', String(timeout))
    if (away) q.set('away', '1')
    const query = q.toString()
    return request('GET', query ? `api/poll?${query}` : 'api/poll', undefined, { signal })
  }
}
