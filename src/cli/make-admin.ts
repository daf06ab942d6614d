import { loadConfig } from '../config.js'
import { connectDatabase } from '../db/connect.js'
import { migrate } from '../db/migrate.js'
import { setAdmin } from '../auth/users.js'

/** `npm run make-admin -- <username> [--revoke]`: grants (or takes away) administrator rights. */
const args = process.argv.slice(2)
const username = args.find(a => !a.startsWith('--'))
if (username === undefined) {
  console.error('usage: npm run make-admin -- <username> [--revoke]')
  process.exit(2)
}
const config = loadConfig()
const database = connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1, queueLimit: 0 })
try {
  await migrate(database.db, database.dialect)
  const revoke = args.includes('--revoke')
  if (await setAdmin(database.db, username, !revoke)) {
    console.log(`${username.toLowerCase()} is ${revoke ? 'no longer' : 'now'} an administrator`)
  } else {
    console.error(`no user named ${username}`)
    process.exitCode = 1
  }
} finally {
  await database.close()
}
