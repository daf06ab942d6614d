import t from 'tap'
import { quietBehindProxy } from './quiet-behind-proxy.js'

// POLL_TIMEOUT=55 behind a proxy that cuts silent responses after 30 s: the
// client must learn a shorter hold without ever looking disconnected.
t.setTimeout(8 * 60 * 1000)

t.test('POLL_TIMEOUT=55 behind Squid (read_timeout 30 s)', async t => {
  await quietBehindProxy(t, 55)
})
