import t from 'tap'
import type { BrowserContext } from 'playwright-core'
import {
  launchBrowser, startChat, register, createRoom, say, waitForMessage, until, type Chat
} from './helpers.js'

// The poll's other exits: 409 cursor_reset (reload what is shown, go on from
// the new head) and 401 (the session ended: the sign-in screen).

/** Calls the API from the test as the signed-in browser user (no Origin header: judged by the cookie). */
async function asUser (context: BrowserContext, chat: Chat) {
  const cookies = await context.cookies(chat.server.origin)
  const cookie = cookies.map(c => `${c.name}=${c.value}`).join('; ')
  return async (method: string, path: string, body?: unknown): Promise<{ status: number, data: any }> => {
    const headers: Record<string, string> = { cookie }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`${chat.server.url}/api/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    const text = await res.text()
    return { status: res.status, data: text ? JSON.parse(text) : null }
  }
}

t.test('409 cursor_reset reloads the room and continues from the new head', async t => {
  const chat = await startChat(t)
  const browser = await launchBrowser(t)
  const context = await browser.newContext()
  const page = await context.newPage()
  await register(page, chat.home, 'carol')
  await createRoom(page, 'resets')
  const call = await asUser(context, chat)

  let hold = false
  let release: (cursor: string) => void = () => {}
  const held = new Promise<string>(resolve => { release = resolve })
  let heldSeen = false
  const polled: string[] = []
  await page.route('**/api/poll*', async route => {
    polled.push(route.request().url())
    if (!hold) return await route.continue()
    hold = false
    heldSeen = true
    const cursor = await held
    await route.fulfill({
      status: 409,
      contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'cursor_reset', message: 'The cursor is ahead of the server.', cursor } })
    })
  })

  hold = true
  await say(page, 'flushes the held poll')
  await waitForMessage(page, 'flushes the held poll')
  await until('the next poll to be held', () => heldSeen)

  // Sent while the poll is held; the reset's head lies beyond it, so only the reload can show it.
  const sent = await call('POST', 'rooms/resets/messages', { text: 'only a reload shows this' })
  t.equal(sent.status, 201)
  const head = await call('GET', 'poll')
  t.equal(head.status, 200)
  release(head.data.cursor)

  await waitForMessage(page, 'only a reload shows this')
  await until('a poll from the new head', () => polled.some(url => new URL(url).searchParams.get('cursor') === head.data.cursor))
  await call('POST', 'rooms/resets/messages', { text: 'after the reset' })
  await waitForMessage(page, 'after the reset')
  t.pass('reloaded and went on')
})

t.test('401 from the poll shows the sign-in screen', async t => {
  const chat = await startChat(t)
  const browser = await launchBrowser(t)
  const context = await browser.newContext()
  const page = await context.newPage()
  await register(page, chat.home, 'dora')
  await createRoom(page, 'gone')
  // Revoking ends every token too (contract v2): another member wakes the held poll.
  const api = `${chat.server.url}/api`
  const signUp = await fetch(`${api}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'eddie', password: 'correct horse battery' })
  })
  t.equal(signUp.status, 201)
  const eddie = { cookie: (signUp.headers.get('set-cookie') ?? '').split(';')[0] as string }
  t.equal((await fetch(`${api}/rooms/gone/join`, { method: 'POST', headers: eddie })).status, 200)
  const call = await asUser(context, chat)
  t.equal((await call('POST', 'sessions/revoke')).status, 204)
  // Wake the held poll with an event so the next one meets the revoked session.
  const res = await fetch(`${api}/rooms/gone/messages`, {
    method: 'POST',
    headers: { ...eddie, 'Content-Type': 'text/plain' },
    body: 'wake up'
  })
  t.equal(res.status, 201)
  await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 40000 })
  t.pass('the sign-in screen is back')
})
