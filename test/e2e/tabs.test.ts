import t from 'tap'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import {
  launchBrowser, startChat, register, signIn, createRoom, joinRoom, say, waitForMessage, trackInFlight, isPoll, until,
  type Chat
} from './helpers.js'

// Many tabs of one browser share ONE long poll: a leader tab polls and passes
// events to the others over a BroadcastChannel; when it closes another takes over.

async function openTabs (context: BrowserContext, chat: Chat, count: number, room: string): Promise<Page[]> {
  const pages: Page[] = []
  for (let i = 0; i < count; i++) {
    const page = await context.newPage()
    await page.goto(chat.home)
    await page.getByRole('heading', { name: '#' + room }).waitFor()
    pages.push(page)
  }
  return pages
}

async function leaderOf (pages: Page[]): Promise<Page[]> {
  const leaders: Page[] = []
  for (const page of pages) {
    if (await page.evaluate(() => document.documentElement.dataset.pollLeader === 'true')) leaders.push(page)
  }
  return leaders
}

async function sender (browser: Browser, chat: Chat, name: string, room: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  await register(page, chat.home, name)
  await joinRoom(page, room)
  return page
}

t.test('eight tabs, one poll (Web Locks election)', async t => {
  const chat = await startChat(t)
  const browser = await launchBrowser(t)
  const context = await browser.newContext()
  const polls = trackInFlight(context, isPoll)

  const setup = await context.newPage()
  await register(setup, chat.home, 'carol')
  await createRoom(setup, 'tabs')
  const pages = [setup, ...await openTabs(context, chat, 7, 'tabs')]
  const dave = await sender(browser, chat, 'dave', 'tabs')

  await say(dave, 'hello, all tabs')
  await Promise.all(pages.map(page => waitForMessage(page, 'hello, all tabs')))
  t.ok(polls.max <= 1, `at most one poll in flight across 8 tabs (saw ${polls.max})`)
  t.equal((await leaderOf(pages)).length, 1, 'exactly one leader')

  const [leader] = await leaderOf(pages)
  if (leader === undefined) throw new Error('no leader')
  polls.forget(leader)
  await leader.close()
  const rest = pages.filter(page => page !== leader)
  await until('a new leader', async () => (await leaderOf(rest)).length === 1)
  await say(dave, 'after the leader left')
  await Promise.all(rest.map(page => waitForMessage(page, 'after the leader left')))
  t.ok(polls.max <= 1, `still at most one poll in flight (saw ${polls.max})`)
  t.ok(polls.current <= 1)

  await say(rest[0] as Page, 'a tab answers')
  await waitForMessage(dave, 'a tab answers')
  await Promise.all(rest.map(page => waitForMessage(page, 'a tab answers')))
  t.equal(await rest[3]!.getByRole('log').locator('li.msg', { hasText: 'a tab answers' }).count(), 1, 'shown once in other tabs')
})

t.test('without navigator.locks the heartbeat election keeps one poll', async t => {
  const chat = await startChat(t)
  const browser = await launchBrowser(t)
  const context = await browser.newContext()
  await context.addInitScript(() => {
    // Plain-HTTP origins (not localhost) have no navigator.locks.
    delete (Navigator.prototype as { locks?: unknown }).locks
  })
  const polls = trackInFlight(context, isPoll)
  const setup = await context.newPage()
  await register(setup, chat.home, 'erin')
  await createRoom(setup, 'beats')
  t.equal(await setup.evaluate(() => 'locks' in navigator), false, 'locks are gone')
  const pages = [setup, ...await openTabs(context, chat, 3, 'beats')]
  const frank = await sender(browser, chat, 'frank', 'beats')

  await say(frank, 'heartbeat hello')
  await Promise.all(pages.map(page => waitForMessage(page, 'heartbeat hello')))
  await until('one leader', async () => (await leaderOf(pages)).length === 1)

  const [leader] = await leaderOf(pages)
  if (leader === undefined) throw new Error('no leader')
  polls.forget(leader)
  await leader.close({ runBeforeUnload: true })
  const rest = pages.filter(page => page !== leader)
  await until('a new leader', async () => (await leaderOf(rest)).length === 1, 8000)
  await say(frank, 'heartbeat again')
  await Promise.all(rest.map(page => waitForMessage(page, 'heartbeat again')))
  t.ok(polls.max <= 1, `at most one poll in flight (saw ${polls.max})`)
})

t.test('signing out in one tab signs out the others', async t => {
  const chat = await startChat(t)
  const browser = await launchBrowser(t)
  const context = await browser.newContext()
  const first = await context.newPage()
  await register(first, chat.home, 'gina')
  await createRoom(first, 'solo')
  const [second] = await openTabs(context, chat, 1, 'solo')
  await first.getByRole('button', { name: 'Sign out' }).click()
  await second!.getByRole('button', { name: 'Sign in' }).waitFor()
  await signIn(second!, chat.home, 'gina')
  await first.getByRole('heading', { name: '#solo' }).waitFor()
  t.pass('the other tab followed both ways')
})
