import { Type } from 'typebox'

/*
 * Bounded primitives shared by every route. Lengths count Unicode code points
 * (ajv counts them, not UTF-16 units), as the contract says.
 */
export const Id = Type.String({ pattern: '^[0-9]{1,18}$', description: 'A numeric id, as a string of digits' })
export const Username = Type.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$' })
export const Password = Type.String({ minLength: 8, maxLength: 1024 })
// Text takes tab and newline but no other C0 control character (they could hide
// text, break logs and other clients' layouts, and each costs 6 bytes of event
// JSON); single-line names take none at all. Lookaheads keep these linear.
const textPattern = '^(?![\\s\\S]*[\\u0000-\\u0008\\u000b-\\u001f])[\\s\\S]*\\S'
const linePattern = '^(?![\\s\\S]*[\\u0000-\\u001f\\u007f])[\\s\\S]*\\S'
export const DisplayName = Type.String({ minLength: 1, maxLength: 64, pattern: linePattern })
export const RoomName = Type.String({ minLength: 1, maxLength: 64, pattern: '^(?![0-9]+$)[a-z0-9_-]+$', description: 'a-z 0-9 _ -, not only digits' })
/** `:room` in a path: a room id or a channel name. */
export const RoomRef = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_-]+$' })
export const MessageText = Type.String({ minLength: 1, maxLength: 4000, pattern: textPattern, description: '1-4000 characters, not only white space, no control characters but tab and newline' })
export const ClientId = Type.String({ minLength: 1, maxLength: 64, pattern: linePattern, description: '1-64 characters, not only white space, no control characters' })
/** A channel's topic: one line, 0-250 characters (empty clears it). */
export const RoomTopic = Type.String({ maxLength: 250, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })
export const TokenName = Type.String({ minLength: 1, maxLength: 64, pattern: linePattern })

export const UserSchema = Type.Object({ id: Id, username: Type.String(), displayName: Type.String(), bot: Type.Optional(Type.Literal(true)) })

export const EventSchema = Type.Object({
  id: Type.Union([Id, Type.Null()]),
  type: Type.String(),
  roomId: Type.Union([Id, Type.Null()]),
  user: UserSchema,
  createdAt: Type.String()
}, { additionalProperties: true, description: 'An event; each type adds its own fields (see API.md)' })

export const RoomSchema = Type.Object({
  id: Id,
  name: Type.Union([Type.String(), Type.Null()]),
  kind: Type.Union([Type.Literal('channel'), Type.Literal('direct')]),
  visibility: Type.Union([Type.Literal('public'), Type.Literal('private')]),
  topic: Type.Union([Type.String(), Type.Null()])
})

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    fields: Type.Optional(Type.Record(Type.String(), Type.String())),
    cursor: Type.Optional(Type.String())
  })
}, { description: 'Every failure, in one shape' })

export const NoContent = Type.Null({ description: 'No content' })

export const RoomParams = Type.Object({ room: RoomRef })
