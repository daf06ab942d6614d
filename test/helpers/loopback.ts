import type { Server } from 'node:http'

interface Teardown { teardown: (fn: () => unknown) => void }

/** Listens on a free loopback port and closes at teardown, cutting held connections; gives the port. */
export async function listenLoopback (t: Teardown, server: Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return address.port
}
