import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { AppError } from '../http/errors.js'
import { RoomAccess } from '../rooms/access.js'
import incomingRoutes from './incoming-routes.js'
import outgoingRoutes from './outgoing-routes.js'
import { WebhookService } from './service.js'
import { hashIncomingSecret } from './signing.js'
import { WebhookWorker } from './worker.js'

export interface WebhooksPluginOptions {
  config: Config
  apiPrefix: string
}

/**
 * Webhooks, registered under the API prefix: the routes of both kinds, and this
 * node's delivery worker (started with the app, stopped in onClose before the
 * database closes, since child hooks run before their parents').
 */
export default async function webhooksPlugin (app: FastifyInstance, opts: WebhooksPluginOptions): Promise<void> {
  const { db, dialect } = app.database
  const { webhooks: config, rateLimit } = opts.config
  const sendAs = app.messages.sendAs.bind(app.messages)
  const worker = new WebhookWorker({ db, log: app.log, config, sendAs })
  const onHooked = (roomId: number): void => { worker.noteHookedRoom(roomId) }
  const webhooks = new WebhookService({ db, dialect, access: new RoomAccess(db), allowPrivate: config.allowPrivate, perRoom: config.perRoom, sendAs, onHooked })
  app.feed.onBatch(batch => { worker.onEvents(batch) })
  app.addHook('onReady', async () => { worker.start() })
  app.addHook('onClose', async () => { await worker.close() })

  // Posts through a hook are limited like sends, per hook (the bot is the sender).
  const limit = rateLimit.disabled
    ? async () => {}
    : app.rateLimit({
      max: rateLimit.sendMax,
      timeWindow: rateLimit.sendWindowSeconds * 1000,
      keyGenerator: (request: FastifyRequest) => `hook:${hashIncomingSecret(String((request.params as { secret?: unknown }).secret))}`,
      errorResponseBuilder: (_request: FastifyRequest, context: { ttl: number }) =>
        new AppError('rate_limited', 'Too many posts to this webhook; slow down.', { retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)) })
    }) as unknown as (request: FastifyRequest, reply: FastifyReply) => Promise<void>

  await app.register(incomingRoutes, { webhooks, apiPrefix: opts.apiPrefix, limit })
  await app.register(outgoingRoutes, { webhooks })
}
