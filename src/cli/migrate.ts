import { loadConfig } from '../config.js'
import { connectDatabase } from '../db/connect.js'
import { migrate } from '../db/migrate.js'

/** `npm run migrate`: applies the schema files in sql/<dialect>/ that have not run yet. */
const config = loadConfig()
const database = connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1, queueLimit: 0 })
try {
  const applied = await migrate(database.db, database.dialect, msg => console.log(msg))
  console.log(applied.length === 0 ? 'database is up to date' : `applied: ${applied.join(', ')}`)
} catch (err) {
  console.error(`migration failed: ${(err as Error).message}`)
  process.exitCode = 1
} finally {
  await database.close()
}
