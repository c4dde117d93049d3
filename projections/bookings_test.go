package projections_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

const (
	bkgUAI   = "0750001A"
	bkgOther = "0690002B"
)

var (
	bkgT1, bkgT2, bkgCPE = rmID(1), rmID(2), rmID(3)
	bkgRoom, bkgBeamer   = rmID(10), rmID(11)
	bkgElsewhere         = rmID(12)
	bkgB1, bkgB2         = rmID(20), rmID(21) // weekly, approved; once, pending
	bkgB3, bkgB4         = rmID(22), rmID(23) // refused; weekly, cancelled
	bkgBase              = time.Date(2006, 3, 1, 8, 0, 0, 0, time.UTC)
)

// bkgAt is minute m of the bookings history.
func bkgAt(m int) time.Time { return bkgBase.Add(time.Duration(m) * time.Minute) }

// bkgUTC is hour h of a day in Paris, in UTC.
func bkgUTC(day string, h int) time.Time {
	d := domain.MustDate(day)
	return time.Date(d.Year, d.Month, d.Day, h, 0, 0, 0, paris).UTC()
}

// bookingsHistory: three resources in two establishments; a weekly booking
// across the change of clocks (approved), a one-off (pending), a refused
// one and a weekly one cancelled.
func bookingsHistory(t *testing.T) *world {
	w := newWorld(t)
	byCPE := actor{id: bkgCPE, profile: domain.ProfilePersonnel, uai: bkgUAI}
	byT1, byT2 := teacherOf(bkgUAI, bkgT1), teacherOf(bkgUAI, bkgT2)
	room := domain.ResourceStream(bkgRoom)

	emitAt(w, bkgAt(0), byCPE, room, domain.ResourceRegistered{
		Resource: bkgRoom, Establishment: bkgUAI, Kind: domain.ResourceRoom, Name: "Salle 12", ApprovalRequired: true,
	})
	emitAt(w, bkgAt(1), byCPE, domain.ResourceStream(bkgBeamer), domain.ResourceRegistered{
		Resource: bkgBeamer, Establishment: bkgUAI, Kind: domain.ResourceEquipment, Name: "Projecteur",
	})
	emitAt(w, bkgAt(2), actor{id: bkgCPE, profile: domain.ProfilePersonnel, uai: bkgOther}, domain.ResourceStream(bkgElsewhere),
		domain.ResourceRegistered{Resource: bkgElsewhere, Establishment: bkgOther, Kind: domain.ResourceRoom, Name: "CDI"})
	// Mondays 10:00-11:00 Paris time from 20 March to 3 April 2006: the
	// clocks change on 26 March, so the UTC hour moves and the local one
	// does not.
	emitAt(w, bkgAt(3), byT1, room, domain.BookingRequested{
		Booking: bkgB1, Resource: bkgRoom, By: bkgT1, Start: bkgUTC("2006-03-20", 10), End: bkgUTC("2006-03-20", 11),
		RepeatUntil: domain.MustDate("2006-04-03"), Purpose: "Club théâtre",
	})
	emitAt(w, bkgAt(4), byCPE, room, domain.BookingApproved{Booking: bkgB1, Resource: bkgRoom})
	emitAt(w, bkgAt(5), byT2, room, domain.BookingRequested{
		Booking: bkgB2, Resource: bkgRoom, By: bkgT2, Start: bkgUTC("2006-03-21", 14), End: bkgUTC("2006-03-21", 15),
	})
	emitAt(w, bkgAt(6), byT2, room, domain.BookingRequested{
		Booking: bkgB3, Resource: bkgRoom, By: bkgT2, Start: bkgUTC("2006-03-22", 9), End: bkgUTC("2006-03-22", 10),
	})
	emitAt(w, bkgAt(7), byCPE, room, domain.BookingRefused{Booking: bkgB3, Resource: bkgRoom, Reason: "Examens"})
	emitAt(w, bkgAt(8), byT1, room,
		domain.BookingRequested{
			Booking: bkgB4, Resource: bkgRoom, By: bkgT1, Start: bkgUTC("2006-03-23", 8), End: bkgUTC("2006-03-23", 9),
			RepeatUntil: domain.MustDate("2006-03-30"),
		},
		domain.BookingApproved{Booking: bkgB4, Resource: bkgRoom},
	)
	emitAt(w, bkgAt(9), byT1, room, domain.BookingCancelled{Booking: bkgB4, Resource: bkgRoom})
	// A refused booking stays refused.
	emitAt(w, bkgAt(10), byCPE, room, domain.BookingApproved{Booking: bkgB3, Resource: bkgRoom})
	return w
}

func TestBookings(t *testing.T) {
	w := bookingsHistory(t)
	local := func(day string, h, m int) time.Time {
		d := domain.MustDate(day)
		return time.Date(d.Year, d.Month, d.Day, h, m, 0, 0, paris)
	}
	occ := func(b, by uuid.UUID, day string, h int, state domain.BookingState, purpose string) projections.BookingOccurrence {
		return projections.BookingOccurrence{
			Booking: b, Resource: bkgRoom, Start: bkgUTC(day, h), End: bkgUTC(day, h+1), State: state, By: by, Purpose: purpose,
		}
	}
	theatre := func(day string) projections.BookingOccurrence {
		return occ(bkgB1, bkgT1, day, 10, domain.BookingStateApproved, "Club théâtre")
	}
	pending := occ(bkgB2, bkgT2, "2006-03-21", 14, domain.BookingStatePending, "")
	// The local hour holds across the change of clocks.
	if h1, h2 := bkgUTC("2006-03-20", 10).Hour(), bkgUTC("2006-03-27", 10).Hour(); h1 != 9 || h2 != 8 {
		t.Fatalf("10:00 in Paris is %d:00 UTC on 20 March and %d:00 on the 27th, want 9 and 8", h1, h2)
	}

	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 3, projections.NewBookings())

		t.Run("resources", func(t *testing.T) {
			got := mustOK[[]projections.ResourceEntry](t)(q.Resources(ctx, bkgUAI))
			mustEqualJSON(t, "resources", got, []projections.ResourceEntry{
				{Resource: bkgBeamer, Establishment: bkgUAI, Kind: domain.ResourceEquipment, Name: "Projecteur"},
				{Resource: bkgRoom, Establishment: bkgUAI, Kind: domain.ResourceRoom, Name: "Salle 12", ApprovalRequired: true},
			})
			got = mustOK[[]projections.ResourceEntry](t)(q.Resources(ctx, bkgOther))
			mustEqualJSON(t, "resources elsewhere", got, []projections.ResourceEntry{
				{Resource: bkgElsewhere, Establishment: bkgOther, Kind: domain.ResourceRoom, Name: "CDI"},
			})
		})

		for _, c := range []struct {
			name     string
			resource uuid.UUID
			from, to time.Time
			want     []projections.BookingOccurrence
		}{
			{"three weeks", bkgRoom, local("2006-03-20", 0, 0), local("2006-04-10", 0, 0), []projections.BookingOccurrence{
				theatre("2006-03-20"), pending, theatre("2006-03-27"), theatre("2006-04-03"),
			}},
			{"one week", bkgRoom, local("2006-03-27", 0, 0), local("2006-04-03", 0, 0), []projections.BookingOccurrence{theatre("2006-03-27")}},
			{"overlapping its start", bkgRoom, local("2006-03-20", 10, 30), local("2006-03-20", 12, 0), []projections.BookingOccurrence{theatre("2006-03-20")}},
			{"ending as it starts", bkgRoom, local("2006-03-20", 8, 0), local("2006-03-20", 10, 0), []projections.BookingOccurrence{}},
			{"starting as it ends", bkgRoom, local("2006-03-20", 11, 0), local("2006-03-20", 12, 0), []projections.BookingOccurrence{}},
			{"no bounds", bkgRoom, time.Time{}, time.Time{}, []projections.BookingOccurrence{
				theatre("2006-03-20"), pending, theatre("2006-03-27"), theatre("2006-04-03"),
			}},
			// The last instant there is: no key sorts after it.
			{"to the last instant", bkgRoom, local("2006-03-20", 0, 0), time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -23*3600)), []projections.BookingOccurrence{
				theatre("2006-03-20"), pending, theatre("2006-03-27"), theatre("2006-04-03"),
			}},
			{"another resource", bkgBeamer, time.Time{}, time.Time{}, []projections.BookingOccurrence{}},
		} {
			t.Run(c.name, func(t *testing.T) {
				got := mustItems[projections.BookingOccurrence](t)(q.Bookings(ctx, c.resource, c.from, c.to, projections.Page{}))
				mustEqualJSON(t, "bookings", got, c.want)
			})
		}

		t.Run("booking documents", func(t *testing.T) {
			got := mustOK[*projections.BookingEntry](t)(q.Booking(ctx, bkgB1))
			mustEqualJSON(t, "approved weekly booking", got, projections.BookingEntry{
				Booking: bkgB1, Resource: bkgRoom, By: bkgT1, Start: bkgUTC("2006-03-20", 10), End: bkgUTC("2006-03-20", 11),
				RepeatUntil: domain.MustDate("2006-04-03"), Purpose: "Club théâtre", State: domain.BookingStateApproved,
				RequestedAt: bkgAt(3), DecidedAt: bkgAt(4), DecidedBy: bkgCPE,
				Occurrences: []projections.BookingInterval{
					{Start: bkgUTC("2006-03-20", 10), End: bkgUTC("2006-03-20", 11)},
					{Start: bkgUTC("2006-03-27", 10), End: bkgUTC("2006-03-27", 11)},
					{Start: bkgUTC("2006-04-03", 10), End: bkgUTC("2006-04-03", 11)},
				},
			})
			// The domain's expansion, in the same time zone.
			want := domain.WeeklyOccurrences(got.Start, got.End, got.RepeatUntil, paris)
			if len(want) != len(got.Occurrences) {
				t.Fatalf("%d occurrences, the domain expands %d", len(got.Occurrences), len(want))
			}
			for i, o := range want {
				if !o.Start.Equal(got.Occurrences[i].Start) || !o.End.Equal(got.Occurrences[i].End) {
					t.Errorf("occurrence %d: %v, the domain says %v", i, got.Occurrences[i], o)
				}
			}

			got = mustOK[*projections.BookingEntry](t)(q.Booking(ctx, bkgB3))
			mustEqualJSON(t, "refused booking", got, projections.BookingEntry{
				Booking: bkgB3, Resource: bkgRoom, By: bkgT2, Start: bkgUTC("2006-03-22", 9), End: bkgUTC("2006-03-22", 10),
				State: domain.BookingStateRefused, Reason: "Examens", RequestedAt: bkgAt(6), DecidedAt: bkgAt(7), DecidedBy: bkgCPE,
				Occurrences: []projections.BookingInterval{{Start: bkgUTC("2006-03-22", 9), End: bkgUTC("2006-03-22", 10)}},
			})
			got = mustOK[*projections.BookingEntry](t)(q.Booking(ctx, bkgB4))
			mustEqualJSON(t, "cancelled booking", got, projections.BookingEntry{
				Booking: bkgB4, Resource: bkgRoom, By: bkgT1, Start: bkgUTC("2006-03-23", 8), End: bkgUTC("2006-03-23", 9),
				RepeatUntil: domain.MustDate("2006-03-30"), State: domain.BookingStateCancelled,
				RequestedAt: bkgAt(8), DecidedAt: bkgAt(9), DecidedBy: bkgT1,
				Occurrences: []projections.BookingInterval{
					{Start: bkgUTC("2006-03-23", 8), End: bkgUTC("2006-03-23", 9)},
					{Start: bkgUTC("2006-03-30", 8), End: bkgUTC("2006-03-30", 9)},
				},
			})
			if _, err := q.Booking(ctx, rmID(99)); !errors.Is(err, domain.ErrUnknownBooking) {
				t.Errorf("unknown booking: got %v, want ErrUnknownBooking", err)
			}
		})
	})
}
