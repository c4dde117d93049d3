// Package delivery reaches families where they are: it turns the acts a
// family member is notified of into push notifications, e-mails and text
// messages, each delivery keyed (notification, channel, recipient) in a
// table of the event store's database so that it happens once across
// restarts and nodes, retried with exponential backoff and jitter, given
// up on after the last retry (a dead letter the school-life office may
// resend), and its outcome appended to the log in batches.
//
// See docs/notifications.md.
package delivery
