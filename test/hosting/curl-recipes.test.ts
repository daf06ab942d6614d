import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { projectRoot, request, sessionCookie, startApp } from './harness.js'
import { png } from '../attachments/images.js'

// Runs every ```sh and ```php block of docs/CURL.md exactly as printed, with
// the variables the page names set, against a real server under /chat. Each
// block is tagged `<!-- recipe: NAME -->` so that its result can be checked;
// an untagged block, or a recipe without a check, fails here.

const markdown = readFileSync(join(projectRoot, 'docs/CURL.md'), 'utf8')
const recipes = new Map<string, { lang: string, code: string }>()
for (const m of markdown.matchAll(/<!-- recipe: ([\w-]+) -->\n```(\w+)\n([\s\S]*?)\n```/g)) {
  recipes.set(m[1] ?? '', { lang: m[2] ?? '', code: m[3] ?? '' })
}
// The README's quick tour is held to the same rule.
const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8')
for (const m of readme.matchAll(/<!-- recipe: ([\w-]+) -->\n```(\w+)\n([\s\S]*?)\n```/g)) {
  recipes.set(m[1] ?? '', { lang: m[2] ?? '', code: m[3] ?? '' })
}
const readmeRecipes = [...readme.matchAll(/<!-- recipe: /g)].length
const runnableFences = [...markdown.matchAll(/^```(sh|bash|shell|console|php)\s*$/gm)].length

const USER = 'ci-bot'
const PASSWORD = 'a long and secret password'
const ROOM = 'deploys'

const hasPhp = spawnSync('php', ['-r', 'exit(function_exists("curl_init") ? 0 : 1);']).status === 0

t.test('every runnable block in docs/CURL.md is a tagged recipe', async t => {
  t.equal(recipes.size - readmeRecipes, runnableFences, 'each sh/php block has a <!-- recipe: NAME --> line right above it')
  t.ok(readmeRecipes > 0, 'the README shows curl too')
})

t.test('the recipes work against a real server', async t => {
  const app = await startApp(t)
  const api = app.url
  const work = mkdtempSync(join(tmpdir(), 'chat-curl-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))

  const registered = await request(`${api}/api/register`, { body: { username: USER, password: PASSWORD } })
  t.equal(registered.status, 201, registered.text)
  const cookie = sessionCookie(registered)
  for (const name of [ROOM, 'elsewhere']) {
    const room = await request(`${api}/api/rooms`, { body: { name }, headers: { cookie } })
    t.equal(room.status, 201, room.text)
  }
  const made = await request(`${api}/api/tokens`, { body: { name: 'recipes', password: PASSWORD }, headers: { cookie } })
  t.equal(made.status, 201, made.text)
  const token = String(made.json?.token)

  const env = { CHAT_URL: api, CHAT_TOKEN: token, ROOM, CHAT_USER: USER, CHAT_PASSWORD: PASSWORD }
  const history = async (): Promise<string[]> => {
    const res = await request(`${api}/api/rooms/${ROOM}/messages?limit=200`, { headers: { authorization: `Bearer ${token}` } })
    return (res.json?.events ?? []).map((e: { text: string }) => e.text)
  }
  const recipe = (name: string): { lang: string, code: string } => {
    const found = recipes.get(name)
    if (found === undefined) throw new Error(`docs/CURL.md has no recipe "${name}"`)
    return found
  }
  const checked = new Set<string>()
  const run = async (t: Test, name: string, extraEnv: Record<string, string> = {}): Promise<RunResult> => {
    checked.add(name)
    const { lang, code } = recipe(name)
    const result = lang === 'php'
      ? await runPhp(code, work, { ...env, ...extraEnv })
      : await runShell(code, work, { ...env, ...extraEnv })
    t.equal(result.code, 0, `recipe ${name} exits 0\n${result.stderr}`)
    return result
  }

  t.test('make-token', async t => {
    const { stdout } = await run(t, 'make-token')
    const printed = stdout.trim()
    t.match(printed, /^\S{16,}$/, 'prints one token')
    const me = await request(`${api}/api/me`, { headers: { authorization: `Bearer ${printed}` } })
    t.equal(me.status, 200, me.text)
    t.equal(me.json?.user?.username, USER, 'the token speaks for the user who made it')
  })

  t.test('post-form', async t => {
    await run(t, 'post-form')
    t.ok((await history()).some(text => /^Backup of \S+ finished at \d\d:\d\d UTC$/.test(text)), 'the message is stored')
  })

  t.test('post-json, twice: the clientId stores it once', async t => {
    await run(t, 'post-json', { BUILD_NUMBER: '41' })
    await run(t, 'post-json', { BUILD_NUMBER: '41' })
    t.equal((await history()).filter(text => text === 'Build #41 passed').length, 1)
  })

  t.test('post-file keeps the text byte for byte', async t => {
    const notes = 'Release 2.4 ✓\n\n- polls hold 25 s\n- Grüße, “quotes” & <tags>\n'
    writeFileSync(join(work, 'release-notes.txt'), notes)
    await run(t, 'post-file')
    const stored = (await history()).find(text => text.startsWith('Release 2.4'))
    t.equal(stored?.trimEnd(), notes.trimEnd())
  })

  t.test('post-log-tail', async t => {
    const lines = Array.from({ length: 40 }, (_, i) => `step ${i + 1} ok`)
    writeFileSync(join(work, 'build.log'), lines.join('\n') + '\n')
    await run(t, 'post-log-tail')
    const stored = (await history()).find(text => text.startsWith('step 26 ok'))
    t.equal(stored?.trimEnd(), lines.slice(25).join('\n'))
  })

  t.test('edit-message goes through X-HTTP-Method-Override: PATCH', async t => {
    await run(t, 'edit-message')
    const texts = await history()
    t.ok(texts.includes('Deploy of release 2.4 finished ✓'), 'the edited text is stored')
    t.notOk(texts.includes('Deploy of release 2.4 started…'), 'the first text is gone')
  })

  t.test('delete-message goes through X-HTTP-Method-Override: DELETE', async t => {
    const doomed = await request(`${api}/api/rooms/${ROOM}/messages`, {
      body: { text: 'posted by mistake' }, headers: { authorization: `Bearer ${token}` }
    })
    t.equal(doomed.status, 201, doomed.text)
    await run(t, 'delete-message', { MESSAGE_ID: String(doomed.json?.event?.id) })
    t.notOk((await history()).includes('posted by mistake'))
  })

  t.test('history', async t => {
    const { stdout } = await run(t, 'history')
    const lines = stdout.trim().split('\n')
    t.ok(lines.some(line => line.endsWith(`${USER}: Build #41 passed`)), stdout)
    t.match(lines[0] ?? '', /^\S+ {2}ci-bot: /, 'each line is time, user and text')
  })

  t.test('search finds a message by two of its words', async t => {
    const { stdout } = await run(t, 'search')
    t.match(stdout, /^\S+ {2}ci-bot: Backup of \S+ finished at/m, stdout)
  })

  const events = async (): Promise<Array<{ text: string, attachments?: Array<{ id: string, name: string, contentType: string, width?: number, url: string }> }>> =>
    (await request(`${api}/api/rooms/${ROOM}/messages?limit=200`, { headers: { authorization: `Bearer ${token}` } })).json?.events ?? []

  t.test('upload-file, twice on one day: one message with the file', async t => {
    writeFileSync(join(work, 'report.pdf'), '%PDF-1.4 nightly report\n')
    const first = await run(t, 'upload-file')
    const second = await run(t, 'upload-file')
    t.match(first.stdout.trim(), /^api\/files\/\d+\/report\.pdf$/)
    t.equal(second.stdout, first.stdout, 'the retry answers with the first upload')
    const reports = (await events()).filter(e => e.text === 'Nightly report')
    t.equal(reports.length, 1)
    t.match(reports[0]?.attachments, [{ name: 'report.pdf', contentType: 'application/pdf' }])
  })

  t.test('upload-raw: an image, known by its bytes', async t => {
    writeFileSync(join(work, 'screenshot.png'), png(3, 2))
    await run(t, 'upload-raw')
    const shot = (await events()).flatMap(e => e.attachments ?? []).find(a => a.name === 'screenshot.png')
    t.match(shot, { contentType: 'image/png', width: 3, height: 2 })
  })

  t.test('download saves every file byte for byte', async t => {
    await run(t, 'download')
    const files = (await events()).flatMap(e => e.attachments ?? [])
    t.ok(files.length >= 2)
    for (const f of files) {
      const original = f.name === 'report.pdf' ? '%PDF-1.4 nightly report\n' : png(3, 2).toString('latin1')
      t.equal(readFileSync(join(work, 'downloads', `${f.id}-${f.name}`), 'latin1'), original, f.name)
    }
  })

  t.test('follow prints each new message of the room once, in order', async t => {
    const { lang, code } = recipe('follow')
    checked.add('follow')
    t.equal(lang, 'sh')
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', code], {
      cwd: work, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
    t.teardown(async () => {
      // The loop never ends by itself: stop bash and its curl together.
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM')
      await exited
    })
    const send = async (room: string, text: string): Promise<void> => {
      const res = await request(`${api}/api/rooms/${room}/messages`, {
        body: text, headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }
      })
      t.equal(res.status, 201, res.text)
    }
    const waitFor = async (predicate: () => boolean, ms: number): Promise<boolean> => {
      const deadline = Date.now() + ms
      while (!predicate() && Date.now() < deadline && child.exitCode === null) {
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      return predicate()
    }

    // The loop takes its starting cursor when it starts; knock until it answers.
    let knocks = 0
    while (!out.includes(`${USER}: knock`)) {
      t.ok(knocks < 20 && child.exitCode === null, `the loop is running\n${err}`)
      if (knocks >= 20 || child.exitCode !== null) return
      await send(ROOM, `knock ${++knocks}`)
      await waitFor(() => out.includes(`${USER}: knock`), 1000)
    }
    const seenFrom = out.length
    await send('elsewhere', 'not for this room')
    await send(ROOM, 'first after start')
    await send(ROOM, 'second after start')
    t.ok(await waitFor(() => out.includes('second after start'), 15000), `both arrive\n${out}\n${err}`)
    await new Promise(resolve => setTimeout(resolve, 500))
    const later = out.slice(seenFrom).split('\n').filter(line => line !== '' && !line.includes('knock'))
    t.same(later, [`${USER}: first after start`, `${USER}: second after start`], 'in order, once, only this room')
  })

  t.test('readme-quick-tour: send, read, and a poll answered by what is sent meanwhile', async t => {
    const state = { done: false }
    const tour = run(t, 'readme-quick-tour').finally(() => { state.done = true })
    // The tour's last command holds a poll for up to 5 s: a message sent meanwhile answers it.
    // When the tour takes its cursor depends on the machine's load, so a message goes
    // every 700 ms until the tour ends: whichever comes after the cursor answers the poll.
    await new Promise(resolve => setTimeout(resolve, 1000))
    while (!state.done) {
      const sent = await request(`${api}/api/rooms/${ROOM}/messages`, { body: { text: 'during the tour' }, headers: { authorization: `Bearer ${token}` } })
      t.equal(sent.status, 201, sent.text)
      await new Promise(resolve => setTimeout(resolve, 700))
    }
    const { stdout } = await tour
    const lines = stdout.trim().split('\n')
    t.ok(lines.includes('Build 142 passed'), stdout)
    const last = JSON.parse(lines[lines.length - 1] ?? '{}')
    t.ok(last.events.some((e: { text?: string }) => e.text === 'during the tour'), stdout)
  })

  t.test('php', { skip: hasPhp ? false : 'php-cli with php-curl is not installed (.ci/install-proxies.sh)' }, async t => {
    const { stdout } = await run(t, 'php')
    t.match(stdout, /^posted message \d+$/m)
    t.ok((await history()).includes('New order #1042 from the web shop'))
  })

  t.test('every recipe was checked', async t => {
    t.same([...recipes.keys()].filter(name => !checked.has(name) && !(name === 'php' && !hasPhp)), [])
  })
})

interface RunResult { code: number | null, stdout: string, stderr: string }

/** As a user would paste it into bash, but stopping at the first failing command. */
async function runShell (code: string, cwd: string, env: Record<string, string>): Promise<RunResult> {
  return await runProcess('bash', ['-e', '-o', 'pipefail', '-c', code], cwd, env)
}

async function runPhp (code: string, cwd: string, env: Record<string, string>): Promise<RunResult> {
  const file = join(cwd, 'recipe.php')
  writeFileSync(file, code + '\n')
  return await runProcess('php', [file], cwd, env)
}

async function runProcess (cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<RunResult> {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30000)
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr }
}
