-- Reaching families (adapters/notify/delivery, docs/notifications.md).
-- None of this is history: a subscription or an address is a way to reach
-- someone today, withdrawn by deleting its row (and erased with the
-- person); a delivery row is the process's work list, which makes each
-- (notification, channel, recipient) happen once. What the history keeps
-- is the preferences (notification.preferences_set.v1) and each outcome
-- (notification.sent.v1, notification.failed.v1, notification.opened.v1).
-- Times are Unix milliseconds (UTC), as on SQLite.

-- A browser's Web Push subscription (the endpoint is the push service's
-- address for that browser; p256dh and auth encrypt for it).
CREATE TABLE push_subscriptions (
    endpoint   TEXT    PRIMARY KEY,
    account    TEXT    NOT NULL,
    p256dh     TEXT    NOT NULL,
    auth       TEXT    NOT NULL,
    created_at bigint  NOT NULL
);
CREATE INDEX push_subscriptions_account ON push_subscriptions (account);

-- Addresses a family member gave (e-mail, phone for text messages); the
-- directory's are used when there is none.
CREATE TABLE notify_contacts (
    account    TEXT    NOT NULL,
    channel    TEXT    NOT NULL,  -- email, sms
    address    TEXT    NOT NULL,
    updated_at bigint  NOT NULL,
    PRIMARY KEY (account, channel)
);

-- One row per (notification, channel, recipient): inserted once (the key),
-- claimed with a lease by one process at a time, finished once.
CREATE TABLE notify_deliveries (
    notification TEXT    NOT NULL,  -- the notified event's id
    channel      TEXT    NOT NULL,  -- push, email, sms
    recipient    TEXT    NOT NULL,  -- account id
    event_type   TEXT    NOT NULL,
    establishment TEXT   NOT NULL,  -- the act's (UAI): where the outcome is recorded
    students     TEXT    NOT NULL,  -- through whom the act concerns the recipient (ids, comma-separated)
    category     TEXT    NOT NULL,
    digest       bigint  NOT NULL,  -- 1: sent with the recipient's daily digest
    data         TEXT    NOT NULL,  -- what the message says (JSON); emptied once finished
    state        TEXT    NOT NULL,  -- pending, sent, failed, dead
    attempts     bigint  NOT NULL,
    due_at       bigint  NOT NULL,
    lease_owner  TEXT    NOT NULL,
    lease_until  bigint  NOT NULL,
    last_error   TEXT    NOT NULL,
    record_batch TEXT    NOT NULL,  -- the outcome's batch of events, once chosen ('' before)
    recorded     bigint  NOT NULL,  -- 1 once the outcome is in the log
    created_at   bigint  NOT NULL,
    updated_at   bigint  NOT NULL,
    PRIMARY KEY (notification, channel, recipient)
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (state, due_at);
CREATE INDEX notify_deliveries_unrecorded ON notify_deliveries (recorded, state);

-- Where the delivery process stands in what it reads.
CREATE TABLE notify_cursors (
    name TEXT PRIMARY KEY,
    pos  TEXT NOT NULL
);
