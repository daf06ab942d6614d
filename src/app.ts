import Fastify, { type FastifyInstance } from 'fastify'
import type { Config } from './config.js'
import { connectionCutoff, serverOptions } from './http/server.js'
import api from './plugins/api.js'
import database from './plugins/database.js'
import eventStream from './plugins/event-stream.js'
import housekeeping from './plugins/housekeeping.js'
import http from './plugins/http.js'
import { openApi } from './plugins/operations.js'
import services from './plugins/services.js'
import staticClient from './plugins/static-client.js'

/**
 * Builds the whole app without listening: the server entry point and the tests
 * both call this. Each plugin opens what it owns and closes it in its own
 * onClose; they close in the reverse of this order (docs/ARCHITECTURE.md).
 */
export async function buildApp (config: Config): Promise<FastifyInstance> {
  const app = Fastify(serverOptions(config))
  await app.register(connectionCutoff, { shutdownTimeoutMs: config.shutdownTimeoutMs })
  await app.register(http, { bodyLimit: config.bodyLimit })
  await app.register(openApi, { basePath: config.basePath })
  await app.register(database, { config })
  await app.register(eventStream, { config })
  await app.register(services, { config })
  await app.register(housekeeping, { config })
  await app.register(api, { config })
  await app.register(staticClient, { basePath: config.basePath })
  return app
}
