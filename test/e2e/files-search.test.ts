import t from 'tap'
import type { Page } from 'playwright-core'
import { launchBrowser, startChat, register, createRoom, joinRoom, say, waitForMessage, messageInLog, until } from './helpers.js'
import { png } from '../attachments/images.js'

// Files and search in two real browsers, under BASE_PATH=/chat: a PNG shared
// by one person shows as an image in the other's window (picked, pasted and
// dropped files alike), an upload can be cancelled, and a search result opens
// its message in its room, loaded around it, with the searched words marked.

/** Page errors must never happen: collected from every page here. */
function collectErrors (pages: Page[]): string[] {
  const errors: string[] = []
  for (const page of pages) page.on('pageerror', err => { errors.push(err.message) })
  return errors
}

/** Sends from inside the page, as the client would: same origin, the page's cookie. */
async function sendFromPage (page: Page, room: string, texts: string[]): Promise<void> {
  await page.evaluate(async ({ room, texts }) => {
    for (const text of texts) {
      const res = await fetch(`api/rooms/${room}/messages`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text }) })
      if (res.status !== 201) throw new Error(`send answered ${res.status}`)
    }
  }, { room, texts })
}

// Two browsers, a server started by tsx and a throttled upload: on a machine shared by several test runs
// this takes up to three minutes, more than .taprc's default allows.
t.setTimeout(6 * 60 * 1000)

t.test('files and search between two browsers', async t => {
  const chat = await startChat(t, { basePath: '/chat', env: { RATE_SEND_MAX: '1000' } })
  const browser = await launchBrowser(t)
  const alice = await (await browser.newContext()).newPage()
  const bob = await (await browser.newContext()).newPage()
  const errors = collectErrors([alice, bob])

  await register(alice, chat.home, 'alice')
  await register(bob, chat.home, 'bob')
  await createRoom(alice, 'lobby')
  await joinRoom(bob, 'lobby')

  t.test('a PNG picked with the attach button shows as an image in the other window', async t => {
    const [chooser] = await Promise.all([alice.waitForEvent('filechooser'), alice.getByRole('button', { name: 'Attach files' }).click()])
    await chooser.setFiles({ name: 'chart.png', mimeType: 'image/png', buffer: png(40, 30) })
    const image = bob.getByRole('log').getByRole('img', { name: 'chart.png' })
    await image.waitFor()
    await until('the image loaded in bob\'s window', async () => await image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 40))
    t.equal(await image.evaluate((img: HTMLImageElement) => img.naturalHeight), 30, 'the real bytes, decoded')
    t.equal(await image.getAttribute('width'), '40', 'shown at its own size, known before it loads')
    const src = new URL(await image.evaluate((img: HTMLImageElement) => img.src))
    t.match(src.pathname, /^\/chat\/api\/files\/\d+\/chart\.png$/, 'served under BASE_PATH')

    const [full] = await Promise.all([bob.waitForEvent('popup'), image.click()])
    await full.waitForLoadState()
    t.equal(new URL(full.url()).pathname, src.pathname, 'a click opens it full size')
    await full.close()
    await alice.getByRole('log').getByRole('img', { name: 'chart.png' }).waitFor()
    t.equal(await alice.getByRole('list', { name: 'Uploads' }).getByRole('listitem').count(), 0, 'no upload is left in progress')
  })

  t.test('a big image is scaled down, keeping its shape', async t => {
    const [chooser] = await Promise.all([alice.waitForEvent('filechooser'), alice.getByRole('button', { name: 'Attach files' }).click()])
    await chooser.setFiles({ name: 'wide.png', mimeType: 'image/png', buffer: png(1200, 300) })
    const image = bob.getByRole('log').getByRole('img', { name: 'wide.png' })
    await image.waitFor()
    const [width, height] = await until('the image laid out', async () => await image.evaluate((img: HTMLImageElement) =>
      img.clientWidth > 0 ? [img.clientWidth, img.clientHeight] : null)) ?? []
    t.ok((width ?? 0) <= 360, `at most 360 px wide (${width ?? 0})`)
    t.ok(Math.abs((width ?? 0) / (height ?? 1) - 4) < 0.05, `the same shape (${width ?? 0} × ${height ?? 0})`)
  })

  t.test('a pasted screenshot and a dropped file', async t => {
    const shot = [...png(8, 6)]
    await alice.getByLabel('Message', { exact: true }).evaluate((box, bytes) => {
      const data = new DataTransfer()
      data.items.add(new File([new Uint8Array(bytes)], 'screenshot.png', { type: 'image/png' }))
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
    }, shot)
    await bob.getByRole('log').getByRole('img', { name: 'screenshot.png' }).waitFor()

    await alice.getByRole('log').evaluate((log) => {
      const data = new DataTransfer()
      data.items.add(new File(['minutes of the meeting\n'], 'notes.txt', { type: 'text/plain' }))
      log.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }))
      log.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }))
    })
    const link = bob.getByRole('log').getByRole('link', { name: 'notes.txt' })
    await link.waitFor()
    t.equal(await link.getAttribute('download'), 'notes.txt', 'other files are a download link')
    const item = bob.getByRole('log').locator('li.attachment', { hasText: 'notes.txt' })
    t.match(await item.textContent(), /notes\.txt\s+23 B/, 'with the size')
    const body = await bob.evaluate(async (href) => await (await fetch(href)).text(), await link.getAttribute('href') ?? '')
    t.equal(body, 'minutes of the meeting\n', 'the link gives the bytes')
  })

  t.test('an upload shows its progress and can be cancelled', async t => {
    const cdp = await alice.context().newCDPSession(alice)
    await cdp.send('Network.enable')
    // About 16 KiB a second: a 4 MB file takes long enough to watch. With 400 KB, one full run saw the whole
    // file reach the server before the Cancel click.
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 16 * 1024 })
    const [chooser] = await Promise.all([alice.waitForEvent('filechooser'), alice.getByRole('button', { name: 'Attach files' }).click()])
    await chooser.setFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(4 * 1000 * 1000, 7) })
    const bar = alice.getByRole('progressbar', { name: 'Uploading big.bin' })
    await bar.waitFor()
    await until('the bar moves', async () => {
      const [value, max] = await bar.evaluate((p: HTMLProgressElement) => [p.value, p.max])
      return (value ?? 0) > 0 && (value ?? 0) < (max ?? 0)
    }, 20000)
    await alice.getByRole('list', { name: 'Uploads' }).getByRole('button', { name: 'Cancel' }).click()
    await bar.waitFor({ state: 'detached' })
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })

    // A file sent after it arrives; the cancelled one was never stored.
    const [next] = await Promise.all([alice.waitForEvent('filechooser'), alice.getByRole('button', { name: 'Attach files' }).click()])
    await next.setFiles({ name: 'after.png', mimeType: 'image/png', buffer: png(5, 5) })
    await bob.getByRole('log').getByRole('img', { name: 'after.png' }).waitFor()
    const names = await bob.evaluate(async () => {
      const { events } = await (await fetch('api/rooms/lobby/messages?limit=200')).json()
      return events.flatMap((e: { attachments?: Array<{ name: string }> }) => (e.attachments ?? []).map(a => a.name))
    })
    t.notOk(names.includes('big.bin'), `the cancelled file is not in the room (${names.join(', ')})`)
  })

  t.test('a search result opens its message in its room, loaded around it, the words marked', async t => {
    await say(alice, 'before the report')
    await say(alice, 'The Quarterly deploy REPORT is ready')
    await waitForMessage(alice, 'The Quarterly deploy REPORT is ready')
    const fillers = Array.from({ length: 40 }, (_, i) => `filler ${i + 1}`)
    await sendFromPage(alice, 'lobby', fillers)
    await createRoom(bob, 'elsewhere')
    t.equal(await messageInLog(bob, 'filler').count(), 0, 'bob reads another room')

    const box = bob.getByRole('searchbox', { name: 'Search messages' })
    await box.fill('quarterly report')
    await box.press('Enter')
    const results = bob.getByRole('region', { name: 'Results for “quarterly report”' })
    const hit = results.getByRole('button', { name: /Quarterly deploy REPORT/ })
    await hit.waitFor()
    t.equal(await results.getByRole('button', { name: /filler|before the report/ }).count(), 0, 'only messages with every word')
    const shown = await hit.textContent() ?? ''
    t.match(shown, /#lobby/, 'the result names its room')
    t.match(shown, /alice/, 'and its author')
    t.ok(await hit.locator('time').count() === 1, 'and its time')
    t.same(await hit.locator('mark').allTextContents(), ['Quarterly', 'REPORT'], 'the words are marked in the result')

    await hit.click()
    await bob.getByRole('heading', { name: '#lobby' }).waitFor()
    t.ok(await results.isHidden(), 'the results close')
    const target = messageInLog(bob, 'The Quarterly deploy REPORT is ready')
    await target.waitFor()
    t.match(await target.getAttribute('class'), /\bfocus\b/, 'the message is singled out')
    t.same(await target.locator('mark').allTextContents(), ['Quarterly', 'REPORT'], 'the searched words are marked')
    await until('the message scrolled into view', async () => await target.evaluate((li) => {
      const log = li.closest('[role="log"]')?.getBoundingClientRect()
      const box = li.getBoundingClientRect()
      return log !== undefined && box.top >= log.top && box.bottom <= log.bottom
    }))
    await waitForMessage(bob, 'before the report')
    await waitForMessage(bob, 'filler 1')
    t.equal(await messageInLog(bob, 'filler 40').count(), 0, 'the history is loaded around the message, not from the newest')
    t.equal(await bob.getByRole('log').getByRole('img', { name: 'chart.png' }).count(), 1, 'older messages come with it, files too')

    t.ok(await bob.getByRole('button', { name: 'Load newer' }).isVisible(), 'a button loads newer messages too')
    await until('reading forward reaches the newest', async () => {
      if (await messageInLog(bob, 'filler 40').count() > 0) return true
      // As a reader does: scroll to the bottom, and the next page comes.
      await bob.getByRole('log').evaluate((log) => { log.scrollTop = log.scrollHeight })
      return false
    }, 20000)
    t.equal(await messageInLog(bob, 'filler 30').count(), 1, 'with nothing skipped')
    await say(alice, 'live again')
    await waitForMessage(bob, 'live again')
    t.pass('new messages show once the window reached the newest')
  })

  t.test('no page errors on the way', async t => {
    t.same(errors, [])
  })
})
