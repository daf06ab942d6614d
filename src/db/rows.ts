/*
 * The rows repositories read, as the drivers return them: integer columns are
 * strings from MySQL and numbers from SQLite. Only repositories (and the feed's
 * reader) see these; they turn them into the app's types.
 */

export interface UserRow {
  id: string | number
  username: string
  display_name: string
  is_admin: number | string
  session_version: number | string
  password_hash: string
  disabled_at: number | string | null
}

export interface RoomRow {
  id: string | number
  name: string | null
  kind: 'channel' | 'direct'
  visibility: 'public' | 'private'
  topic: string | null
  archived_at: string | number | null
}

/** An event joined with its author, as the feed reads it. */
export interface EventRow {
  id: string | number
  room_id: string | number | null
  user_id: string | number
  target_user_id: string | number | null
  type: string
  body: string | null
  created_at: string | number
  username: string | null
  display_name: string | null
  is_bot: number | string | null
}
