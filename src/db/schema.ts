import type { ColumnType } from 'kysely'

/*
 * The typed shape of every table. Integer ids come back as strings from MySQL
 * (bigNumberStrings, so 64-bit ids survive) and as numbers from SQLite: the
 * repositories normalise them. Row types live in src/db/rows.ts and never leave a repository.
 */
type Id = ColumnType<string | number, string | number, string | number>
type GeneratedId = ColumnType<string | number, string | number | undefined, never>
type Millis = ColumnType<string | number, number, number>
type NullableMillis = ColumnType<string | number | null, number | null | undefined, number | null>

export interface UsersTable {
  id: GeneratedId
  username: string
  display_name: string
  password_hash: string
  is_admin: ColumnType<number, number | undefined, number>
  session_version: ColumnType<number, number | undefined, number>
  created_at: Millis
  last_seen_at: NullableMillis
  is_bot: ColumnType<number, number | undefined, number>
  disabled_at: NullableMillis
  /** 1 while the user's latest poll said no input in any tab for a while (see src/poll/presence.ts). */
  away: ColumnType<number, number | undefined, number>
}

export interface RevokedSessionsTable {
  session_id: string
  user_id: Id
  expires_at: Millis
}

export interface ApiTokensTable {
  id: GeneratedId
  user_id: Id
  name: string
  token_hash: string
  created_at: Millis
  last_used_at: NullableMillis
}

export interface RoomsTable {
  id: GeneratedId
  name: string | null
  kind: 'channel' | 'direct'
  visibility: 'public' | 'private'
  direct_key: string | null
  created_by: Id
  created_at: Millis
  topic: ColumnType<string | null, string | null | undefined, string | null>
  archived_at: NullableMillis
}

export interface MembershipsTable {
  room_id: Id
  user_id: Id
  role: 'owner' | 'moderator' | 'member'
  joined_at: Millis
  last_read_event_id: ColumnType<string | number, number | undefined, number>
}

export interface EventSeqTable {
  id: number
  last_id: ColumnType<string | number, number, number>
}

export interface EventsTable {
  id: Id
  room_id: ColumnType<string | number | null, string | number | null, never>
  user_id: Id
  target_user_id: ColumnType<string | number | null, string | number | null, never>
  type: string
  body: string | null
  created_at: Millis
}

/** Membership over the stream: from the join event to the leave event, both included. */
export interface MembershipSpansTable {
  user_id: Id
  room_id: Id
  joined_event_id: Id
  left_event_id: ColumnType<string | number | null, string | number | null | undefined, string | number | null>
}

export interface HousekeepingLeasesTable {
  name: string
  holder: string
  expires_at: Millis
}

export interface MessagesTable {
  id: Id
  room_id: Id
  user_id: Id
  text: string
  client_id: string | null
  created_at: Millis
  edited_at: NullableMillis
  deleted_at: NullableMillis
}

export interface EphemeralEventsTable {
  id: GeneratedId
  room_id: Id
  user_id: Id
  type: string
  created_at: Millis
}

export interface RateLimitsTable {
  bucket: string
  hits: ColumnType<number, number, number>
  reset_at: Millis
}

export interface AttachmentsTable {
  id: GeneratedId
  message_id: ColumnType<string | number | null, string | number | null | undefined, string | number | null>
  room_id: Id
  user_id: Id
  name: string
  size: ColumnType<string | number, number, number>
  content_type: string
  width: number | null
  height: number | null
  storage_key: string
  created_at: Millis
  deleted_at: NullableMillis
}

export interface AttachmentChunksTable {
  storage_key: string
  seq: number
  data: Buffer
}

export interface IncomingWebhooksTable {
  id: GeneratedId
  room_id: Id
  name: string
  secret_hash: string
  bot_user_id: Id
  created_by: Id
  created_at: Millis
  last_used_at: NullableMillis
}

export interface OutgoingWebhooksTable {
  id: GeneratedId
  room_id: Id
  url: string
  /** Comma-separated event types. */
  events: string
  secret: string
  bot_user_id: Id
  created_by: Id
  created_at: Millis
  last_delivered_event_id: ColumnType<string | number, number | undefined, number>
  failing: ColumnType<number, number | undefined, number>
  last_error: string | null
  attempts: ColumnType<number, number | undefined, number>
  first_failure_at: NullableMillis
  next_attempt_at: ColumnType<string | number, number | undefined, number>
}

export interface WebhookLeasesTable {
  webhook_id: Id
  holder: string | null
  expires_at: ColumnType<string | number, number | undefined, number>
}

export interface RoomBansTable {
  room_id: Id
  user_id: Id
  by_user_id: Id
  created_at: Millis
}

export interface BlocksTable {
  user_id: Id
  blocked_user_id: Id
  created_at: Millis
}

export interface MentionsTable {
  message_id: Id
  room_id: Id
  user_id: Id
}

export interface InvitesTable {
  code: string
  created_by: Id
  uses_left: ColumnType<number | string, number, number>
  expires_at: Millis
  created_at: Millis
}

/** A signed-in BOSH session any node can continue (src/xmpp/session-store.ts). */
export interface BoshSessionsTable {
  id: string
  user_id: Id
  version: ColumnType<number, number, number>
  rid: ColumnType<string | number, number, number>
  event_cursor: ColumnType<string | number | null, number | null, number | null>
  previous_cursor: ColumnType<string | number | null, number | null, number | null>
  state: string
  expires_at: Millis
}

export interface SchemaMigrationsTable {
  name: string
  applied_at: Millis
}

export interface Database {
  users: UsersTable
  revoked_sessions: RevokedSessionsTable
  api_tokens: ApiTokensTable
  rooms: RoomsTable
  memberships: MembershipsTable
  event_seq: EventSeqTable
  events: EventsTable
  messages: MessagesTable
  membership_spans: MembershipSpansTable
  housekeeping_leases: HousekeepingLeasesTable
  ephemeral_events: EphemeralEventsTable
  rate_limits: RateLimitsTable
  attachments: AttachmentsTable
  attachment_chunks: AttachmentChunksTable
  incoming_webhooks: IncomingWebhooksTable
  outgoing_webhooks: OutgoingWebhooksTable
  webhook_leases: WebhookLeasesTable
  room_bans: RoomBansTable
  blocks: BlocksTable
  mentions: MentionsTable
  invites: InvitesTable
  bosh_sessions: BoshSessionsTable
  schema_migrations: SchemaMigrationsTable
}
