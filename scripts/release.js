// `npm run release [-- --out DIR]`: builds longpoll-chat-<version>.tgz, the
// file a shared host gets. It holds the compiled JavaScript and everything the
// server reads at run time, with a package.json and package-lock.json that
// name the production dependencies only, so `npm ci --omit=dev` (cPanel's
// "Run NPM Install") is all the host has to do: no TypeScript compiler, no
// build step. Unpack it into the application folder itself (no top folder).
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../', import.meta.url))

/** Files and folders copied as they are. */
const shipped = ['app.cjs', 'sql', 'public', 'deploy', 'README.md', 'SECURITY.md', '.env.example',
  'docs/DEPLOY.md', 'docs/API.md', 'docs/CURL.md']

/** The scripts that work without dev dependencies; the others need the source tree. */
const runtimeScripts = {
  start: 'node dist/server.js',
  migrate: 'node dist/cli/migrate.js',
  'make-admin': 'node dist/cli/make-admin.js'
}

function run (command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal})`)
}

/** package.json as the host needs it: production dependencies and runtime scripts only. */
export function releasePackageJson (pkg) {
  const out = { ...pkg, scripts: runtimeScripts }
  delete out.devDependencies
  return out
}

/**
 * The lock file for that package.json: npm ci refuses a lock whose root names
 * dev dependencies the package.json no longer has, so those and every package
 * only they need (npm marks them "dev") are dropped; versions and integrity
 * hashes of the rest stay exactly as tested. A link into a dropped package
 * (a dev package's own workspace, as converse.js has) carries no "dev" mark
 * of its own, and npm ci refuses a link whose target is missing: it goes too.
 */
export function releaseLock (lock) {
  const packages = {}
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '') {
      const rootEntry = { ...entry }
      delete rootEntry.devDependencies
      packages[path] = rootEntry
    } else if (entry.dev !== true) {
      packages[path] = entry
    }
  }
  for (const [path, entry] of Object.entries(packages)) {
    if (entry.link === true && !(entry.resolved in packages)) delete packages[path]
  }
  return { ...lock, packages }
}

function main () {
  const args = process.argv.slice(2)
  const outIndex = args.indexOf('--out')
  const outDir = outIndex >= 0 ? resolve(args[outIndex + 1] ?? '.') : root
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'))
  const name = `${pkg.name}-${pkg.version}.tgz`

  const stage = mkdtempSync(join(tmpdir(), 'longpoll-release-'))
  try {
    // A clean build of its own, so nothing stale in dist/ is shipped.
    run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'),
      '--outDir', join(stage, 'dist'), '--sourceMap', 'false'])
    for (const item of shipped) {
      const from = join(root, item)
      if (!existsSync(from)) throw new Error(`${item} is missing`)
      mkdirSync(join(stage, item, '..'), { recursive: true })
      cpSync(from, join(stage, item), { recursive: true })
    }
    writeFileSync(join(stage, 'package.json'), JSON.stringify(releasePackageJson(pkg), null, 2) + '\n')
    writeFileSync(join(stage, 'package-lock.json'), JSON.stringify(releaseLock(lock), null, 2) + '\n')
    mkdirSync(outDir, { recursive: true })
    const entries = ['dist', 'package.json', 'package-lock.json', ...new Set(shipped.map(s => s.split('/')[0]))]
    run('tar', ['-czf', join(outDir, name), '-C', stage, ...entries])
    process.stdout.write(`${join(outDir, name)}\n`)
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main()
