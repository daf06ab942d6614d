import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { as, buildTestApp, register } from '../helper.js'
import { freePort } from '../helpers/server-process.js'
import { send, until } from './helpers.js'

/** The PHP file exactly as docs/WEBHOOKS.md prints it. */
function botFromDocs (): string {
  const doc = readFileSync(new URL('../../docs/WEBHOOKS.md', import.meta.url), 'utf8')
  const m = /<!-- recipe: php-bot -->\n```php\n([\s\S]*?)```/.exec(doc)
  if (m === null) throw new Error('no php-bot recipe in docs/WEBHOOKS.md')
  return m[1] as string
}

t.test('the PHP bot of docs/WEBHOOKS.md, under php -S, answers through the product', async t => {
  const app = await buildTestApp(t, { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_INTERVAL_MS: '100' })
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'php' })
  const port = await freePort()
  const made = await as(app, alice, 'POST', '/api/rooms/php/outgoing-webhooks', { url: `http://127.0.0.1:${port}/bot.php`, name: 'PHP bot' })
  t.equal(made.statusCode, 201)

  const dir = mkdtempSync(join(tmpdir(), 'php-bot-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'bot.php'), botFromDocs())
  const php = spawn('php', ['-S', `127.0.0.1:${port}`, '-t', dir], { env: { ...process.env, CHAT_WEBHOOK_SECRET: made.json().secret }, stdio: 'ignore' })
  t.teardown(() => { php.kill('SIGKILL') })
  await until('php -S to listen', async () => await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => undefined))

  const forged = await fetch(`http://127.0.0.1:${port}/bot.php`, { method: 'POST', headers: { 'x-chat-signature': 'sha256=00' }, body: '{"event":{"type":"message","text":"!hello"}}' })
  t.equal(forged.status, 401, 'the bot refuses a body the chat did not sign')

  await send(app, alice, 'php', 'just chatting')
  await send(app, alice, 'php', '!hello')
  const reply = await until('the PHP reply', async () => {
    const events = (await as(app, alice, 'GET', '/api/rooms/php/messages')).json().events as Array<{ text: string, user: { displayName: string, bot?: boolean } }>
    return events.length >= 3 ? events : undefined
  })
  t.match(reply, [
    { text: 'just chatting' },
    { text: '!hello' },
    { text: 'Hello, alice! Greetings from PHP in #php.', user: { displayName: 'PHP bot', bot: true } }
  ])
})
