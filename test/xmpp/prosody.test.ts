import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startFlakyProxy } from '../helpers/flaky-proxy.js'
import { $iq, $pres, MUC_NS, type StropheClient } from './strophe-client.js'
import { runConversation, type Outcome } from './strophe-script.js'
import { stageOurs } from './strophe-stage.js'

// The differential check: the same Strophe.js conversation (strophe-script.ts)
// against Debian's Prosody, a reference XMPP server, and against this product;
// the outcomes must be equal except for the deviations listed here (and in
// docs/XMPP.md). Prosody runs as a process of the test's own: its own config,
// data folder and loopback port, never the system service.

const PROSODY = '/usr/bin/prosody'
const PROSODYCTL = '/usr/bin/prosodyctl'
const password = 'correct horse battery'

/** Where the two servers are known to differ, and what each answers. */
const deviations: Partial<Record<keyof Outcome, { ours: unknown, prosody: unknown, why: string }>> = {
  joinNowhere: {
    ours: 'cancel/item-not-found',
    prosody: 'cancel/not-allowed',
    why: 'rooms are created in the chat, not by a join: a join to a room that does not exist is item-not-found ' +
      '(XEP-0045 §7.2.6 leaves room creation to the service); Prosody with restrict_room_creation says not-allowed'
  },
  chatFromFullJid: {
    ours: false,
    prosody: true,
    why: 'a one-to-one message is a message in our direct room, not a stanza routed from one stream to another: it ' +
      'comes from the sender\'s bare JID (RFC 6121 §5.2.2 allows either), so a reply goes to all of the sender\'s clients'
  }
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const address = s.address()
      s.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0) })
    })
  })
}

interface Teardown { teardown (fn: () => unknown): void }

/** Starts Prosody with a config of its own; its BOSH URL. */
async function startProsody (t: Teardown, domain: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prosody-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await mkdir(join(dir, 'data'))
  await mkdir(join(dir, 'certs'))
  const port = await freePort()
  const config = join(dir, 'prosody.cfg.lua')
  await writeFile(config, `
-- Written by test/xmpp/prosody.test.ts: loopback only, no c2s/s2s ports, BOSH over HTTP.
run_as_root = true
pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
certificates = "${dir}/certs"
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "bosh" }
modules_disabled = { "s2s"; "c2s"; "tls"; "offline"; "posix" }
c2s_ports = {}
s2s_ports = {}
component_ports = {}
http_ports = { ${port} }
http_interfaces = { "127.0.0.1" }
https_ports = {}
consider_bosh_secure = true
allow_unencrypted_plain_auth = true
authentication = "internal_hashed"
storage = "internal"
log = { { levels = { min = "info" }, to = "file", filename = "${dir}/prosody.log" } }
admins = { "alice@${domain}" }
VirtualHost "${domain}"
Component "conference.${domain}" "muc"
  restrict_room_creation = true
`)
  for (const user of ['alice', 'bob']) {
    const r = spawnSync(PROSODYCTL, ['--config', config, 'register', user, domain, password], { encoding: 'utf8', timeout: 60000 })
    if (r.status !== 0) throw new Error(`prosodyctl register ${user}: ${r.status ?? r.signal ?? ''} ${r.stderr} ${r.stdout}`)
  }
  const child = spawn(PROSODY, ['-F', '--config', config], { stdio: 'ignore' })
  t.teardown(async () => {
    if (child.exitCode !== null) return
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  })
  const url = `http://127.0.0.1:${port}/http-bind`
  const deadline = Date.now() + 60000
  for (;;) {
    try {
      const res = await fetch(url)
      if (res.status === 200) return url
    } catch {}
    if (child.exitCode !== null) throw new Error(`prosody exited with ${child.exitCode}`)
    if (Date.now() > deadline) throw new Error('prosody did not start serving BOSH')
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

/** Prosody: the owner's join created the room, locked; accept the default configuration (an instant room). */
async function instantRoom (alice: StropheClient, room: string): Promise<void> {
  await alice.iq($iq({ type: 'set', to: room }).c('query', { xmlns: 'http://jabber.org/protocol/muc#owner' }).c('x', { xmlns: 'jabber:x:data', type: 'submit' }))
}

const prosodyMissing = existsSync(PROSODY) && existsSync(PROSODYCTL) ? false : `Debian's prosody is not installed (${PROSODY}); .ci/install-proxies.sh installs it`

t.test('the same Strophe.js conversation against Prosody and against this product', { skip: prosodyMissing }, async t => {
  t.setTimeout(300000)
  const domain = 'chat.test'
  const muc = `conference.${domain}`

  // Prosody: rooms come into being when their owner (alice, an admin) joins them.
  const prosodyBosh = await startProsody(t, domain)
  const prosodyProxy = await startFlakyProxy(t, prosodyBosh, 'replay-me')
  const prosody = await runConversation({
    service: prosodyProxy.url,
    domain,
    muc,
    password,
    lobby: 'lobby',
    banned: 'strict',
    nowhere: 'nowhere',
    afterOwnerJoin: async (alice, lobby) => {
      await instantRoom(alice, lobby)
      const strict = `strict@${muc}`
      alice.send($pres({ to: `${strict}/alice` }).c('x', { xmlns: MUC_NS }))
      await alice.take('self-presence in strict', s => s.nodeName === 'presence' && (s.getAttribute('from') ?? '').startsWith(`${strict}/`))
      await instantRoom(alice, strict)
      await alice.iq($iq({ type: 'set', to: strict }).c('query', { xmlns: 'http://jabber.org/protocol/muc#admin' }).c('item', { affiliation: 'outcast', jid: `bob@${domain}` }))
    }
  })

  // This product: rooms and bans are made in the chat (here through the web API).
  const oursProxy = await stageOurs(t, domain, password)
  const ours = await runConversation({ service: oursProxy.service, domain, muc, password, lobby: 'lobby', banned: 'strict', nowhere: 'nowhere' })

  t.equal(prosodyProxy.dropped(), 1, 'one answer lost in front of Prosody')
  t.equal(oursProxy.dropped(), 1, 'one answer lost in front of ours')
  for (const key of Object.keys(prosody) as Array<keyof Outcome>) {
    const deviation = deviations[key]
    if (deviation === undefined) {
      t.same(ours[key], prosody[key], `${key}: as Prosody`)
    } else {
      t.same(ours[key], deviation.ours, `${key}: ours (documented deviation: ${deviation.why})`)
      t.same(prosody[key], deviation.prosody, `${key}: Prosody`)
    }
  }
  t.comment(`Prosody: ${JSON.stringify(prosody)}`)
})
