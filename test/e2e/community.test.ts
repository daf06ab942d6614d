import t, { type Test } from 'tap'
import type { Page } from 'playwright-core'
import {
  launchBrowser, startChat, register, createRoom, joinRoom, say, waitForMessage, messageInLog, until, PASSWORD
} from './helpers.js'

// Running a community in real browsers: roles and moderation seen from every
// window, mentions that notify (permission granted to the test's context) and
// count in the title, and administration (invitations) through the page.

// Four browser contexts and a server on a shared 2-core machine take minutes when it is busy.
t.setTimeout(6 * 60 * 1000)

// Strings, not functions: tsx would wrap a function's inner arrows in a helper the page lacks.
/** Records every desktop notification the page makes (the real one is still made). */
const RECORD_NOTIFICATIONS = `window.__notes = [];
  if (typeof window.Notification === 'function') {
    const Real = window.Notification;
    window.Notification = class extends Real {
      constructor (title, options) { window.__notes.push({ title, body: options && options.body }); super(title, options) }
    };
  }`

async function setVisibility (page: Page, state: 'hidden' | 'visible'): Promise<void> {
  await page.evaluate(`Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${state}' });
    document.dispatchEvent(new Event('visibilitychange'))`)
}

async function notes (page: Page): Promise<Array<{ title: string, body: string }>> {
  return await page.evaluate('window.__notes') as Array<{ title: string, body: string }>
}

async function manage (page: Page) {
  await page.getByRole('button', { name: 'Manage room' }).click()
  return page.getByRole('dialog', { name: /^Manage / })
}

/** Signs up through an invitation link: the form must come filled in. */
async function registerInvited (t: Test, page: Page, link: string, username: string): Promise<void> {
  await page.goto(link)
  t.equal(await page.getByLabel('Invitation code').inputValue(), new URL(link).searchParams.get('invite'), `the code is filled in for ${username}`)
  await page.getByLabel('Username', { exact: true }).fill(username)
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
}

// One server for the whole file (starting one takes long on a shared machine),
// with REGISTRATION=invite: everyone after the first account comes in by invitation.
t.test('a community on an invitation-only server', async t => {
  const chat = await startChat(t, { env: { REGISTRATION: 'invite' } })
  const browser = await launchBrowser(t)
  const alice = await (await browser.newContext()).newPage() // the first account: an administrator
  const bobContext = await browser.newContext()
  await bobContext.grantPermissions(['notifications'], { origin: chat.server.origin })
  await bobContext.addInitScript(RECORD_NOTIFICATIONS)
  const bob = await bobContext.newPage()
  const carol = await (await browser.newContext()).newPage()
  const dave = await (await browser.newContext()).newPage()

  await register(alice, chat.home, 'alice')
  await alice.getByRole('button', { name: 'Administration' }).click()
  const admin = alice.getByRole('dialog', { name: 'Administration' })
  await admin.getByLabel('Uses').fill('3')
  await admin.getByRole('button', { name: 'Make invitation' }).click()
  const link = await admin.getByLabel('Invitation link').inputValue()
  t.match(link, new RegExp(`^${chat.home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\?invite=[A-Za-z0-9_-]+$`), 'the answer\'s link is shown')
  await admin.getByRole('list', { name: 'Invitations' }).getByText('3 left', { exact: false }).waitFor()
  await admin.getByRole('button', { name: 'Close' }).click()
  await registerInvited(t, bob, link, 'bob')
  await registerInvited(t, carol, link, 'carol')
  await registerInvited(t, dave, link, 'dave')
  await createRoom(alice, 'lobby')
  await joinRoom(bob, 'lobby')
  await joinRoom(carol, 'lobby')

  t.test('controls appear only for the roles that may use them', async t => {
    await alice.getByRole('button', { name: 'Manage room' }).waitFor()
    t.ok(await alice.getByRole('button', { name: 'Administration' }).isVisible(), 'the administrator sees Administration')
    // Once bob's member list shows alice as owner, bob's role is known too.
    await bob.getByRole('complementary', { name: /Members/ }).getByText('owner', { exact: true }).waitFor()
    t.notOk(await bob.getByRole('button', { name: 'Manage room' }).isVisible(), 'a member has no Manage room')
    t.notOk(await carol.getByRole('button', { name: 'Administration' }).isVisible(), 'nor Administration')
  })

  t.test('the owner names a moderator, whose window gains the controls', async t => {
    const dialog = await manage(alice)
    await dialog.getByRole('button', { name: 'Make bob a moderator' }).click()
    await dialog.getByRole('button', { name: 'Make bob a member' }).waitFor()
    await dialog.getByRole('button', { name: 'Close' }).click()
    await bob.getByRole('button', { name: 'Manage room' }).waitFor()
    t.notOk(await carol.getByRole('button', { name: 'Manage room' }).isVisible(), 'carol still has none')
  })

  t.test('a moderator deletes someone else\'s message', async t => {
    await say(carol, 'buy cheap stuff')
    await waitForMessage(bob, 'buy cheap stuff')
    await waitForMessage(alice, 'buy cheap stuff')
    const spam = messageInLog(bob, 'buy cheap stuff')
    await spam.hover()
    await spam.getByRole('button', { name: 'Delete' }).click()
    await spam.getByRole('button', { name: 'Confirm delete' }).click()
    await until('the message gone for alice and carol', async () =>
      await messageInLog(alice, 'buy cheap stuff').count() === 0 && await messageInLog(carol, 'buy cheap stuff').count() === 0)
    t.pass('deleted everywhere')
  })

  t.test('a mention raises a notification (leader tab only) and the title count', async t => {
    const second = await bobContext.newPage()
    await second.goto(chat.home)
    await second.getByRole('heading', { name: '#lobby' }).waitFor()
    for (const page of [bob, second]) await setVisibility(page, 'hidden')
    await say(alice, 'hey @bob, look at this')
    await waitForMessage(bob, 'hey @bob, look at this')
    await until('a desktop notification', async () => (await notes(bob)).length + (await notes(second)).length > 0)
    const all = [...await notes(bob), ...await notes(second)]
    t.equal(all.length, 1, 'one notification for the two tabs')
    t.match(all[0], { title: 'alice in #lobby', body: 'hey @bob, look at this' })
    await until('the unread count in the title', async () => /^\(1\) #lobby/.test(await bob.title()))
    const lobby = bob.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: /#lobby/ })
    t.match(await lobby.textContent(), /@1\s*mentions/, 'the room list shows the mention apart')
    t.match(await messageInLog(bob, 'hey @bob').getAttribute('class'), /mention/, 'the message is highlighted')
    await say(alice, 'just chatting')
    await waitForMessage(bob, 'just chatting')
    await until('two unread in the title', async () => /^\(2\) #lobby/.test(await bob.title()))
    t.equal((await notes(bob)).length + (await notes(second)).length, 1, 'a message without a mention does not notify')
    await second.close()
    await setVisibility(bob, 'visible')
    await until('the title without a count', async () => await bob.title() === '#lobby · Chat')
    t.notMatch(await lobby.textContent(), /mentions/, 'read: the mention count clears')
  })

  t.test('a muted room neither counts in the title nor notifies', async t => {
    await bob.getByRole('button', { name: 'Mute' }).click()
    await bob.getByRole('button', { name: 'Unmute' }).waitFor()
    await setVisibility(bob, 'hidden')
    await say(alice, 'psst @bob, muted?')
    await waitForMessage(bob, 'psst @bob, muted?')
    await bob.waitForTimeout(300)
    t.equal(await bob.title(), '#lobby · Chat', 'no count')
    t.equal((await notes(bob)).length, 1, 'no new notification')
    await setVisibility(bob, 'visible')
    await bob.getByRole('button', { name: 'Unmute' }).click()
  })

  t.test('the first direct message from someone new notifies', async t => {
    await setVisibility(bob, 'hidden')
    const before = (await notes(bob)).length
    // Opened and written at once, as a bot would: the message comes before bob's page fetches its room list.
    const sent = await dave.evaluate(`(async () => {
      const post = (url, body) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      const { room } = await (await post('api/direct', { username: 'bob' })).json()
      return (await post('api/rooms/' + room.id + '/messages', { text: 'hello bob, new here', clientId: 'e2e-dm-1' })).status
    })()`)
    t.equal(sent, 201)
    await until('a notification for the direct message', async () => (await notes(bob)).length > before)
    t.match((await notes(bob)).slice(before), [{ title: 'dave', body: 'hello bob, new here' }])
    await setVisibility(bob, 'visible')
    await bob.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: /@dave/ }).waitFor()
  })

  t.test('a member whose polls say away shows so in others\' member lists', async t => {
    // Carol's own page would say so after 5 idle minutes; her poll's word is what the server goes by.
    t.equal(await carol.evaluate("fetch('api/poll?timeout=0&away=1').then(r => r.status)"), 200)
    const members = bob.getByRole('complementary', { name: /Members/ })
    await until('carol away in bob\'s list', async () => {
      await setVisibility(bob, 'visible') // the page fetches the member list again when shown
      return await members.locator('li.away', { hasText: 'carol' }).count() === 1
    })
    t.match(await members.locator('li', { hasText: 'carol' }).textContent(), /away/)
  })

  t.test('a moderator kicks a user whose open window shows it', async t => {
    await carol.getByRole('heading', { name: '#lobby' }).waitFor()
    const dialog = await manage(bob)
    t.notOk(await dialog.getByRole('button', { name: 'Archive room' }).isVisible(), 'only the owner archives')
    t.equal(await dialog.getByRole('button', { name: 'Kick alice' }).count(), 0, 'a moderator cannot kick the owner')
    await dialog.getByRole('button', { name: 'Kick carol' }).click()
    await carol.getByText('You were removed from #lobby by bob.').waitFor()
    await until('the room gone from carol\'s list', async () =>
      await carol.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: '#lobby' }).count() === 0)
    await until('the room no longer open', async () => await carol.locator('#room-title').textContent() === 'No room open')
    await until('carol gone from the dialog', async () => await dialog.getByRole('button', { name: 'Kick carol' }).count() === 0)
  })

  t.test('a ban holds until the moderator lifts it', async t => {
    const dialog = bob.getByRole('dialog', { name: /^Manage / })
    await dialog.getByLabel('Username to ban').fill('carol')
    await dialog.getByRole('button', { name: 'Ban user' }).click()
    await dialog.getByRole('button', { name: 'Unban carol' }).waitFor()
    const status = await carol.evaluate(`fetch('api/rooms/lobby/join', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
      .then(async r => [r.status, (await r.json()).error.code])`)
    t.same(status, [403, 'banned'], 'carol cannot come back')
    await dialog.getByRole('button', { name: 'Unban carol' }).click()
    await dialog.getByText('Nobody is banned.').waitFor()
    await joinRoom(carol, 'lobby')
    t.pass('back in after the unban')
  })

  t.test('an administrator disables an account, whose session ends at once', async t => {
    t.notOk(await dave.getByRole('button', { name: 'Administration' }).isVisible(), 'dave is no administrator')
    await alice.getByRole('button', { name: 'Administration' }).click()
    const dialog = alice.getByRole('dialog', { name: 'Administration' })
    await dialog.getByLabel('Find users').fill('dave')
    await dialog.getByRole('button', { name: 'Find' }).click()
    await dialog.getByRole('button', { name: 'Disable dave' }).click()
    await dialog.getByRole('button', { name: 'Enable dave' }).waitFor()
    await dave.getByText('Your session has ended').waitFor()
    t.pass('signed out')
  })
})
