import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { connectDatabase, type DatabaseHandle } from '../db/connect.js'
import { migrate } from '../db/migrate.js'

declare module 'fastify' {
  interface FastifyInstance {
    database: DatabaseHandle
  }
}

/** Opens the database and brings its schema up to date at start; closes it last. */
export default fp(async function database (app, opts: { config: Config }) {
  const { config } = opts
  app.decorate('database', null, [])
  const handle = connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize, queueLimit: config.dbQueueLimit })
  try {
    const applied = await migrate(handle.db, handle.dialect, msg => app.log.info(msg))
    if (applied.length > 0) app.log.info({ applied }, 'database migrated')
  } catch (err) {
    await handle.close()
    throw err
  }
  app.database = handle
  app.addHook('onClose', async () => { await handle.close() })
}, { name: 'database' })
