// Tables of the Twilio clone, prefixed `twilio_`. Times are run-clock milliseconds.
import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";

/** Messages (API 2010): outbound ones the app sends and inbound ones the admin API simulates. */
export const messages = sqliteTable(
  "twilio_messages",
  {
    sid: text("sid").primaryKey(),
    seq: integer("seq").notNull(),
    to: text("to").notNull(),
    from: text("from").notNull(),
    body: text("body").notNull(),
    status: text("status").notNull(),
    direction: text("direction").notNull(),
    numSegments: integer("num_segments").notNull(),
    media: text("media"),
    messagingServiceSid: text("messaging_service_sid"),
    statusCallback: text("status_callback"),
    /** What becomes of it when it settles: delivered, or undelivered with an error code. */
    outcome: text("outcome").notNull(),
    errorCode: integer("error_code"),
    errorMessage: text("error_message"),
    sendAt: integer("send_at"),
    dateCreated: integer("date_created").notNull(),
    dateUpdated: integer("date_updated").notNull(),
    dateSent: integer("date_sent"),
    /** When it next moves along its lifecycle; null once it is final. One tick job per instant moves them all. */
    nextAt: integer("next_at"),
    /** When it leaves the sender's queue (a sender sends so many segments a second). */
    dequeueAt: integer("dequeue_at"),
    /** Its ValidityPeriod in seconds, from the request or its Messaging Service. */
    validityPeriod: integer("validity_period"),
  },
  (t) => [index("twilio_messages_seq").on(t.seq), index("twilio_messages_next").on(t.nextAt)],
);

/** IncomingPhoneNumbers: the run's own numbers, with the webhooks an app configures on them. */
export const numbers = sqliteTable("twilio_numbers", {
  sid: text("sid").primaryKey(),
  seq: integer("seq").notNull(),
  phoneNumber: text("phone_number").notNull().unique(),
  friendlyName: text("friendly_name").notNull(),
  smsUrl: text("sms_url"),
  smsMethod: text("sms_method").notNull(),
  statusCallback: text("status_callback"),
  statusCallbackMethod: text("status_callback_method").notNull(),
  voiceUrl: text("voice_url"),
  /** The Messaging Service whose sender pool holds it (a number is in one service at most). */
  messagingServiceSid: text("messaging_service_sid"),
  poolDateAdded: integer("pool_date_added"),
  dateCreated: integer("date_created").notNull(),
  dateUpdated: integer("date_updated").notNull(),
});

/** Messaging v1 services: a sender pool, an inbound webhook and a status callback for their messages. */
export const messagingServices = sqliteTable("twilio_messaging_services", {
  sid: text("sid").primaryKey(),
  seq: integer("seq").notNull(),
  friendlyName: text("friendly_name").notNull(),
  inboundRequestUrl: text("inbound_request_url"),
  inboundMethod: text("inbound_method").notNull(),
  fallbackUrl: text("fallback_url"),
  fallbackMethod: text("fallback_method").notNull(),
  statusCallback: text("status_callback"),
  stickySender: integer("sticky_sender", { mode: "boolean" }).notNull(),
  useInboundWebhookOnNumber: integer("use_inbound_webhook_on_number", { mode: "boolean" }).notNull(),
  validityPeriod: integer("validity_period").notNull(),
  usecase: text("usecase").notNull(),
  dateCreated: integer("date_created").notNull(),
  dateUpdated: integer("date_updated").notNull(),
});

/** Verify v2 services. */
export const verifyServices = sqliteTable("twilio_verify_services", {
  sid: text("sid").primaryKey(),
  seq: integer("seq").notNull(),
  friendlyName: text("friendly_name").notNull(),
  codeLength: integer("code_length").notNull(),
  lookupEnabled: integer("lookup_enabled", { mode: "boolean" }).notNull(),
  skipSmsToLandlines: integer("skip_sms_to_landlines", { mode: "boolean" }).notNull(),
  dtmfInputRequired: integer("dtmf_input_required", { mode: "boolean" }).notNull(),
  doNotShareWarningEnabled: integer("do_not_share_warning_enabled", { mode: "boolean" }).notNull(),
  customCodeEnabled: integer("custom_code_enabled", { mode: "boolean" }).notNull(),
  dateCreated: integer("date_created").notNull(),
  dateUpdated: integer("date_updated").notNull(),
});

/** Verify v2 verifications; `code` is the OTP, kept here and shown only through the run's inbox. */
export const verifications = sqliteTable(
  "twilio_verifications",
  {
    sid: text("sid").primaryKey(),
    serviceSid: text("service_sid").notNull(),
    to: text("to").notNull(),
    channel: text("channel").notNull(),
    status: text("status").notNull(),
    code: text("code").notNull(),
    sendAttempts: text("send_attempts").notNull(),
    checkAttempts: integer("check_attempts").notNull(),
    expiresAt: integer("expires_at").notNull(),
    dateCreated: integer("date_created").notNull(),
    dateUpdated: integer("date_updated").notNull(),
  },
  (t) => [index("twilio_verifications_to").on(t.serviceSid, t.to)],
);

/** Each throttled sender's queue: when it is free to send its next segment (run clock). */
export const senders = sqliteTable("twilio_senders", {
  sender: text("sender").primaryKey(),
  freeAt: integer("free_at").notNull(),
});
