import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import { fileURLToPath } from 'node:url'

const publicDir = fileURLToPath(new URL('../../public/', import.meta.url))

/** The web client: the files in public/, under the base path. */
export default async function staticClient (app: FastifyInstance, opts: { basePath: string }): Promise<void> {
  const { basePath } = opts
  await app.register(fastifyStatic, { root: publicDir, prefix: `${basePath}/`, index: 'index.html', cacheControl: true, maxAge: 0 })
  if (basePath !== '') {
    // ignoreTrailingSlash makes this route match `/chat/` too: only the bare path
    // redirects (so relative URLs resolve under it); the slashed one is the client.
    app.get(basePath, { schema: { hide: true } }, async (request, reply) =>
      request.url.split('?')[0]?.endsWith('/') === true
        ? await reply.sendFile('index.html')
        : await reply.redirect(`${basePath}/`))
  }
}
