import t from 'tap'
import { createHmac } from 'node:crypto'
import type { Locator, Page } from 'playwright-core'
import { launchBrowser, startChat, register, createRoom, joinRoom, say, waitForMessage, messageInLog, until, PASSWORD } from './helpers.js'
import { startReceiver } from '../webhooks/receiver.js'

// The room settings panel in a real Chromium: a channel's moderator makes an
// incoming webhook and a POST to the URL it shows lands in the room; the owner
// makes an outgoing webhook and watches it fail, pause and resume.

/** The panel, opened from the room head. */
async function openPanel (page: Page, room: string): Promise<Locator> {
  await page.getByRole('button', { name: 'Room settings' }).click()
  const panel = page.getByRole('dialog', { name: `Settings of #${room}` })
  await panel.waitFor()
  return panel
}

async function closePanel (panel: Locator): Promise<void> {
  await panel.getByRole('button', { name: 'Close' }).click()
  await panel.waitFor({ state: 'detached' })
}

/** Clicks Refresh until the list item matching `has` shows `text`. */
async function untilShown (panel: Locator, list: string, has: string, text: RegExp): Promise<string> {
  const item = panel.getByRole('list', { name: list }).getByRole('listitem').filter({ hasText: has })
  return await until(`${has} to show ${String(text)}`, async () => {
    const shown = await item.textContent({ timeout: 1000 }) ?? ''
    if (text.test(shown)) return shown
    await panel.getByRole('button', { name: 'Refresh' }).click()
    return ''
  }, 30000)
}

t.test('moderators manage the room webhooks in the settings panel', async t => {
  // Private receivers on loopback are allowed here; one second of retries before a webhook counts as failing.
  const chat = await startChat(t, { env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SECONDS: '1', WEBHOOK_INTERVAL_MS: '100' } })
  // The first account is a site administrator (an owner everywhere): made here so that alice and bob are not.
  const first = await fetch(`${chat.home}api/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'root', password: PASSWORD })
  })
  t.equal(first.status, 201)
  const browser = await launchBrowser(t)
  const alice = await (await browser.newContext()).newPage()
  const bob = await (await browser.newContext()).newPage()
  const errors: string[] = []
  for (const page of [alice, bob]) page.on('pageerror', err => { errors.push(err.message) })
  await register(alice, chat.home, 'alice')
  await register(bob, chat.home, 'bob')
  await createRoom(alice, 'ops')
  await joinRoom(bob, 'ops')

  t.test('the panel is for the owner and moderators only', async t => {
    await alice.getByRole('button', { name: 'Room settings' }).waitFor()
    // Once bob's member list (with his role) is in, the button stays hidden for a plain member.
    await bob.getByRole('heading', { name: /^Members \(2,/ }).waitFor()
    t.equal(await bob.getByRole('button', { name: 'Room settings' }).count(), 0, 'a member has no settings button')
    const status = await alice.evaluate(async () => (await fetch('api/rooms/ops/roles', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'bob', role: 'moderator' })
    })).status)
    t.equal(status, 204, 'the owner makes bob a moderator')
    await bob.getByRole('button', { name: 'Room settings' }).waitFor()
    t.pass('the new moderator sees the button')
  })

  t.test('incoming: the URL shown once posts into the room', async t => {
    const panel = await openPanel(bob, 'ops')
    await panel.getByLabel('Webhook name').fill('ci')
    await panel.getByRole('button', { name: 'Create incoming webhook' }).click()
    const url = await panel.getByLabel('Webhook URL').inputValue()
    t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/api\/hooks\/\S+$/, 'an absolute URL')
    await panel.getByRole('list', { name: 'Incoming webhooks' }).getByRole('listitem').filter({ hasText: /ci.*never used/ }).waitFor()

    // As a CI server's Slack notifier would: a plain POST, no session.
    const posted = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'build 42 passed' }) })
    t.equal(posted.status, 200)
    t.equal(await posted.text(), 'ok')
    await closePanel(panel)
    await waitForMessage(bob, 'build 42 passed')
    await waitForMessage(alice, 'build 42 passed')
    t.equal(await messageInLog(alice, 'build 42 passed').locator('.author').textContent(), 'ci', "from the hook's bot, under the hook's name")

    const again = await openPanel(bob, 'ops')
    t.equal(await again.getByLabel('Webhook URL').count(), 0, 'the URL is not shown again')
    await untilShown(again, 'Incoming webhooks', 'ci', /last used/)
    await again.getByRole('button', { name: 'Delete incoming webhook ci' }).click()
    await again.getByRole('button', { name: 'Confirm: Delete incoming webhook ci' }).click()
    await again.getByRole('list', { name: 'Incoming webhooks' }).getByText('No incoming webhooks.').waitFor()
    const gone = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'too late' })
    t.equal(gone.status, 404, 'a deleted hook is 404 at once')
    await closePanel(again)
  })

  t.test('outgoing: made with its secret, seen failing, resumed, deleted', async t => {
    let up = false
    const receiver = await startReceiver(t, () => ({ status: up ? 200 : 500 }))
    const panel = await openPanel(alice, 'ops')
    await panel.getByLabel('Receiver URL').fill(receiver.url)
    t.ok(await panel.getByLabel('message', { exact: true }).isChecked(), 'messages are sent by default')
    await panel.getByLabel('message.edited').check()
    await panel.getByRole('button', { name: 'Create outgoing webhook' }).click()
    const secret = await panel.getByLabel('Signing secret').inputValue()
    t.ok(secret.length >= 20, 'the secret is shown')
    t.match(await untilShown(panel, 'Outgoing webhooks', receiver.url, /active/), /message, message\.edited/, 'active, with its events')

    await closePanel(panel)
    await say(alice, 'anyone listening?')
    const [delivery] = await receiver.waitFor(1)
    t.equal(delivery?.json.event.text, 'anyone listening?')
    const signature = 'sha256=' + createHmac('sha256', secret).update(delivery?.body ?? '').digest('hex')
    t.equal(delivery?.headers['x-chat-signature'], signature, 'signed with the secret the panel showed')

    const watching = await openPanel(alice, 'ops')
    const failing = await untilShown(watching, 'Outgoing webhooks', receiver.url, /failing/)
    t.match(failing, /Last error: answered 500/, 'the last error is shown')
    up = true
    const before = receiver.received.length
    await watching.getByRole('button', { name: `Resume outgoing webhook ${receiver.url}` }).click()
    await receiver.waitFor(before + 1)
    const resumed = await untilShown(watching, 'Outgoing webhooks', receiver.url, /active/)
    t.notMatch(resumed, /Last error/, 'delivered: no error left')

    await watching.getByRole('button', { name: `Delete outgoing webhook ${receiver.url}` }).click()
    await watching.getByRole('button', { name: `Confirm: Delete outgoing webhook ${receiver.url}` }).click()
    await watching.getByRole('list', { name: 'Outgoing webhooks' }).getByText('No outgoing webhooks.').waitFor()
    await closePanel(watching)
  })

  t.test('no page errors', async t => {
    t.same(errors, [])
  })
})
