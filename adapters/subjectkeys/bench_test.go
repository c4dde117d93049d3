package subjectkeys_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/domain"
)

// BenchmarkSeal compares sealing with a person key (a name) and with a
// category key (a message), the keys cached.
func BenchmarkSeal(b *testing.B) {
	ctx := context.Background()
	reg := domain.NewRegistry()
	c, err := subjectkeys.New(subjectkeys.NewMemory(), reg)
	if err != nil {
		b.Fatal(err)
	}
	a := uuid.New()
	md := domain.Metadata{Establishment: "0750001A", Time: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	for name, e := range map[string]domain.Event{
		"person":   domain.AccountOpened{Account: a, DisplayName: "Zoé Martin"},
		"category": domain.MessageSent{Message: uuid.New(), From: a, Subject: "Sortie", Body: "Rendez-vous à 8 h devant le collège."},
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Seal(ctx, md, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
