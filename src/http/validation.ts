import { Ajv, type Options, type ValidateFunction } from 'ajv'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

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
  // Compiled on first use (see lazy-schemas.ts); Fastify reads `errors` off the function it was given.
  app.setValidatorCompiler(({ schema, httpPart }) => {
    let compiled: ValidateFunction | null = null
    const validate = (data: unknown): boolean => {
      compiled ??= (httpPart === 'body' ? bodies : urlParts).compile(schema)
      const valid = compiled(data) as boolean
      validate.errors = compiled.errors
      return valid
    }
    validate.errors = null as ValidateFunction['errors']
    return validate
  })
}, { name: 'strict-bodies' })
