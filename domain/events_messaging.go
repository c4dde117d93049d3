package domain

import "github.com/google/uuid"

// MessageSent sends a message to accounts and/or groups.
type MessageSent struct {
	Message      uuid.UUID   `json:"message"`
	From         uuid.UUID   `json:"from"`
	ToAccounts   []uuid.UUID `json:"to_accounts,omitempty"`
	ToGroups     []uuid.UUID `json:"to_groups,omitempty"`
	Subject      string      `json:"subject" personal:"From,category=messages"`
	Body         string      `json:"body" personal:"From,category=messages"`
	AckRequested bool        `json:"ack_requested"`
}

func (MessageSent) EventType() string { return "message.sent.v1" }

// MessageRead records a recipient reading a message.
type MessageRead struct {
	Message uuid.UUID `json:"message"`
	Reader  uuid.UUID `json:"reader"`
}

func (MessageRead) EventType() string { return "message.read.v1" }

// MessageAcknowledged records a recipient acknowledging a message that asked
// for it.
type MessageAcknowledged struct {
	Message uuid.UUID `json:"message"`
	Reader  uuid.UUID `json:"reader"`
}

func (MessageAcknowledged) EventType() string { return "message.acknowledged.v1" }
