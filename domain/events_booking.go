package domain

import (
	"time"

	"github.com/google/uuid"
)

// ResourceKind is a room or a piece of equipment.
type ResourceKind string

// Resource kinds.
const (
	ResourceRoom      ResourceKind = "room"
	ResourceEquipment ResourceKind = "equipment"
)

// ResourceRegistered makes a room or equipment bookable.
type ResourceRegistered struct {
	Resource         uuid.UUID    `json:"resource"`
	Establishment    string       `json:"establishment"`
	Kind             ResourceKind `json:"kind"`
	Name             string       `json:"name"`
	ApprovalRequired bool         `json:"approval_required"`
}

func (ResourceRegistered) EventType() string { return "resource.registered.v1" }

// BookingRequested asks for a resource over [Start, End), repeated weekly
// until RepeatUntil (inclusive) when set.
type BookingRequested struct {
	Booking     uuid.UUID `json:"booking"`
	Resource    uuid.UUID `json:"resource"`
	By          uuid.UUID `json:"by"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	RepeatUntil Date      `json:"repeat_until,omitzero"`
	Purpose     string    `json:"purpose,omitempty"`
}

func (BookingRequested) EventType() string { return "booking.requested.v1" }

// BookingApproved approves a pending booking (automatically when the
// resource needs no approval).
type BookingApproved struct {
	Booking  uuid.UUID `json:"booking"`
	Resource uuid.UUID `json:"resource"`
}

func (BookingApproved) EventType() string { return "booking.approved.v1" }

// BookingRefused refuses a pending booking.
type BookingRefused struct {
	Booking  uuid.UUID `json:"booking"`
	Resource uuid.UUID `json:"resource"`
	Reason   string    `json:"reason,omitempty"`
}

func (BookingRefused) EventType() string { return "booking.refused.v1" }

// BookingCancelled cancels a pending or approved booking.
type BookingCancelled struct {
	Booking  uuid.UUID `json:"booking"`
	Resource uuid.UUID `json:"resource"`
	Reason   string    `json:"reason,omitempty"`
}

func (BookingCancelled) EventType() string { return "booking.cancelled.v1" }
