import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname, join, normalize } from 'node:path'
import type { Page } from 'playwright-core'
import t from 'tap'
import { listenLoopback } from '../helpers/loopback.js'
import { launchBrowser, startChat, register, createRoom, say, waitForMessage, until, PASSWORD } from './helpers.js'

// Converse.js (npm converse.js, its dist files) in real headless Chromium,
// signed in over BOSH, chatting with our own web client in the same room and
// in a direct conversation. Converse's page is served by a small server of the
// test's own that forwards /http-bind to the chat, so the page and the BOSH
// endpoint share an origin as docs/XMPP.md asks.

const domain = 'chat.test'
const dist = join(import.meta.dirname, '../../node_modules/converse.js/dist')

const page = (jid: string): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>Converse</title>
<link rel="stylesheet" href="/dist/converse.min.css">
</head><body class="converse-fullscreen">
<script type="module">
  import converse from '/dist/converse.min.js'
  converse.initialize({
    blacklisted_plugins: ['converse-omemo'],
    assets_path: '/dist/',
    bosh_service_url: '/http-bind',
    discover_connection_methods: false,
    authentication: 'login',
    auto_login: true,
    jid: '${jid}',
    password: '${PASSWORD}',
    muc_domain: 'conference.${domain}',
    muc_nickname_from_jid: true,
    auto_join_rooms: ['lobby@conference.${domain}'],
    allow_non_roster_messaging: true,
    view_mode: 'fullscreen',
    play_sounds: false,
    show_desktop_notifications: false,
    omemo_default: false,
    loglevel: 'info'
  })
</script></body></html>`

const types: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg'
}

interface Teardown { teardown (fn: () => unknown): void }

/**
 * Opens the chat with `jid` from Converse's roster once Converse shows a message from them there (the unread
 * badge), as a user would. Not sooner: Converse 14 builds a chat's model asynchronously and adds it to its
 * list only when built (createChatBox), so a chat opened while an incoming message is building the same chat
 * gets a second model, one of the two is left out of the list, and when the message went to that one it
 * is never shown (it reached Converse over BOSH all the same).
 */
async function openChatFromRoster (converse: Page, jid: string): Promise<void> {
  const contact = converse.locator(`converse-roster a.open-chat[data-jid="${jid}"]`)
  await contact.locator('.msgs-indicator').first().waitFor({ timeout: 60000 })
  await contact.first().click()
}

/** Serves the Converse page and dist files, and forwards every other request (the BOSH endpoint) to the chat. */
async function startConversePage (t: Teardown, chatOrigin: string, jid: string): Promise<string> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://page')
    if (url.pathname === '/converse.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(jid))
      return
    }
    if (url.pathname.startsWith('/dist/')) {
      const file = normalize(join(dist, url.pathname.slice('/dist/'.length)))
      if (!file.startsWith(dist)) { res.writeHead(403).end(); return }
      readFile(file).then(data => {
        res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(data)
      }).catch(() => { res.writeHead(404).end() })
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      fetch(chatOrigin + url.pathname + url.search, {
        method: req.method ?? 'GET',
        headers: { 'content-type': req.headers['content-type'] ?? 'text/xml; charset=utf-8' },
        ...(req.method === 'POST' ? { body } : {})
      }).then(async answer => {
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' }).end(Buffer.from(await answer.arrayBuffer()))
      }).catch(() => { if (!res.headersSent) res.writeHead(502).end() })
    })
  })
  const port = await listenLoopback(t, server)
  return `http://127.0.0.1:${port}/converse.html`
}

t.setTimeout(8 * 60 * 1000)

t.test('Converse.js and the web client talk in a room and directly', async t => {
  t.setTimeout(420000)
  const chat = await startChat(t, { env: { XMPP_DOMAIN: domain } })
  const browser = await launchBrowser(t)
  const web = await (await browser.newContext()).newPage()
  const converse = await (await browser.newContext()).newPage()
  const log: string[] = []
  converse.on('console', msg => { log.push(`${msg.type()}: ${msg.text()}`) })
  converse.on('pageerror', err => { log.push(`page error: ${err.message}`) })
  converse.on('response', r => { if (r.status() >= 400) log.push(`HTTP ${r.status()} ${r.url()}`) })
  // Every IQ get/set Converse sends must be answered (RFC 6120 §8.2.3): ids sent, ids answered.
  const iqsSent = new Map<string, string>()
  const iqsAnswered = new Set<string>()
  converse.on('request', r => {
    if (!r.url().endsWith('/http-bind')) return
    for (const m of (r.postData() ?? '').matchAll(/<iq\b[^>]*>/g)) {
      const tag = m[0]
      const id = /\sid="([^"]+)"/.exec(tag)?.[1]
      if (id !== undefined && /type="(get|set)"/.test(tag)) iqsSent.set(id, (r.postData() ?? '').slice(m.index, m.index + 300))
    }
  })
  converse.on('response', r => {
    if (!r.url().endsWith('/http-bind')) return
    r.text().then(x => {
      for (const m of x.matchAll(/<iq\b[^>]*\sid="([^"]+)"[^>]*type="(result|error)"|<iq\b[^>]*type="(result|error)"[^>]*\sid="([^"]+)"/g)) iqsAnswered.add(m[1] ?? m[4] ?? '')
      if (x.includes('psst') || x.includes('knock')) log.push(`BOSH in: ${x}`)
    }, () => {})
  })
  const unanswered = (): string[] => [...iqsSent].filter(([id]) => !iqsAnswered.has(id)).map(([, xml]) => xml)
  t.teardown(async () => {
    if (t.passing()) return
    t.comment(`Converse console:\n${log.slice(-40).join('\n')}`)
    t.comment(`IQs without an answer:\n${unanswered().join('\n')}`)
    await converse.screenshot({ path: '/tmp/converse-failure.png' }).catch(() => {})
  })

  await register(web, chat.home, 'webby')
  await createRoom(web, 'lobby')
  const res = await fetch(`${chat.server.url}/api/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'conny', password: PASSWORD })
  })
  t.equal(res.status, 201, 'the Converse user has an account')
  // This direct room exists before Converse signs in, so webby is in conny's roster at sign-in (the
  // users one shares a direct room with); wendy's, below, is started after it (a roster push).
  await web.getByRole('button', { name: 'New direct chat' }).click()
  await web.getByLabel('Chat with').fill('conny')
  await web.getByRole('button', { name: 'Start chat' }).click()
  await web.getByRole('heading', { name: '@conny' }).waitFor()
  await web.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: '#lobby' }).click()
  await web.getByRole('heading', { name: '#lobby' }).waitFor()

  await converse.goto(await startConversePage(t, chat.server.origin, `conny@${domain}`))
  const room = converse.locator('converse-muc')
  const roomBox = room.locator('textarea.chat-textarea')
  await roomBox.waitFor({ timeout: 120000 })

  t.test('a room message each way', async t => {
    await roomBox.fill('hello from converse')
    await roomBox.press('Enter')
    await waitForMessage(web, 'hello from converse', 60000)
    await say(web, 'hello from the web')
    await room.locator('.chat-msg__text', { hasText: 'hello from the web' }).first().waitFor({ timeout: 60000 })
    t.pass('each side saw the other\'s room message')
  })

  t.test('a direct message each way', async t => {
    await web.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: /@conny/ }).click()
    await web.getByRole('heading', { name: '@conny' }).waitFor()
    await say(web, 'psst, conny')
    await openChatFromRoster(converse, `webby@${domain}`)
    const direct = converse.locator('converse-chat', { has: converse.locator('.chat-msg__text', { hasText: 'psst, conny' }) })
    await direct.locator('.chat-msg__text', { hasText: 'psst, conny' }).first().waitFor({ timeout: 60000 })
    const box = direct.locator('textarea.chat-textarea')
    await box.fill('yes, webby?')
    await box.press('Enter')
    await waitForMessage(web, 'yes, webby?', 60000)
    t.pass('each side saw the other\'s direct message')
  })

  t.test('a direct conversation started from the web after Converse signed in', async t => {
    const wendy = await (await browser.newContext()).newPage()
    await register(wendy, chat.home, 'wendy')
    await wendy.getByRole('button', { name: 'New direct chat' }).click()
    await wendy.getByLabel('Chat with').fill('conny')
    await wendy.getByRole('button', { name: 'Start chat' }).click()
    await wendy.getByRole('heading', { name: '@conny' }).waitFor()
    // Before she writes, only the roster push can have made wendy a contact in Converse's roster.
    await converse.locator(`converse-roster a.open-chat[data-jid="wendy@${domain}"]`).first().waitFor({ timeout: 60000 })
    await say(wendy, 'knock knock, conny')
    await openChatFromRoster(converse, `wendy@${domain}`)
    const direct = converse.locator('converse-chat', { has: converse.locator('.chat-msg__text', { hasText: 'knock knock, conny' }) })
    await direct.locator('.chat-msg__text', { hasText: 'knock knock, conny' }).first().waitFor({ timeout: 60000 })
    const box = direct.locator('textarea.chat-textarea')
    await box.fill("who's there?")
    await box.press('Enter')
    await waitForMessage(wendy, "who's there?", 60000)
    t.pass('the conversation shows in Converse, and its reply in the web client')
  })

  await until('Converse still connected', async () => await converse.locator('converse-muc').count() > 0)
  // An answer may still be on its way when the last request went out: give it time.
  await until('every IQ answered', () => unanswered().length === 0, 30000).catch(() => {})
  t.same(unanswered(), [], 'every IQ get/set Converse sent got a result or an error')
})
