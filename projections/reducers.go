package projections

import "time"

// Reducers returns every projection of the ledger, each under its persisted
// name. loc is the establishments' time zone.
func Reducers(loc *time.Location) []Reducer {
	return []Reducer{
		NewDirectory(),
		NewStudentFile(),
		NewOffice(),
		NewTextbook(),
		NewMailbox(),
		NewNotifications(),
		NewBookings(),
		NewNews(),
		NewAudit(),
		NewIndicators(loc),
		NewConsultations(),
		NewErasures(),
		NewAlerts(),
	}
}
