import t from 'tap'
import type { Page } from 'playwright-core'
import {
  launchBrowser, startChat, register, createRoom, joinRoom, say, waitForMessage, messageInLog, until
} from './helpers.js'

// Two people in two browser contexts, the app mounted under BASE_PATH=/chat.

/** Collects what must never happen on a page: dialogs (alert from injected HTML), errors, CSP refusals. */
function watch (page: Page) {
  const problems: string[] = []
  page.on('dialog', dialog => {
    problems.push(`dialog: ${dialog.message()}`)
    dialog.dismiss().catch(() => {})
  })
  page.on('pageerror', err => { problems.push(`page error: ${err.message}`) })
  page.on('console', msg => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(`csp: ${msg.text()}`)
  })
  return problems
}

t.test('two people chat in a channel and a direct room under /chat', async t => {
  const chat = await startChat(t, { basePath: '/chat' })
  const browser = await launchBrowser(t)
  const alice = await (await browser.newContext()).newPage()
  const bob = await (await browser.newContext()).newPage()
  const problems = [...[alice, bob].map(watch)]
  const outside: string[] = []
  for (const page of [alice, bob]) {
    page.on('request', req => {
      const url = new URL(req.url())
      if (url.origin === chat.server.origin && !url.pathname.startsWith('/chat/')) outside.push(url.pathname)
    })
  }

  await register(alice, chat.home, 'alice')
  await register(bob, chat.home, 'bob')
  await createRoom(alice, 'lobby')
  await joinRoom(bob, 'lobby')

  await say(alice, 'hello bob')
  await waitForMessage(bob, 'hello bob')
  await say(bob, 'hi alice, see https://example.com/docs?x=1.')
  await waitForMessage(alice, 'hi alice')
  const link = alice.getByRole('log').getByRole('link', { name: 'https://example.com/docs?x=1' })
  t.equal(await link.getAttribute('href'), 'https://example.com/docs?x=1', 'URLs become links')
  t.equal(await link.getAttribute('rel'), 'noopener noreferrer')

  t.test('HTML in a message is shown as text', async t => {
    const evil = '<img src=x onerror=alert(1)> <b>bold</b>'
    await say(bob, evil)
    await waitForMessage(alice, evil)
    t.equal(await messageInLog(alice, evil).locator('.text').textContent(), evil, 'the text is shown verbatim')
    t.equal(await alice.getByRole('log').locator('img, b').count(), 0, 'no element was made from it')
    await alice.waitForTimeout(300)
  })

  t.test('a direct room', async t => {
    await alice.getByRole('button', { name: 'New direct chat' }).click()
    await alice.getByLabel('Chat with').fill('bob')
    await alice.getByRole('button', { name: 'Start chat' }).click()
    await alice.getByRole('heading', { name: '@bob' }).waitFor()
    await say(alice, 'psst, bob')
    await waitForMessage(alice, 'psst, bob')

    const rooms = bob.getByRole('navigation', { name: 'Rooms' })
    const directLink = rooms.getByRole('link', { name: /@alice/ })
    await directLink.waitFor()
    await until('an unread count on the direct room', async () => /1\s*unread/.test(await directLink.textContent() ?? ''))
    await directLink.click()
    await bob.getByRole('heading', { name: '@alice' }).waitFor()
    await waitForMessage(bob, 'psst, bob')
    await until('the unread count cleared', async () => !/unread/.test(await directLink.textContent() ?? ''))
    await say(bob, 'yes, alice?')
    await waitForMessage(alice, 'yes, alice?')
    t.pass('both sides of the direct room see each other')
  })

  t.test('edit and delete my own message', async t => {
    await alice.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: '#lobby' }).click()
    await bob.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: '#lobby' }).click()
    await say(alice, 'tpyo here')
    await waitForMessage(bob, 'tpyo here')
    const mine = messageInLog(alice, 'tpyo here')
    await mine.hover()
    await mine.getByRole('button', { name: 'Edit' }).click()
    const box = alice.getByLabel('Edited text')
    await box.fill('typo fixed')
    await box.press('Enter')
    await waitForMessage(bob, 'typo fixed')
    t.match(await messageInLog(bob, 'typo fixed').textContent(), /edited/, 'marked as edited')
    const fixed = messageInLog(alice, 'typo fixed')
    await fixed.hover()
    await fixed.getByRole('button', { name: 'Delete' }).click()
    await fixed.getByRole('button', { name: 'Confirm delete' }).click()
    await until('the message gone for bob', async () => await messageInLog(bob, 'typo fixed').count() === 0)
    t.pass('edited and deleted')
  })

  t.test('optimistic send: pending, then confirmed, stored once', async t => {
    let release = (): void => {}
    const gate = new Promise<void>(resolve => { release = resolve })
    const clientIds: string[] = []
    let attempt = 0
    await alice.route('**/api/rooms/*/messages', async route => {
      const req = route.request()
      if (req.method() !== 'POST') return await route.continue()
      clientIds.push(String(JSON.parse(req.postData() ?? '{}').clientId))
      attempt++
      if (attempt === 1) {
        // Held: the reader must see the message as pending meanwhile.
        await gate
        return await route.continue()
      }
      if (attempt === 2) {
        // Refused before reaching the server: retried.
        return await route.fulfill({
          status: 503,
          headers: { 'Retry-After': '0' },
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'unavailable', message: 'try again' } })
        })
      }
      if (attempt === 3) {
        // Stored by the server, but the answer is lost on the way back: the
        // poll (or a retry answered 200 with the first event) confirms it.
        await route.fetch()
        return await route.abort('connectionreset')
      }
      return await route.continue()
    })

    await say(alice, 'pending first')
    const first = messageInLog(alice, 'pending first')
    await first.waitFor()
    t.match(await first.getAttribute('class'), /pending/, 'shown at once, marked pending')
    t.match(await first.textContent(), /Sending/)
    release()
    await until('confirmed', async () => /confirmed/.test(await first.getAttribute('class') ?? ''))
    t.notMatch(await first.textContent(), /Sending/)
    await waitForMessage(bob, 'pending first')

    await say(alice, 'answer lost')
    await waitForMessage(bob, 'answer lost')
    const lost = messageInLog(alice, 'answer lost')
    await until('confirmed after the retry', async () => /confirmed/.test(await lost.getAttribute('class') ?? ''), 15000)
    await alice.waitForTimeout(500)
    t.equal(await lost.count(), 1, 'once for the sender')
    t.equal(await messageInLog(bob, 'answer lost').count(), 1, 'once for the reader')
    t.ok(clientIds.length >= 3, 'the refused send was retried')
    t.equal(clientIds[1], clientIds[2], 'the retry kept its clientId')
    t.equal(new Set(clientIds.slice(1)).size, 1, 'every attempt of that message had the same clientId')
    t.not(clientIds[0], clientIds[1], 'each message has its own clientId')
    await alice.unroute('**/api/rooms/*/messages')
  })

  t.test('Shift+Enter makes a new line; a hidden tab counts unread in its title', async t => {
    const box = alice.getByLabel('Message', { exact: true })
    await box.fill('line one')
    await box.press('Shift+Enter')
    await box.pressSequentially('line two')
    await box.press('Enter')
    await waitForMessage(bob, 'line two')
    t.equal(await messageInLog(bob, 'line two').locator('.text').textContent(), 'line one\nline two')

    const setVisibility = async (state: 'hidden' | 'visible') => {
      // A string, not a function: tsx would wrap a function's inner arrows in a helper the page lacks.
      await bob.evaluate(`Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${state}' });
        document.dispatchEvent(new Event('visibilitychange'))`)
    }
    await setVisibility('hidden')
    await say(alice, 'while bob looks away')
    await waitForMessage(bob, 'while bob looks away')
    await until('the unread count in the title', async () => /^\(1\) #lobby/.test(await bob.title()))
    await setVisibility('visible')
    await until('the title without a count', async () => await bob.title() === '#lobby · Chat')
    t.pass('the title followed')
  })

  t.test('nothing went wrong on the way', async t => {
    t.same(problems.flat(), [], 'no dialog, page error or CSP refusal')
    t.same(outside, [], 'every request stayed under BASE_PATH')
  })
})
