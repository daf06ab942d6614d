import t from 'tap'
import {
  launchBrowser, startChat, restartServer, register, createRoom, joinRoom, say, waitForMessage, messageInLog, until, PASSWORD
} from './helpers.js'

// The server goes away and comes back on the same port and database: the page
// shows that it is reconnecting, then catches up without loss or duplicates.

t.test('the client reconnects after a server restart', async t => {
  const chat = await startChat(t)
  const browser = await launchBrowser(t)
  const alice = await (await browser.newContext()).newPage()
  const bob = await (await browser.newContext()).newPage()
  await register(alice, chat.home, 'alice')
  await register(bob, chat.home, 'bob')
  await createRoom(alice, 'ops')
  await joinRoom(bob, 'ops')
  await say(alice, 'before the restart')
  await waitForMessage(bob, 'before the restart')

  // A token for scripts, with the curl command shown beside it.
  await alice.getByRole('button', { name: 'Account' }).click()
  await alice.getByLabel('Token name').fill('deploy-bot')
  await alice.getByLabel('Your password').fill(PASSWORD)
  await alice.getByRole('button', { name: 'Create token' }).click()
  const token = (await alice.locator('code.token').textContent())?.trim() ?? ''
  const curl = await alice.locator('pre.curl').textContent() ?? ''
  t.ok(token.length > 10, 'the new token is shown')
  t.ok(curl.includes(`Bearer ${token}`) && curl.includes(`${chat.server.url}/api/rooms/ops/messages`), 'with a curl command for this server')
  await alice.getByRole('button', { name: 'Close' }).click()

  const status = bob.getByRole('status')
  await until('connected', async () => /Connected/.test(await status.textContent() ?? ''))

  const stopped = chat.server.stop()
  await until('the reconnecting state', async () => /Reconnecting/i.test(await status.textContent() ?? ''), 15000)

  // Typed while the server is down: shown at once, pending, retried later.
  await say(bob, 'typed during the outage')
  const pending = messageInLog(bob, 'typed during the outage')
  await pending.waitFor()
  t.match(await pending.getAttribute('class'), /pending/, 'pending while the server is away')

  await stopped
  await restartServer(t, chat)
  const res = await fetch(`${chat.server.url}/api/rooms/ops/messages`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' },
    body: 'sent by a script meanwhile'
  })
  t.equal(res.status, 201, 'the script could post with its token')

  for (const page of [alice, bob]) {
    await waitForMessage(page, 'sent by a script meanwhile', 25000)
    await waitForMessage(page, 'typed during the outage', 25000)
  }
  await until('connected again', async () => /Connected/.test(await status.textContent() ?? ''), 15000)
  await until('confirmed', async () => /confirmed/.test(await pending.getAttribute('class') ?? ''), 15000)
  await alice.waitForTimeout(1000)
  for (const page of [alice, bob]) {
    t.equal(await messageInLog(page, 'typed during the outage').count(), 1, 'no duplicate of the retried message')
    t.equal(await messageInLog(page, 'sent by a script meanwhile').count(), 1, 'no duplicate of the missed message')
    t.equal(await messageInLog(page, 'before the restart').count(), 1)
  }
})
