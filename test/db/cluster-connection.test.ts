import t from 'tap'
import { sql } from 'kysely'
import { connectDatabase, inTransaction, parseDatabaseUrl } from '../../src/db/connect.js'
import { isRetryableWriteConflict } from '../../src/db/retry.js'
import { createTestDatabase, usingMariaDb } from '../helpers/database.js'
import { mariadbServerBinary, startPrivateMariaDb } from '../helpers/private-mariadb.js'
import { freePort } from '../helpers/server-process.js'

t.test('DATABASE_URL takes one host or a list of them', async t => {
  t.same(parseDatabaseUrl('mysql://chat:s3cr%40t@db.example:3307/chat_db'), {
    hosts: [{ host: 'db.example', port: 3307 }], user: 'chat', password: 's3cr@t', database: 'chat_db'
  })
  t.same(parseDatabaseUrl('mariadb://u:p@h1:3306,h2,[::1]:3308/db').hosts,
    [{ host: 'h1', port: 3306 }, { host: 'h2', port: 3306 }, { host: '::1', port: 3308 }])
  t.same(parseDatabaseUrl('mysql://root@127.0.0.1/'), { hosts: [{ host: '127.0.0.1', port: 3306 }], user: 'root', password: '', database: '' })
  t.throws(() => parseDatabaseUrl('mysql://u:p@h1:3306,:x/db'), /bad host/)
})

t.test('what counts as a lost race to run again', async t => {
  t.ok(isRetryableWriteConflict(Object.assign(new Error('Deadlock found when trying to get lock'), { errno: 1213, code: 'ER_LOCK_DEADLOCK' })))
  t.ok(isRetryableWriteConflict(Object.assign(new Error('WSREP has not yet prepared node for application use'), { errno: 1047 })))
  t.notOk(isRetryableWriteConflict(Object.assign(new Error('Duplicate entry'), { errno: 1062, code: 'ER_DUP_ENTRY' })))
  t.notOk(isRetryableWriteConflict(new Error('connect ECONNREFUSED')))
})

t.test('a transaction that loses a real deadlock is run again, and both writes land', { skip: usingMariaDb() ? false : 'MariaDB only (TEST_DATABASE_URL)' }, async t => {
  const database = await createTestDatabase(t)
  const handle = connectDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir, poolSize: 4, queueLimit: 10 })
  t.teardown(async () => { await handle.close() })
  await sql.raw('CREATE TABLE pair (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB').execute(handle.db)
  await sql.raw('INSERT INTO pair VALUES (1, 0), (2, 0)').execute(handle.db)
  // Each transaction locks one row, waits until the other has locked the
  // other row, then wants it: InnoDB kills one of them with error 1213.
  let locked = 0
  let bothLocked: () => void = () => {}
  const latch = new Promise<void>(resolve => { bothLocked = resolve })
  const runs = [0, 0]
  const crosswise = async (first: number, second: number, who: 0 | 1): Promise<void> => {
    await inTransaction(handle, async (trx) => {
      runs[who] = (runs[who] ?? 0) + 1
      await sql`UPDATE pair SET v = v + 1 WHERE id = ${first}`.execute(trx)
      if (++locked === 2) bothLocked()
      await latch
      await sql`UPDATE pair SET v = v + 1 WHERE id = ${second}`.execute(trx)
    })
  }
  await Promise.all([crosswise(1, 2, 0), crosswise(2, 1, 1)])
  t.equal(runs[0]! + runs[1]!, 3, `one transaction ran twice (runs: ${runs.join(', ')})`)
  const rows = await sql<{ id: number, v: number }>`SELECT id, v FROM pair ORDER BY id`.execute(handle.db)
  t.same(rows.rows.map(r => Number(r.v)), [2, 2], 'each transaction counted exactly once')
})

t.test('transactions read what others committed since they began (READ COMMITTED), on every pooled connection', { skip: usingMariaDb() ? false : 'MariaDB only (TEST_DATABASE_URL)' }, async t => {
  const database = await createTestDatabase(t)
  const handle = connectDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir, poolSize: 3, queueLimit: 10 })
  t.teardown(async () => { await handle.close() })
  await sql.raw('CREATE TABLE box (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB').execute(handle.db)
  await sql.raw('INSERT INTO box VALUES (1, 0)').execute(handle.db)
  // Three transactions at once hold all three connections: each first reads
  // (REPEATABLE READ would fix its snapshot there), then re-reads after a
  // write committed outside it.
  let reads = 0
  let allRead: () => void = () => {}
  const latch = new Promise<void>(resolve => { allRead = resolve })
  let committed: () => void = () => {}
  const written = new Promise<void>(resolve => { committed = resolve })
  const seen = await Promise.all([0, 1, 2].map(async () => await inTransaction(handle, async (trx) => {
    const before = Number((await sql<{ v: number }>`SELECT v FROM box WHERE id = 1`.execute(trx)).rows[0]?.v)
    if (++reads === 3) allRead()
    await written
    const after = Number((await sql<{ v: number }>`SELECT v FROM box WHERE id = 1`.execute(trx)).rows[0]?.v)
    return [before, after]
  })).concat((async () => {
    await latch
    // A connection of its own: the pool's three are all inside the transactions.
    const other = connectDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir, poolSize: 1, queueLimit: 10 })
    try { await sql.raw('UPDATE box SET v = 7 WHERE id = 1').execute(other.db) } finally { await other.close() }
    committed()
    return [-1, -1]
  })()))
  t.same(seen.slice(0, 3), [[0, 7], [0, 7], [0, 7]], 'each transaction saw the value committed after its first read')
})

t.test('several hosts: the first that answers, the next when it stops', {
  skip: usingMariaDb() && mariadbServerBinary() !== null ? false : 'MariaDB only (TEST_DATABASE_URL and mariadbd)'
}, async t => {
  const shared = await createTestDatabase(t)
  const sharedUrl = new URL(shared.databaseUrl as string)
  const name = sharedUrl.pathname.slice(1)
  const dead = await freePort()
  const ask = async (url: string): Promise<number> => {
    const handle = connectDatabase({ databaseUrl: url, dataDir: shared.dataDir, poolSize: 2, queueLimit: 10 })
    try {
      return Number((await sql<{ port: number }>`SELECT @@port AS port`.execute(handle.db)).rows[0]?.port)
    } finally { await handle.close() }
  }
  const sharedHost = `${sharedUrl.hostname}:${sharedUrl.port === '' ? 3306 : sharedUrl.port}`
  const auth = sharedUrl.username === '' ? '' : `${sharedUrl.username}${sharedUrl.password === '' ? '' : `:${sharedUrl.password}`}@`
  t.equal(await ask(`mysql://${auth}127.0.0.1:${dead},${sharedHost}/${name}`), Number(sharedUrl.port === '' ? 3306 : sharedUrl.port),
    'a host that refuses is passed over')

  const privateDb = await startPrivateMariaDb(t)
  await privateDb.createDatabase(name)
  const handle = connectDatabase({ databaseUrl: `mysql://${auth}127.0.0.1:${privateDb.port},${sharedHost}/${name}`, dataDir: shared.dataDir, poolSize: 2, queueLimit: 10 })
  t.teardown(async () => { await handle.close() })
  const port = async (): Promise<number> => Number((await sql<{ port: number }>`SELECT @@port AS port`.execute(handle.db)).rows[0]?.port)
  t.equal(await port(), privateDb.port, 'the first host while it answers')
  await privateDb.crash()
  // Connections to the dead host fail once each (the caller answers 503 and its client retries); then the next host.
  let answered = 0
  for (let i = 0; i < 10 && answered === 0; i++) {
    try { answered = await port() } catch { /* a connection of the dead host */ }
  }
  t.equal(answered, Number(sharedUrl.port === '' ? 3306 : sharedUrl.port), 'the next host once the first stopped')
})
