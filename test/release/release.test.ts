import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase } from '../helpers/database.js'
import { freePort } from '../helpers/server-process.js'
import { projectRoot, request, sessionCookie, SESSION_SECRET } from '../hosting/harness.js'
import { openUp, realPassenger, startApachePassenger, startUnderStandIn } from '../hosting/passenger-harness.js'

// The release file as a host without build tools gets it: built by
// `npm run release`, unpacked into an empty folder, `npm ci --omit=dev` (what
// cPanel's "Run NPM Install" does), then started the two ways hosts start it.

// Building, installing and two starts on a busy 2-core machine.
t.setTimeout(600000)

const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { name: string, version: string }
const work = mkdtempSync(join(tmpdir(), 'chat-release-'))
openUp(work)
t.teardown(() => rmSync(work, { recursive: true, force: true }))
const app = join(work, 'app')

// One database for both starts (the file's, not a subtest's: it must outlive the first). Made before the
// subtests: their spawnSync calls block the event loop for many seconds, and a connection being opened
// meanwhile would miss its connect timeout.
const { dataDir, databaseUrl } = await createTestDatabase(t)
openUp(dataDir, 0o777)

const run = (command: string, args: string[], cwd: string, env: Record<string, string> = {}): string => {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 400000 })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`)
  return result.stdout
}

t.test('npm run release builds the file with what a host needs and nothing it cannot run', async t => {
  const printed = run('npm', ['run', '-s', 'release', '--', '--out', work], projectRoot).trim()
  const file = join(work, `${pkg.name}-${pkg.version}.tgz`)
  t.equal(printed.split('\n').pop(), file)
  const entries = run('tar', ['-tzf', file], work).split('\n').filter(e => e !== '')
  for (const needed of ['app.cjs', 'package.json', 'package-lock.json', 'dist/server.js', 'dist/cli/migrate.js',
    'sql/mysql/001_init.sql', 'sql/sqlite/001_init.sql', 'public/index.html', 'public/.htaccess', 'README.md', 'docs/DEPLOY.md']) {
    t.ok(entries.includes(needed), `${needed} is in the release`)
  }
  t.same(entries.filter(e => e.endsWith('.ts') || e.startsWith('src/') || e.startsWith('test/') || e.startsWith('node_modules/')), [],
    'no TypeScript sources, tests or dependencies')

  mkdirSync(app)
  openUp(app)
  run('tar', ['-xzf', file, '-C', app], work)
  const shipped = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>
  t.equal(shipped.devDependencies, undefined, 'no dev dependencies')
  t.notOk(Object.values(shipped.scripts ?? {}).some(s => /\b(tsc|tsx|build-if-stale)\b/.test(s)), 'no script needs the compiler')
})

t.test('npm ci --omit=dev installs it without TypeScript', async t => {
  // better-sqlite3's install script fetches a prebuilt binary from GitHub or
  // compiles SQLite for minutes. Offer it this machine's build as a local
  // prebuild (the file it would download), so the real install script runs
  // without a network or a compiler.
  const prebuilds = join(work, 'prebuilds')
  mkdirSync(prebuilds)
  const sqlite = join(projectRoot, 'node_modules/better-sqlite3')
  const version = (JSON.parse(readFileSync(join(sqlite, 'package.json'), 'utf8')) as { version: string }).version
  run('tar', ['-czf', join(prebuilds, `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`),
    '-C', sqlite, 'build/Release/better_sqlite3.node'], work)
  run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], app, {
    npm_config_better_sqlite3_local_prebuilds: prebuilds
  })
  const installed = readdirSync(join(app, 'node_modules'))
  for (const dev of ['typescript', 'tsx', 'tap', 'eslint']) t.notOk(installed.includes(dev), `${dev} is not installed`)
  t.ok(existsSync(join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')))
  openUp(app)
})

let cookie = ''

t.test('a supervisor runs node dist/server.js: register and chat', async t => {
  const port = await freePort()
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: app,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, SESSION_SECRET, LOG_LEVEL: 'warn', ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dist/server.js exited (${child.exitCode}):\n${out}`)
    try { if ((await request(`${url}/api/health`, { timeoutMs: 2000 })).status === 200) break } catch {}
    if (Date.now() > deadline) throw new Error(`never healthy:\n${out}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  const registered = await request(`${url}/api/register`, { body: { username: 'release', password: 'ready built and shipped' } })
  t.equal(registered.status, 201, registered.text)
  cookie = sessionCookie(registered)
  t.equal((await request(`${url}/api/rooms`, { body: { name: 'shipped' }, headers: { cookie } })).status, 201)
  const cursor = String((await request(`${url}/api/poll`, { headers: { cookie } })).json?.cursor)
  const held = request(`${url}/api/poll?cursor=${cursor}&timeout=20`, { headers: { cookie } })
  await new Promise(resolve => setTimeout(resolve, 200))
  t.equal((await request(`${url}/api/rooms/shipped/messages`, { body: { text: 'from the supervisor start' }, headers: { cookie } })).status, 201)
  const woken = await held
  t.ok(woken.json?.events?.some((e: { text?: string }) => e.text === 'from the supervisor start'), woken.text)
  child.kill('SIGTERM')
  t.equal(await exited, 0, out)
  // Passenger runs the app as another user than this root test: let it write the SQLite files too.
  for (const file of readdirSync(dataDir)) openUp(join(dataDir, file), 0o666)
})

t.test('Passenger runs it through app.cjs: the same data, chat goes on', async t => {
  const env = { DATA_DIR: dataDir, SESSION_SECRET, LOG_LEVEL: 'warn', ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }) }
  const real = realPassenger()
  let at: (path: string, options?: Parameters<typeof request>[1]) => ReturnType<typeof request>
  if (real.ok) {
    const apache = await startApachePassenger(t, { appRoot: app, env, processes: 1 })
    at = async (path, options = {}) => await request(`${apache.url}${path}`, options)
  } else {
    t.comment(`real Passenger not available (${real.why}): using the stand-in for its loader`)
    const p = await startUnderStandIn(t, app, { ...env, BASE_PATH: '/chat' }, 'release')
    at = async (path, options = {}) => await request(`http://localhost/chat${path}`, { ...options, socketPath: p.socket })
  }
  const sent = await at('/api/rooms/shipped/messages', { body: { text: 'from Passenger' }, headers: { cookie } })
  t.equal(sent.status, 201, sent.text)
  const history = await at('/api/rooms/shipped/messages', { headers: { cookie } })
  t.same(history.json?.events?.map((e: { text: string }) => e.text), ['from the supervisor start', 'from Passenger'])
  const second = await at('/api/register', { body: { username: 'newcomer', password: 'joined on passenger' } })
  t.equal(second.status, 201, second.text)
})
