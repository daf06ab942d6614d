import type { FastifyInstance } from 'fastify'
import { as, buildTestApp, listenOn, register, type Session } from '../helper.js'
import { startFlakyProxy } from '../helpers/flaky-proxy.js'

export interface OursStaged {
  app: FastifyInstance
  alice: Session
  /** The BOSH URL the conversation uses: a proxy that loses the answer carrying `replay-me` once. */
  service: string
  dropped: () => number
  /** The rids of the requests that carried `replay-me`, as the proxy saw them. */
  markedRids: string[]
}

interface TestLike {
  teardown: (fn: () => unknown) => void
  equal: (found: unknown, wanted: unknown) => unknown
}

/**
 * This product set up for the Strophe conversation (strophe-script.ts): alice
 * and bob, a channel `lobby`, and a channel `strict` that bans bob. Rooms and
 * bans are made in the chat, here through the web API.
 */
export async function stageOurs (t: TestLike, domain: string, password: string): Promise<OursStaged> {
  const app = await buildTestApp(t, { XMPP_DOMAIN: domain, POLL_TIMEOUT: '3', POLL_MAX_TIMEOUT: '5' })
  const base = await listenOn(app)
  const alice = await register(app, 'alice', password)
  await register(app, 'bob', password)
  t.equal((await as(app, alice, 'POST', '/api/rooms', { name: 'lobby' })).statusCode, 201)
  t.equal((await as(app, alice, 'POST', '/api/rooms', { name: 'strict' })).statusCode, 201)
  t.equal((await as(app, alice, 'POST', '/api/rooms/strict/bans', { username: 'bob' })).statusCode, 204)
  const proxy = await startFlakyProxy(t, `${base}/http-bind`, 'replay-me')
  return { app, alice, service: proxy.url, dropped: proxy.dropped, markedRids: proxy.markedRids }
}
