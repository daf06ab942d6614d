import type { FastifyInstance } from 'fastify'
import { as, register, type Session } from '../helper.js'

/**
 * The app's real routes as `METHOD /path/:param`, read from Fastify's own
 * route tree (HEAD is Fastify's automatic twin of GET, so it is left out).
 */
export function appRoutes (app: FastifyInstance): string[] {
  const routes: string[] = []
  const stack: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line)
    if (m === null) continue
    const depth = (m[1] as string).length / 4
    stack.length = depth
    stack.push(m[2] as string)
    if (m[3] === undefined) continue
    const path = stack.join('')
    for (const method of m[3].split(',').map(s => s.trim())) {
      if (method !== 'HEAD') routes.push(`${method} ${path}`)
    }
  }
  return [...new Set(routes)].sort()
}

/** Routes that are no part of the API's credentialed surface (XMPP over BOSH signs in with SASL: test/xmpp). */
export const ignoredRoute = (route: string): boolean =>
  / \*$/.test(route) || route.endsWith(' /api/openapi.json') || route.endsWith(' /api/health') || / \/api\/debug\//.test(route) || route.endsWith(' /http-bind')

/** A small populated world: an owner with a private room holding a message, and an outsider. */
export interface World {
  owner: Session
  outsider: Session
  room: { id: string, name: string }
  messageId: string
  tokenId: string
  token: string
  /** Webhooks of the room: an incoming one (its URL's secret) and an outgoing one (to a public address). */
  incomingId: string
  hookSecret: string
  outgoingId: string
}

/** One account's own private room with a message, a token and both kinds of webhook: what a route may use up. */
export async function ownWorld (app: FastifyInstance, prefix: string): Promise<Omit<World, 'outsider'>> {
  const owner = await register(app, `${prefix}owner`)
  const name = `${prefix}-secret`
  const room = (await as(app, owner, 'POST', '/api/rooms', { name, visibility: 'private' })).json().room
  const messageId = (await as(app, owner, 'POST', `/api/rooms/${name}/messages`, { text: 'hello' })).json().event.id
  const created = (await as(app, owner, 'POST', '/api/tokens', { name: 'script', password: 'correct horse battery' })).json()
  const incoming = (await as(app, owner, 'POST', `/api/rooms/${name}/incoming-webhooks`, { name: 'ci' })).json()
  const outgoing = (await as(app, owner, 'POST', `/api/rooms/${name}/outgoing-webhooks`, { url: 'http://93.184.216.34/hook' })).json()
  return {
    owner,
    room: { id: room.id, name },
    messageId,
    tokenId: created.id,
    token: created.token,
    incomingId: incoming.id,
    hookSecret: String(incoming.url).split('/').pop() as string,
    outgoingId: outgoing.id
  }
}

export async function buildWorld (app: FastifyInstance, prefix = 'w'): Promise<World> {
  const own = await ownWorld(app, prefix)
  return { ...own, outsider: await register(app, `${prefix}outsider`) }
}

/** Row counts of every table a request could grow. */
export async function tableCounts (app: FastifyInstance): Promise<Record<string, number>> {
  const { db } = app.database
  const tables = ['users', 'rooms', 'memberships', 'messages', 'events', 'api_tokens', 'revoked_sessions', 'ephemeral_events'] as const
  const counts: Record<string, number> = {}
  for (const table of tables) {
    const row = await db.selectFrom(table).select(eb => eb.fn.countAll().as('n')).executeTakeFirst()
    counts[table] = Number(row?.n ?? 0)
  }
  return counts
}
