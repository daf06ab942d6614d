import { loadConfig } from '../config.js'
import { connectDatabase } from '../db/connect.js'
import { migrate } from '../db/migrate.js'
import { EventLog } from '../events/event-log.js'
import { disableAccount, enableAccount } from '../admin/service.js'
import { setAdmin } from '../auth/users.js'

/**
 * `npm run admin -- <command> <username>`, for a host whose only administrator
 * is locked out: `disable` (every session and token ends at once, on every
 * running node), `enable`, `make-admin`, `revoke-admin`.
 */
const usage = 'usage: npm run admin -- disable|enable|make-admin|revoke-admin <username>'
const [command, username] = process.argv.slice(2).filter(a => !a.startsWith('--'))
const commands = ['disable', 'enable', 'make-admin', 'revoke-admin']
if (command === undefined || username === undefined || !commands.includes(command)) {
  console.error(usage)
  process.exit(2)
}
const config = loadConfig()
const database = connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1, queueLimit: 0 })
try {
  await migrate(database.db, database.dialect)
  // Running servers learn of a disabled account from the event this writes.
  const deps = { db: database.db, eventLog: new EventLog(database, () => {}) }
  const done = command === 'disable'
    ? await disableAccount(deps, username)
    : command === 'enable'
      ? await enableAccount(deps, username)
      : await setAdmin(database.db, username, command === 'make-admin')
  if (done) {
    const what = { disable: 'disabled', enable: 'enabled', 'make-admin': 'now an administrator', 'revoke-admin': 'no longer an administrator' }[command]
    console.log(`${username.toLowerCase()} is ${what}`)
  } else {
    console.error(`no user named ${username}`)
    process.exitCode = 1
  }
} finally {
  await database.close()
}
