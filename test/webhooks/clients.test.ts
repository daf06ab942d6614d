import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { IncomingWebhook } from '@slack/webhook'
import { as, buildTestApp, register } from '../helper.js'

const run = promisify(execFile)

t.test('real clients: the published Slack notifier and curl', async t => {
  const app = await buildTestApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const owner = await register(app, 'owner')
  await as(app, owner, 'POST', '/api/rooms', { name: 'alerts' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  const res = await app.inject({ method: 'POST', url: '/api/rooms/alerts/incoming-webhooks', headers: { cookie: owner.cookie, host: `127.0.0.1:${address.port}` }, payload: { name: 'Monitor' } })
  const url = res.json().url as string
  t.equal(new URL(url).port, String(address.port), 'the URL names the host the request came to')

  const slack = new IncomingWebhook(url, { username: 'Uptime' })
  const answer = await slack.send({ text: 'api.example.com is down', attachments: [{ color: 'danger', text: 'since 10:02' }] })
  t.same(answer, { text: 'ok' })
  const plain = await slack.send('plain string from the Slack client')
  t.same(plain, { text: 'ok' })

  const curl = await run('curl', ['-fsS', '-X', 'POST', '-H', 'Content-type: application/json', '--data', '{"text":"Hello from curl"}', url])
  t.equal(curl.stdout, 'ok')
  const wrong = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--data', 'text=x', url.replace(/[^/]+$/, 'x'.repeat(43))])
  t.equal(wrong.stdout, '404')

  const events = (await as(app, owner, 'GET', '/api/rooms/alerts/messages')).json().events as Array<{ text: string, user: { displayName: string, bot?: boolean } }>
  t.match(events, [
    { text: 'api.example.com is down', user: { displayName: 'Uptime', bot: true } },
    { text: 'plain string from the Slack client', user: { displayName: 'Uptime' } },
    { text: 'Hello from curl', user: { displayName: 'Monitor', bot: true } }
  ])
})
