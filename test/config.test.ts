import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { configTable, loadConfig } from '../src/config.js'

t.test('defaults need no configuration at all', async t => {
  const c = loadConfig({}, false)
  t.equal(c.databaseUrl, undefined)
  t.equal(c.port, 3000)
  t.equal(c.pollTimeout, 25)
  t.equal(c.pollMaxTimeout, 55)
  t.equal(c.basePath, '')
  t.equal(c.trustProxy, false)
  t.equal(c.registration, 'open')
  t.equal(c.bodyLimit, 64 * 1024)
  t.equal(c.dbPoolSize, 4)
})

t.test('values are parsed as documented', async t => {
  const c = loadConfig({
    PORT: '/tmp/chat.sock', BASE_PATH: '/chat/', TRUST_PROXY: '127.0.0.1, 10.0.0.0/8', SESSION_SECRET: `${'a'.repeat(32)},${'b'.repeat(40)}`, DATABASE_URL: 'mysql://u:p@db:3306/chat'
  }, false)
  t.equal(c.port, '/tmp/chat.sock')
  t.equal(c.basePath, '/chat')
  t.same(c.trustProxy, ['127.0.0.1', '10.0.0.0/8'])
  t.same(c.sessionSecrets, ['a'.repeat(32), 'b'.repeat(40)])
  t.equal(loadConfig({ TRUST_PROXY: 'true' }, false).trustProxy, true)
})

t.test('a bad value is refused with a message naming the variable', async t => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'abc' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ POLL_TIMEOUT: '0' }, /POLL_TIMEOUT/],
    [{ POLL_TIMEOUT: '60', POLL_MAX_TIMEOUT: '55' }, /POLL_TIMEOUT/],
    [{ SESSION_SECRET: 'short' }, /SESSION_SECRET/],
    [{ SESSION_SECRET: `${'a'.repeat(32)},short` }, /SESSION_SECRET/],
    [{ TRUST_PROXY: 'sometimes' }, /TRUST_PROXY/],
    [{ TRUST_PROXY: '10.0.0.0/99' }, /TRUST_PROXY/],
    // Fastify would take it and then believe no forwarded header (see parseTrustProxy).
    [{ TRUST_PROXY: '1' }, /TRUST_PROXY: a hop count .*127\.0\.0\.1/],
    [{ DATABASE_URL: 'postgres://x/y' }, /DATABASE_URL/],
    [{ REGISTRATION: 'maybe' }, /REGISTRATION/],
    [{ BASE_PATH: 'chat' }, /BASE_PATH/],
    [{ BODY_LIMIT: 'lots' }, /BODY_LIMIT/],
    [{ WEBHOOK_ALLOW_PRIVATE: 'maybe' }, /WEBHOOK_ALLOW_PRIVATE/],
    [{ WEBHOOK_LEASE_SECONDS: '5' }, /WEBHOOK_LEASE_SECONDS/]
  ]
  for (const [env, name] of cases) t.throws(() => loadConfig(env, false), name, JSON.stringify(env))
})

t.test('the server process stops at start-up naming the bad variable', async t => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, PORT: 'not-a-port', DATA_DIR: '/tmp/unused-chat-data' },
    encoding: 'utf8',
    timeout: 30000
  })
  t.equal(run.status, 1)
  t.match(run.stderr, /PORT/)
})

t.test('the README documents exactly the variables of the schema, with their defaults', async t => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const documented = readme.split('\n').filter(line => /^\| `[A-Z_]+` \|/.test(line))
  const declared = configTable().split('\n').slice(2)
  t.same(documented, declared, `README's configuration table should be:\n${configTable()}`)
})
