import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { listenOn, testConfig } from '../helper.js'
import type { TestDatabase } from './database.js'
import { startChatNode, type ServerProcess } from './server-process.js'

interface Teardown { teardown (fn: () => unknown): void }

/** Two app instances in this process on one database, each listening on loopback. */
export async function twoApps (t: Teardown, database: TestDatabase, env: Record<string, string> = {}): Promise<{ apps: FastifyInstance[], urls: string[] }> {
  const apps: FastifyInstance[] = []
  for (let i = 0; i < 2; i++) {
    const app = await buildApp(testConfig(database, env))
    t.teardown(async () => { await app.close() })
    apps.push(app)
  }
  return { apps, urls: await Promise.all(apps.map(listenOn)) }
}

/** Two server processes on one database (a node can be stopped, killed and started again on its port). */
export async function twoNodes (t: Teardown, database: TestDatabase, env: Record<string, string | undefined> = {}): Promise<ServerProcess[]> {
  return await Promise.all([startChatNode(t, database, env), startChatNode(t, database, env)])
}
