package api

// Notifications outside the portal (docs/notifications.md): a person's
// preferences and addresses, their browsers' push subscriptions, and the
// dead letters the school-life office resends.

import (
	"net/http"
	"strconv"

	"github.com/schoollife/ledger/adapters/notify/delivery"
	"github.com/schoollife/ledger/adapters/notify/webpush"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// PushSubscription is a browser's PushSubscription.toJSON().
type PushSubscription struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256DH string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// PushUnsubscription names the subscription to remove.
type PushUnsubscription struct {
	Endpoint string `json:"endpoint"`
}

// maxDeadLetters bounds the list of dead letters.
const maxDeadLetters = 200

func (s *Server) notificationRoutes() []route {
	if s.cfg.Notifications == nil {
		return nil
	}
	n := s.cfg.Notifications
	return []route{
		{
			method: "GET", path: "/api/v1/notification-preferences", tag: "notifications", status: http.StatusOK,
			summary: "The signed-in person's notification preferences (per category: instant, digest or off; channels; quiet hours; " +
				"language), their e-mail address and phone number for notifications, how many browsers are subscribed to push " +
				"notifications, and the VAPID public key a browser subscribes with",
			profiles: "any signed-in account", response: typeOf[web.NotifyView](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				v, err := n.View(r.Context(), web.PrincipalOf(r))
				if err != nil {
					return err
				}
				return reply(w, http.StatusOK, v)
			},
		},
		{
			method: "PUT", path: "/api/v1/notification-preferences", tag: "notifications", status: http.StatusOK,
			summary: "Replace the signed-in person's notification preferences (notification.preferences_set.v1) and the addresses " +
				"they give (kept beside the log, not in it); an empty address removes it. A French number (06 12 34 56 78) is " +
				"stored as +33612345678",
			profiles: "any signed-in account", request: typeOf[web.NotifySettings](), response: typeOf[commands.Result](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				var body web.NotifySettings
				if err := s.dec.JSON(w, r, &body); err != nil {
					return err
				}
				req, err := commandRequest(r)
				if err != nil {
					return err
				}
				res, err := n.Set(r.Context(), req, web.PrincipalOf(r), body)
				if err != nil {
					return err
				}
				return reply(w, http.StatusOK, res)
			},
		},
		{
			method: "POST", path: "/api/v1/push-subscriptions", tag: "notifications", status: http.StatusCreated,
			summary: "Subscribe the browser to push notifications: the body is its PushSubscription.toJSON() (an https endpoint, " +
				"its p256dh key and auth secret). The same endpoint again replaces it; an account keeps its ten newest",
			profiles: "any signed-in account", request: typeOf[PushSubscription](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				var body PushSubscription
				if err := s.dec.JSON(w, r, &body); err != nil {
					return err
				}
				sub := webpush.Subscription{Endpoint: body.Endpoint, P256DH: body.Keys.P256DH, Auth: body.Keys.Auth}
				if err := n.Subscribe(r.Context(), web.PrincipalOf(r), sub); err != nil {
					return err
				}
				w.WriteHeader(http.StatusCreated)
				return nil
			},
		},
		{
			method: "DELETE", path: "/api/v1/push-subscriptions", tag: "notifications", status: http.StatusNoContent,
			summary:  "Unsubscribe a browser of the signed-in person from push notifications, by its endpoint",
			profiles: "any signed-in account", request: typeOf[PushUnsubscription](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				var body PushUnsubscription
				if err := s.dec.JSON(w, r, &body); err != nil {
					return err
				}
				if err := n.Unsubscribe(r.Context(), web.PrincipalOf(r), body.Endpoint); err != nil {
					return err
				}
				w.WriteHeader(http.StatusNoContent)
				return nil
			},
		},
		{
			method: "GET", path: "/api/v1/establishments/{uai}/undelivered-notifications", tag: "notifications", status: http.StatusOK,
			summary: "The dead letters of an establishment: notifications whose last attempt failed (by channel and recipient, " +
				"with the last error), oldest first; never their text",
			profiles: "personnel of the establishment",
			query:    []param{{name: "limit", format: "integer", doc: "at most this many (default and most " + strconv.Itoa(maxDeadLetters) + ")"}},
			response: typeOf[[]web.DeadLetter](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				q := s.dec.Query(r)
				limit := q.LimitIn(maxDeadLetters, maxDeadLetters)
				if q.Err() != nil {
					return q.Err()
				}
				list, err := n.DeadLetters(r.Context(), web.PrincipalOf(r), r.PathValue("uai"), limit)
				if err != nil {
					return err
				}
				return reply(w, http.StatusOK, list)
			},
		},
		{
			method: "POST", path: "/api/v1/establishments/{uai}/undelivered-notifications/{notification}/{channel}/{recipient}/resend",
			tag: "notifications", status: http.StatusAccepted,
			summary: "Send a dead letter again (attempts counted afresh); its outcome is recorded like any other. 404 when " +
				"there is no such dead letter",
			profiles: "personnel of the establishment",
			handle: func(w http.ResponseWriter, r *http.Request) error {
				k, err := deliveryKey(r)
				if err != nil {
					return err
				}
				if err := n.Resend(r.Context(), web.PrincipalOf(r), r.PathValue("uai"), k); err != nil {
					return err
				}
				w.WriteHeader(http.StatusAccepted)
				return nil
			},
		},
	}
}

// deliveryKey reads a delivery's key from the path.
func deliveryKey(r *http.Request) (delivery.Key, error) {
	notification, err := web.PathID(r, "notification")
	if err != nil {
		return delivery.Key{}, err
	}
	recipient, err := web.PathID(r, "recipient")
	if err != nil {
		return delivery.Key{}, err
	}
	ch := delivery.Channel(r.PathValue("channel"))
	if !ch.Valid() {
		return delivery.Key{}, domain.Errorf(domain.ErrNotFound, "no channel %q", ch)
	}
	return delivery.Key{Notification: notification, Channel: ch, Recipient: recipient}, nil
}
