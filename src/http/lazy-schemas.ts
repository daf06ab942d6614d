import SerializerSelector from '@fastify/fast-json-stringify-compiler'

/**
 * Fastify compiles every route's validators and response serializers while
 * starting; with some ninety routes that was most of the start-up CPU, and a
 * node restarted by Passenger or a supervisor answers nothing until it is
 * done. Compiling each one when its route is first used moves that cost to a
 * first request (a few milliseconds), and routes nobody calls cost nothing.
 */
export function lazily<Args extends unknown[], Result> (compile: () => (...args: Args) => Result): (...args: Args) => Result {
  let compiled: ((...args: Args) => Result) | null = null
  return (...args) => {
    compiled ??= compile()
    return compiled(...args)
  }
}

/** Fastify's own serializer factory, compiling each route's serializer on its first answer. */
export function lazySerializers (): SerializerSelector.SerializerFactory {
  const eager = SerializerSelector()
  return (externalSchemas, options) => {
    const compile = eager(externalSchemas, options)
    return route => lazily(() => compile(route))
  }
}
