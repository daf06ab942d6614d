import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { projectRoot } from './harness.js'

// docs/DEPLOY.md must not drift from what the tests run: the snippets in
// deploy/ (which reverse-proxy.test.ts starts nginx and Apache with), the
// startup file, and the variables the server reads.

const read = (path: string): string => readFileSync(join(projectRoot, path), 'utf8')
const guide = read('docs/DEPLOY.md')
const fences = [...guide.matchAll(/^```[\w-]*\n([\s\S]*?)^```$/gm)].map(m => m[1] ?? '')

t.test('every file in deploy/ is shown in DEPLOY.md exactly', async t => {
  const files = readdirSync(join(projectRoot, 'deploy'))
  t.ok(files.length >= 2)
  for (const file of files) {
    t.ok(fences.includes(read(`deploy/${file}`)), `deploy/${file} appears verbatim in a fenced block`)
  }
})

t.test('the startup file is CommonJS and loads the ESM build', async t => {
  const pkg = JSON.parse(read('package.json')) as { type?: string, main?: string }
  t.equal(pkg.type, 'module', 'a .js startup file would be ESM, which is why app.cjs exists')
  t.equal(pkg.main, 'dist/server.js')
  const check = spawnSync(process.execPath, ['--check', join(projectRoot, 'app.cjs')], { encoding: 'utf8' })
  t.equal(check.status, 0, check.stderr)
  t.match(read('app.cjs'), /import\('\.\/dist\/server\.js'\)/)
  t.match(guide, /\*\*Application startup file\*\*: `app\.cjs`/, 'the cPanel steps name app.cjs')
})

t.test('every variable DEPLOY.md lists is one the server reads', async t => {
  const config = read('src/config.ts')
  const names = [...guide.matchAll(/^\| `([A-Z_]+)`(?:, `([A-Z_]+)`)? \|/gm)].flatMap(m => [m[1], m[2]])
    .filter((name): name is string => name !== undefined)
  t.ok(names.length >= 10, `found ${names.join(' ')}`)
  for (const name of names) t.match(config, new RegExp(`\\b${name}:`), `${name} is in src/config.ts`)
})

t.test('the schema files the guide sends people to exist', async t => {
  t.ok(existsSync(join(projectRoot, 'sql/mysql/001_init.sql')))
  for (const m of guide.matchAll(/`(sql\/mysql\/\d+_[\w-]+\.sql)`/g)) {
    t.ok(existsSync(join(projectRoot, m[1] ?? '')), `${m[1]} exists`)
  }
})

t.test('the config lines XMPP.md quotes are lines of the tested snippets, in order', async t => {
  const xmpp = read('docs/XMPP.md')
  const files: Record<string, string> = { nginx: 'deploy/nginx-chat.conf', apache: 'deploy/apache-chat.conf' }
  const quotes = [...xmpp.matchAll(/^( *)```(nginx|apache)\n([\s\S]*?)^\1```$/gm)]
  t.ok(quotes.length >= 3, `found ${quotes.length} quoted config blocks`)
  for (const [, indent = '', kind = '', body = ''] of quotes) {
    const file = files[kind] ?? ''
    const lines = read(file).split('\n')
    // The block's own indent (inside a list item) is not part of the config; "# ..." marks left-out lines.
    const quoted = body.split('\n').map(line => line.slice(indent.length)).filter(line => line !== '' && line.trim() !== '# ...')
    let at = 0
    for (const line of quoted) {
      const found = lines.indexOf(line, at)
      t.ok(found >= 0, `${file} has, after line ${at}: ${JSON.stringify(line)}`)
      if (found >= 0) at = found + 1
    }
  }
})
