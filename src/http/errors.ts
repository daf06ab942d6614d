/** The error codes of the API contract, with the status each one answers. */
export const errorStatus = {
  invalid: 400,
  unauthenticated: 401,
  bad_credentials: 401,
  forbidden: 403,
  csrf: 403,
  not_member: 403,
  banned: 403,
  not_found: 404,
  username_taken: 409,
  room_exists: 409,
  cursor_reset: 409,
  too_large: 413,
  range_not_satisfiable: 416,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503
} as const

export type ErrorCode = keyof typeof errorStatus

export interface ErrorExtras {
  /** For `invalid`: each bad field's name mapped to what is wrong with it. */
  fields?: Record<string, string>
  /** For `cursor_reset`: the head to start again from. */
  cursor?: string
  /** Seconds, sent as the Retry-After header (429, 503). */
  retryAfter?: number
}

/**
 * A failure the client caused or must react to. Routes and services throw it;
 * the one error handler turns it into `{error: {code, message, ...}}`.
 */
export class AppError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly extras: ErrorExtras

  constructor (code: ErrorCode, message: string, extras: ErrorExtras = {}) {
    super(message)
    this.name = 'AppError'
    this.code = code
    this.statusCode = errorStatus[code]
    this.extras = extras
  }
}
