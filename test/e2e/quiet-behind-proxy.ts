import type { Test } from 'tap'
import { chromium, type Request } from 'playwright-core'
import {
  CHROMIUM_ARGS, startChat, register, createRoom, joinRoom, say, waitForMessage, isPoll, until
} from './helpers.js'
import { startSquid } from './squid.js'

// Two people chat through a corporate forward proxy (Squid, gives up on a
// silent response after 30 s), then the room stays quiet for three minutes.
// Whatever the server's POLL_TIMEOUT, the page must keep looking connected and
// deliver the next message at once: the client learns how long a poll may be
// held on its path (public/hold.js).

const PROXY_READ_TIMEOUT_S = 30
const QUIET_MS = 3 * 60 * 1000

interface PollSeen { started: number, ended: number, status: number | null, timeout: string | null }

export async function quietBehindProxy (t: Test, pollTimeout: number | null): Promise<void> {
  const chat = await startChat(t, { env: pollTimeout === null ? {} : { POLL_TIMEOUT: String(pollTimeout) } })
  const squid = await startSquid(t, { readTimeoutS: PROXY_READ_TIMEOUT_S })
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    // Chromium sends loopback addresses past any proxy unless told not to.
    args: [...CHROMIUM_ARGS, `--proxy-server=${squid.url}`, '--proxy-bypass-list=<-loopback>']
  })
  t.teardown(async () => { await browser.close() })
  const aliceContext = await browser.newContext()
  const alice = await aliceContext.newPage()
  const bob = await (await browser.newContext()).newPage()
  const consoleErrors: string[] = []
  alice.on('console', msg => { if (msg.type() === 'error') consoleErrors.push(msg.text()) })

  // Every poll of alice's browser from sign-in on (the first cut comes ~30 s
  // after it, possibly before the quiet): when it started and ended, and how.
  const polls: PollSeen[] = []
  const open = new Map<Request, PollSeen>()
  aliceContext.on('request', req => {
    if (!isPoll(req.url())) return
    const seen = { started: Date.now(), ended: 0, status: null, timeout: new URL(req.url()).searchParams.get('timeout') }
    open.set(req, seen)
    polls.push(seen)
  })
  const finish = async (req: Request): Promise<void> => {
    const seen = open.get(req)
    if (seen === undefined) return
    open.delete(req)
    const ended = Date.now()
    seen.status = (await req.response().catch(() => null))?.status() ?? 0
    seen.ended = ended // last: a poll counts as ended once its status is known
  }
  aliceContext.on('requestfinished', req => { finish(req).catch(() => {}) })
  aliceContext.on('requestfailed', req => { finish(req).catch(() => {}) })

  await register(alice, chat.home, 'alice')
  await register(bob, chat.home, 'bob')
  await createRoom(alice, 'quiet')
  await joinRoom(bob, 'quiet')
  await say(bob, 'before the quiet')
  await waitForMessage(alice, 'before the quiet')

  // Every text the status indicator shows from now on.
  await until('connected', async () => /Connected/.test(await alice.getByRole('status').textContent() ?? ''))
  await alice.evaluate(() => {
    const el = document.querySelector('[role="status"]') as HTMLElement
    const log: string[] = [el.textContent ?? '']
    Object.assign(window, { statusLog: log })
    new MutationObserver(() => { log.push(el.textContent ?? '') })
      .observe(el, { childList: true, characterData: true, subtree: true })
  })

  const quietStarted = Date.now()
  await alice.waitForTimeout(QUIET_MS)

  const sent = Date.now()
  await say(bob, 'after three quiet minutes')
  await waitForMessage(alice, 'after three quiet minutes', 15000)
  const delay = Date.now() - sent
  t.ok(delay < 1000, `a message after three quiet minutes showed within 1 s (${delay} ms)`)

  t.match(squid.accessLog(), /TCP_MISS\/200 .*\/api\/poll/, 'the polls went through the proxy')

  const quiet = polls.filter(p => p.started >= quietStarted && p.ended > 0)
  const cut = quiet.filter(p => p.status === 504 || p.status === 0)
  // The first cut can come before the quiet starts (the first poll is held from
  // sign-in on): learning is judged over every poll of the test.
  const cutEver = polls.filter(p => p.ended > 0 && (p.status === 504 || p.status === 0))
  const settled = quiet.filter(p => p.started >= quietStarted + QUIET_MS / 2)
  t.ok(settled.length > 0, 'polls were answered in the second half of the quiet')
  for (const p of settled) {
    t.equal(p.status, 200, `a poll in the second half of the quiet was answered by the server (${p.ended - p.started} ms)`)
    t.ok(p.ended - p.started < PROXY_READ_TIMEOUT_S * 1000,
      `and held for less than the proxy's ${PROXY_READ_TIMEOUT_S} s (${p.ended - p.started} ms, timeout=${p.timeout})`)
  }
  if (pollTimeout !== null && pollTimeout > PROXY_READ_TIMEOUT_S) {
    t.ok(cutEver.length >= 1, `the proxy cut a poll held past ${PROXY_READ_TIMEOUT_S} s (${cutEver.length} cut)`)
    t.ok(cutEver.length <= 2, 'the client learned from it rather than being cut again and again')
    t.ok(settled.every(p => p.timeout !== null && Number(p.timeout) < PROXY_READ_TIMEOUT_S),
      'the settled polls ask for a hold below the proxy\'s limit')
  } else {
    t.same(cut, [], 'no poll was cut')
    t.ok(settled.every(p => p.timeout === null), 'the server\'s hold is kept: nothing to learn')
  }
  const statusLog = await alice.evaluate(() => (window as unknown as { statusLog: string[] }).statusLog)
  t.same([...new Set(statusLog)], ['Connected'], 'the status never left "Connected"')
  // Chromium itself reports a failed load ("Failed to load resource: … 504"); the client adds nothing.
  t.same(consoleErrors.filter(text => !/^Failed to load resource/.test(text)), [], 'no errors of the client\'s own in the console')
}
