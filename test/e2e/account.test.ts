import t from 'tap'
import {
  launchBrowser, startChat, register, createRoom, joinRoom, say, waitForMessage, messageInLog, until, PASSWORD
} from './helpers.js'

// Names cannot pass for someone else's, and the account dialog says what a
// password change or "end all sessions" ends before the user confirms.

t.test('display names carry their @username; the account dialog warns about tokens', async t => {
  const chat = await startChat(t)
  const browser = await launchBrowser(t)
  const alice = await (await browser.newContext()).newPage()
  const eve = await (await browser.newContext()).newPage()
  await register(alice, chat.home, 'alice')
  await createRoom(alice, 'names')

  // eve picks a display name that is not her username.
  await eve.goto(chat.home)
  await eve.getByLabel('Username', { exact: true }).fill('eve')
  await eve.getByLabel('Password', { exact: true }).fill(PASSWORD)
  await eve.getByText('New here? Optional display name').click()
  await eve.getByLabel('Display name (for a new account)').fill('Boss')
  await eve.getByRole('button', { name: 'Create account' }).click()
  await eve.getByRole('button', { name: 'Sign out' }).waitFor()
  await joinRoom(eve, 'names')

  await say(eve, 'wire the money today')
  await waitForMessage(alice, 'wire the money today')
  const meta = await messageInLog(alice, 'wire the money today').locator('.meta').textContent() ?? ''
  t.match(meta, /Boss/, 'the display name is shown')
  t.match(meta, /@eve/, 'with the username beside it')
  t.match(await eve.locator('.whoami').textContent(), /Boss \(@eve\)/, 'the top bar too')

  // The server keeps one typing notice per user and room every 2 s: the message's own typing was one.
  await eve.waitForTimeout(2500)
  await eve.getByLabel('Message', { exact: true }).pressSequentially('and')
  await until('the typing line', async () => /Boss \(@eve\) is typing/.test(await alice.locator('.typing').textContent() ?? ''))
  t.pass('the typing line names eve with her username')
  await until('members', async () => /@eve/.test(await alice.locator('.member-list').textContent() ?? ''))
  t.pass('the member list shows the username')

  await alice.getByRole('button', { name: 'Account' }).click()
  const dialog = alice.getByRole('dialog', { name: 'Account' })
  t.match(await dialog.textContent(), /Changing it signs out your other sessions and ends every API token/,
    'the password form says a change ends every token, before it is sent')
  t.match(await dialog.textContent(), /this one included, and ends every API token/,
    '"end all sessions" says it ends every token')

  await dialog.getByLabel('Token name').fill('no-password')
  await dialog.getByRole('button', { name: 'Create token' }).click()
  await until('the refusal', async () => /Enter your password to make a token/.test(await dialog.textContent() ?? ''))
  t.equal(await dialog.locator('code.token').count(), 0, 'no token without the password')

  await dialog.getByLabel('Your password').fill(PASSWORD)
  await dialog.getByRole('button', { name: 'Create token' }).click()
  await dialog.locator('code.token').waitFor()
  t.pass('with the password a token is made')

  const end = dialog.getByRole('button', { name: 'End all sessions' })
  await end.click()
  await dialog.getByRole('button', { name: 'Confirm: end every session and token' }).waitFor()
  t.equal(await alice.getByRole('button', { name: 'Sign out' }).count(), 1, 'the first click only asks again')
  await dialog.getByRole('button', { name: 'Confirm: end every session and token' }).click()
  await alice.getByText('You were signed out everywhere.').waitFor()
  t.pass('the second click ends every session')
})
