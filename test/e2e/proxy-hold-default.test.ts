import t from 'tap'
import { quietBehindProxy } from './quiet-behind-proxy.js'

// The default POLL_TIMEOUT (25 s) fits under the proxy's 30 s: nothing to learn.
t.setTimeout(8 * 60 * 1000)

t.test('the default POLL_TIMEOUT behind Squid (read_timeout 30 s)', async t => {
  await quietBehindProxy(t, null)
})
