package commands_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// outcomes records what the handlers tell their observer.
type outcomes struct {
	mu      sync.Mutex
	done    []string // "command outcome"
	retried []string
}

func (o *outcomes) CommandDone(command, outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done = append(o.done, command+" "+outcome)
}

func (o *outcomes) CommandRetried(command string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retried = append(o.retried, command)
}

// take returns what was recorded since the last take.
func (o *outcomes) take() (done, retried []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	done, retried = o.done, o.retried
	o.done, o.retried = nil, nil
	return done, retried
}

// racer is the memory store with another writer that, once armed for a
// stream, gets an event into it just before the handlers' next append
// there: their append then meets a real version conflict.
type racer struct {
	*memory.Store
	reg    *domain.Registry
	mu     sync.Mutex
	stream string
	event  domain.Event
}

func (r *racer) arm(stream string, e domain.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stream, r.event = stream, e
}

func (r *racer) Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	r.mu.Lock()
	e := r.event
	if stream != r.stream {
		e = nil
	}
	if e != nil {
		r.event = nil
	}
	r.mu.Unlock()
	if e != nil {
		typ, data, err := r.reg.Encode(e)
		if err != nil {
			return domain.AppendResult{}, err
		}
		env := domain.Envelope{ID: uuid.New(), Type: typ, Data: data, Metadata: domain.Metadata{CorrelationID: uuid.New(), Command: "elsewhere"}}
		if _, err := r.Store.Append(ctx, stream, domain.AnyVersion(), []domain.Envelope{env}); err != nil {
			return domain.AppendResult{}, err
		}
	}
	return r.Store.Append(ctx, stream, expected, events)
}

// TestObserverOutcomes: the observer hears each command once, with its
// outcome: accepted, replayed, invalid, forbidden, conflict; and each version
// conflict retried.
func TestObserverOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := domain.NewRegistry()
	store := &racer{Store: memory.New(), reg: reg}
	obs := &outcomes{}
	h, err := commands.New(commands.Config{Store: store, Registry: reg, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	sys := commands.Request{System: true}
	const uai = "0130001A"
	account := uuid.New()
	steps := []struct {
		name          string
		run           func() (commands.Result, error)
		done, retried []string
	}{
		{"accepted", func() (commands.Result, error) {
			return h.RegisterEstablishment(ctx, sys, domain.RegisterEstablishment{UAI: uai, Name: "Collège Mistral", Kind: domain.KindCollege, Departement: "13"})
		}, []string{"RegisterEstablishment accepted"}, nil},
		{"refused: it exists", func() (commands.Result, error) {
			return h.RegisterEstablishment(ctx, sys, domain.RegisterEstablishment{UAI: uai, Name: "Collège Mistral", Kind: domain.KindCollege, Departement: "13"})
		}, []string{"RegisterEstablishment " + string(domain.CodeOf(domain.ErrEstablishmentExists))}, nil},
		{"invalid", func() (commands.Result, error) {
			return h.RegisterEstablishment(ctx, sys, domain.RegisterEstablishment{})
		}, []string{"RegisterEstablishment invalid"}, nil},
		{"forbidden", func() (commands.Result, error) {
			return h.OpenAccount(ctx, commands.Request{Actor: uuid.New()}, domain.OpenAccount{Account: account, Establishment: uai, Profile: domain.ProfileTeacher, DisplayName: "M. Prof"})
		}, []string{"OpenAccount forbidden"}, nil},
		{"keyed", func() (commands.Result, error) {
			return h.OpenAccount(ctx, commands.Request{System: true, IdempotencyKey: "open-1"}, domain.OpenAccount{Account: account, Establishment: uai, Profile: domain.ProfileTeacher, DisplayName: "M. Prof"})
		}, []string{"OpenAccount accepted"}, nil},
		{"replayed", func() (commands.Result, error) {
			return h.OpenAccount(ctx, commands.Request{System: true, IdempotencyKey: "open-1"}, domain.OpenAccount{Account: account, Establishment: uai, Profile: domain.ProfileTeacher, DisplayName: "M. Prof"})
		}, []string{"OpenAccount replayed"}, nil},
		{"conflict retried", func() (commands.Result, error) {
			store.arm(domain.AccountStream(account), domain.AccountActivated{Account: account})
			return h.UpdateAccount(ctx, sys, domain.UpdateAccount{Account: account, Establishment: uai, DisplayName: "M. Professeur"})
		}, []string{"UpdateAccount accepted"}, []string{"UpdateAccount"}},
	}
	for _, s := range steps {
		res, err := s.run()
		done, retried := obs.take()
		if !slices.Equal(done, s.done) || !slices.Equal(retried, s.retried) {
			t.Errorf("%s (%+v, %v): observed %q, retried %q; want %q, %q", s.name, res, err, done, retried, s.done, s.retried)
		}
	}
}

// TestEveryHandlerIsObserved: every exported handler reports exactly one
// outcome under its own command name, whatever becomes of it (here, a
// zero command from an unknown account).
func TestEveryHandlerIsObserved(t *testing.T) {
	t.Parallel()
	obs := &outcomes{}
	h, err := commands.New(commands.Config{Store: memory.New(), Registry: domain.NewRegistry(), Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	ctxType, reqType, resType := reflect.TypeFor[context.Context](), reflect.TypeFor[commands.Request](), reflect.TypeFor[commands.Result]()
	v := reflect.ValueOf(h)
	handlers := 0
	for i := range v.NumMethod() {
		m := v.Type().Method(i)
		ft := m.Type // with the receiver
		if ft.NumIn() != 4 || ft.In(1) != ctxType || ft.In(2) != reqType || ft.NumOut() != 2 || ft.Out(0) != resType {
			continue
		}
		handlers++
		args := []reflect.Value{reflect.ValueOf(context.Background()), reflect.ValueOf(commands.Request{Actor: uuid.New()}), reflect.New(ft.In(3)).Elem()}
		out := v.Method(i).Call(args)
		err, _ := out[1].Interface().(error)
		done, _ := obs.take()
		want := fmt.Sprintf("%s %s", m.Name, commands.Outcome(out[0].Interface().(commands.Result), err))
		if len(done) != 1 || done[0] != want {
			t.Errorf("%s: observed %q, want %q", m.Name, done, want)
		}
	}
	if handlers < 40 {
		t.Errorf("found %d handlers, want them all (40 or more)", handlers)
	}
}
