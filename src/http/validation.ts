import { Ajv, type Options, type ValidateFunction } from 'ajv'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Compile this route's validators as soon as the server listens, in the
     * idle time after, not on its first request: for the routes a node
     * restarted by Passenger or a supervisor is asked for first (sending).
     */
    compileEarly?: boolean
  }
  interface FastifyInstance {
    /** Validators of `compileEarly` routes not compiled yet (tests read it). */
    earlyValidatorsPending: () => number
  }
}

// Fastify's own defaults (@fastify/ajv-compiler), which the URL parts keep.
const fastifyDefaults: Options = { coerceTypes: 'array', useDefaults: true, removeAdditional: true, addUsedSchema: false, allErrors: false }

/**
 * Two validators. URL parts (path, query, headers) arrive as text, so they are
 * coerced as Fastify does (`?limit=50` is the number 50). Bodies are not: JSON
 * says what type a value is, and `["x"]` or `42` where a string belongs is a
 * mistake to refuse, never to convert. Bodies report every bad field at once.
 */
export default fp(async function strictBodies (app: FastifyInstance) {
  const urlParts = new Ajv(fastifyDefaults)
  // A body schema that closes itself (additionalProperties: false) refuses a stray field rather than dropping it.
  const bodies = new Ajv({ ...fastifyDefaults, coerceTypes: false, removeAdditional: false, allErrors: true })
  // Each instance compiles the JSON Schema meta-schema before its first schema:
  // 17 ms that the first send after a (re)start paid. Paid here, at start-up, instead.
  for (const ajv of [urlParts, bodies]) ajv.compile({ type: 'object' })
  const early = new Set<string>()
  app.addHook('onRoute', route => {
    if (route.config?.compileEarly === true) for (const method of [route.method].flat()) early.add(`${method} ${route.url}`)
  })
  const waiting: Array<() => void> = []
  // Compiled on first use (see lazy-schemas.ts); Fastify reads `errors` off the function it was given.
  app.setValidatorCompiler(({ schema, httpPart, method, url }) => {
    let compiled: ValidateFunction | null = null
    const compile = (): ValidateFunction => (compiled ??= (httpPart === 'body' ? bodies : urlParts).compile(schema))
    if (early.has(`${method} ${url}`)) waiting.push(compile)
    const validate = (data: unknown): boolean => {
      const compiledNow = compile()
      const valid = compiledNow(data) as boolean
      validate.errors = compiledNow.errors
      return valid
    }
    validate.errors = null as ValidateFunction['errors']
    return validate
  })
  app.decorate('earlyValidatorsPending', () => waiting.length)
  // One validator per turn of the event loop: requests that arrive meanwhile are not held up for long.
  const compileNext = (): void => {
    waiting.shift()?.()
    if (waiting.length > 0) setImmediate(compileNext)
  }
  app.addHook('onListen', (done) => {
    if (waiting.length > 0) setImmediate(compileNext)
    done()
  })
}, { name: 'strict-bodies' })
