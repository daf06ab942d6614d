import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { loadConfig, type Config } from './config.js'
import { passengerListenTarget } from './hosting/passenger.js'

/**
 * The process: read config, build the app, listen, and shut down cleanly.
 * Everything else lives in buildApp, which the tests call directly.
 */
async function main (): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    // A bad value stops start-up with a message naming the variable.
    process.stderr.write(`Configuration error: ${(err as Error).message}\n`)
    process.exit(1)
  }
  const app = await buildApp(config)

  closeWithGrace({ delay: config.shutdownTimeoutMs }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
  })

  const passenger = passengerListenTarget()
  if (passenger !== null) {
    await app.listen(passenger)
  } else if (typeof config.port === 'string') {
    await app.listen({ path: config.port })
  } else {
    await app.listen({ port: config.port, host: config.host })
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`Could not start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
