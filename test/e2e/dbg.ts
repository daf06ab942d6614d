import { launchBrowser, startChat, register, createRoom, say } from './helpers.js'
const cleanups: Array<() => unknown> = []
const t = { teardown: (fn: () => unknown) => { cleanups.push(fn) } }
try {
  const chat = await startChat(t, { basePath: process.env.BP ?? '' })
  const browser = await launchBrowser(t)
  const page = await (await browser.newContext()).newPage()
  page.on('console', m => console.log('console:', m.type(), m.text()))
  page.on('response', r => { if (r.url().includes('/api/')) console.log('resp', r.request().method(), r.url(), r.status()) })
  await register(page, chat.home, 'alice')
  console.log('registered')
  await createRoom(page, 'lobby').catch(e => console.log('createRoom failed', e.message))
  await page.screenshot({ path: '/tmp/dbg/1.png' })
  await say(page, 'hello').catch(e => console.log(e.message))
  await page.waitForTimeout(1500)
  await page.screenshot({ path: '/tmp/dbg/2.png' })
  console.log(chat.server.output().split('\n').filter(l => /"level":[45]/.test(l)).join('\n'))
} finally {
  for (const fn of cleanups.reverse()) await fn()
}
