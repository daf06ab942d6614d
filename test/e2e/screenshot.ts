// Makes docs/screenshot.png for the README: a real server, two people chatting.
// Run: node --import tsx test/e2e/screenshot.ts  (needs /usr/bin/chromium)
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { launchBrowser, startChat, register, createRoom, joinRoom, say, waitForMessage } from './helpers.js'

if (process.env.TAP === '1') {
  // `npx tap test/e2e/` runs every file here; this one is a script, not a test.
  console.log('1..0 # skip: a script (node --import tsx test/e2e/screenshot.ts), not a test')
  process.exit(0)
}

const cleanups: Array<() => unknown> = []
const t = { teardown: (fn: () => unknown) => { cleanups.push(fn) } }
const out = fileURLToPath(new URL('../../docs/screenshot.png', import.meta.url))

try {
  const chat = await startChat(t, { basePath: '/chat' })
  const browser = await launchBrowser(t)
  const viewport = { width: 1280, height: 760 }
  const alice = await (await browser.newContext({ viewport, colorScheme: 'light' })).newPage()
  const bob = await (await browser.newContext({ viewport, colorScheme: 'light' })).newPage()

  await register(bob, chat.home, 'bob')
  await register(alice, chat.home, 'alice')
  await createRoom(alice, 'general')
  await createRoom(alice, 'release-train')
  await joinRoom(bob, 'general')
  await joinRoom(bob, 'release-train')
  await alice.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: '#general' }).click()
  await bob.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: '#general' }).click()

  const lines: Array<[typeof alice, string]> = [
    [alice, 'Morning! Is the staging deploy done?'],
    [bob, 'Almost: migrations ran, the smoke tests are going now.'],
    [alice, 'Great. The proxy here still eats WebSockets, so this long-polling chat is a relief.'],
    [bob, 'Release notes: https://example.com/releases/2.4'],
    [alice, 'Thanks! Ship it when green.\nI will tell the support team.']
  ]
  for (const [page, text] of lines) {
    await say(page, text)
    await waitForMessage(alice, text.split('\n')[0] ?? text)
  }
  await bob.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: '#release-train' }).click()
  await say(bob, 'Tagging v2.4.0 now')
  await alice.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: /release-train.*unread/ }).waitFor()
  await bob.getByRole('button', { name: 'New direct chat' }).click()
  await bob.getByLabel('Chat with').fill('alice')
  await bob.getByRole('button', { name: 'Start chat' }).click()
  await bob.getByRole('heading', { name: '@alice' }).waitFor()
  await say(bob, 'Quick question about the changelog when you have a minute')
  await alice.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: /@bob.*unread/ }).waitFor()
  await bob.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: '#general' }).click()
  await bob.getByLabel('Message', { exact: true }).pressSequentially('On it', { delay: 30 })
  await alice.getByText('bob is typing…').waitFor()
  await alice.getByRole('status').getByText('Connected').waitFor()
  await alice.mouse.move(0, 0)
  await alice.evaluate(() => { (document.activeElement as HTMLElement | null)?.blur() })

  mkdirSync(fileURLToPath(new URL('../../docs/', import.meta.url)), { recursive: true })
  await alice.screenshot({ path: process.env.SCREENSHOT_PATH ?? out })
  if (process.env.PHONE_SCREENSHOT_PATH) {
    await alice.setViewportSize({ width: 390, height: 760 })
    await alice.screenshot({ path: process.env.PHONE_SCREENSHOT_PATH })
  }
  console.log('wrote', process.env.SCREENSHOT_PATH ?? out)
} finally {
  for (const fn of cleanups.reverse()) await fn()
}
