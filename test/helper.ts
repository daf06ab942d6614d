import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig, type Config } from '../src/config.js'
import { createTestDatabase, type TestDatabase } from './helpers/database.js'

interface Teardown { teardown (fn: () => unknown): void }

export const testSecret = 'test-secret-that-is-at-least-32-characters-long'

/** Config as the tests want it: quiet logs, no rate limits unless asked, a database of the test's own. */
export function testConfig (database: TestDatabase, env: Record<string, string> = {}): Config {
  return loadConfig({
    DATA_DIR: database.dataDir,
    ...(database.databaseUrl === undefined ? {} : { DATABASE_URL: database.databaseUrl }),
    SESSION_SECRET: testSecret,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_DISABLED: 'true',
    FEED_INTERVAL_MS: '50',
    ...env
  }, false)
}

/** Builds the app on a fresh database; closed when the test ends. */
export async function buildTestApp (t: Teardown, env: Record<string, string> = {}, database?: TestDatabase): Promise<FastifyInstance> {
  const db = database ?? await createTestDatabase(t)
  const app = await buildApp(testConfig(db, env))
  t.teardown(async () => { await app.close() })
  await app.ready()
  return app
}

/** Listens on a free loopback port (for tests where sockets matter) and gives the base URL. */
export async function listenOn (app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return `http://127.0.0.1:${address.port}`
}

/** A signed-in user for inject-based tests: the cookie header to send, and the user. */
export interface Session {
  cookie: string
  user: { id: string, username: string, displayName: string }
}

export function sessionCookieOf (res: LightMyRequestResponse): string {
  const header = res.headers['set-cookie']
  const list = Array.isArray(header) ? header : header === undefined ? [] : [header]
  const found = list.find(c => c.startsWith('chat_session='))
  if (found === undefined) throw new Error(`no session cookie in ${res.statusCode} ${res.body}`)
  return (found.split(';')[0] as string)
}

export async function register (app: FastifyInstance, username: string, password = 'correct horse battery'): Promise<Session> {
  const res = await app.inject({ method: 'POST', url: '/api/register', payload: { username, password } })
  if (res.statusCode !== 201) throw new Error(`register ${username}: ${res.statusCode} ${res.body}`)
  return { cookie: sessionCookieOf(res), user: res.json().user }
}

/** Injects a request as a signed-in user (cookie), JSON in and out. */
export async function as (app: FastifyInstance, session: Session, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<LightMyRequestResponse> {
  return await app.inject({ method, url, headers: { cookie: session.cookie }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) })
}

/** Sends a message as `who` and returns its event id. */
export async function send (app: FastifyInstance, who: Session, room: string, text: string): Promise<string> {
  const res = await as(app, who, 'POST', `/api/rooms/${room}/messages`, { text })
  if (res.statusCode !== 201) throw new Error(`send: ${res.statusCode} ${res.body}`)
  return res.json().event.id
}
