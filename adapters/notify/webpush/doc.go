// Package webpush delivers notifications to browsers through the Web Push
// protocol (RFC 8030), with the payload encrypted for the subscription
// (RFC 8291, aes128gcm of RFC 8188) and the application server identified
// by VAPID (RFC 8292). It wraps github.com/SherClockHolmes/webpush-go.
//
// The package is a building block: it holds the server's VAPID keys
// (GenerateVAPIDKeys, LoadVAPIDKeys), encodes the small JSON notification a
// service worker shows (Notification), and sends one payload to one
// subscription (Sender.Send). Each answer of the push service becomes an
// Outcome whose Result tells the caller what to do next: nothing, delete
// the subscription, shrink the payload, retry later, or give up. Keeping
// subscriptions and scheduling retries belong to the caller.
package webpush
