package domain_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// upcastCases holds one stored payload per wire name the ledger has
// retired, and the current event it must read as. TestUpcasters fails
// while a retired name has no case here.
var upcastCases = map[string]struct {
	payload string
	want    domain.Event
}{}

// TestUpcasters: every upcaster of the ledger reads a payload of its
// retired shape into the current event, and every case above is of a
// retired name.
func TestUpcasters(t *testing.T) {
	reg := domain.NewRegistry()
	for _, name := range reg.Retired() {
		c, ok := upcastCases[name]
		if !ok {
			t.Errorf("retired wire name %s has no case in upcastCases", name)
			continue
		}
		got, err := reg.Decode(name, []byte(c.payload))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s reads as %#v, want %#v", name, got, c.want)
		}
		if cur, _ := reg.Current(name); cur != c.want.EventType() {
			t.Errorf("%s: current name %s, want %s", name, cur, c.want.EventType())
		}
	}
	for name := range upcastCases {
		if !slices.Contains(reg.Retired(), name) {
			t.Errorf("upcastCases has %s, which is not retired", name)
		}
	}
}

// latenessV0 is a shape lateness.recorded never had, retired in tests
// only: the delay was text ("0:10"), now minutes.
type latenessV0 struct {
	Lesson  uuid.UUID   `json:"lesson"`
	Student uuid.UUID   `json:"student"`
	Group   uuid.UUID   `json:"group"`
	Date    domain.Date `json:"date"`
	Slot    domain.Slot `json:"slot"`
	Subject string      `json:"subject"`
	Delay   string      `json:"delay"`
}

func upLatenessV0(old latenessV0) (domain.LatenessRecorded, error) {
	var h, m int
	if _, err := fmt.Sscanf(old.Delay, "%d:%d", &h, &m); err != nil {
		return domain.LatenessRecorded{}, fmt.Errorf("delay %q: %w", old.Delay, err)
	}
	return domain.LatenessRecorded{
		Lesson: old.Lesson, Student: old.Student, Group: old.Group, Date: old.Date,
		Slot: old.Slot, Subject: old.Subject, Minutes: 60*h + m,
	}, nil
}

// TestUpcastTestPair: a registry given an upcaster reads the retired
// name's events as the current type, places it in the current type's
// area, lists it apart from the names written, and reports a payload it
// cannot read.
func TestUpcastTestPair(t *testing.T) {
	const retired = "lateness.recorded.v0"
	reg := domain.NewRegistry(domain.Upcast(retired, upLatenessV0))
	old := latenessV0{
		Lesson: uuid.New(), Student: uuid.New(), Group: uuid.New(), Date: domain.MustDate("2006-03-14"),
		Slot: domain.Slot{Start: "08:00", End: "08:55"}, Subject: "Mathématiques", Delay: "0:10",
	}
	data, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	e, err := reg.DecodeRecord(domain.Record{Stream: "ledger.lesson-x", Version: 3, Type: retired, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	want := domain.LatenessRecorded{Lesson: old.Lesson, Student: old.Student, Group: old.Group, Date: old.Date, Slot: old.Slot, Subject: old.Subject, Minutes: 10}
	if e != want {
		t.Fatalf("read as %#v, want %#v", e, want)
	}

	current := want.EventType()
	if cur, ok := reg.Current(retired); !ok || cur != current {
		t.Errorf("Current(%s) = %s %v", retired, cur, ok)
	}
	if cur, ok := reg.Current(current); !ok || cur != current {
		t.Errorf("Current(%s) = %s %v", current, cur, ok)
	}
	if _, ok := reg.Current("nothing.v1"); ok {
		t.Error("an unknown name has a current name")
	}
	if area, ok := reg.Area(retired); !ok || area != domain.AreaSchoolLife {
		t.Errorf("area of %s: %q %v", retired, area, ok)
	}
	if reg.Known(retired) {
		t.Errorf("%s is known as a name to write", retired)
	}
	if slices.Contains(reg.Types(), retired) || !slices.Equal(reg.Retired(), []string{retired}) {
		t.Errorf("Types lists %s, or Retired is %v", retired, reg.Retired())
	}
	if !slices.Contains(reg.Names(domain.AreaSchoolLife), retired) || slices.Contains(reg.Names(domain.AreaDirectory), retired) {
		t.Errorf("Names by area misplaces %s", retired)
	}
	if got := len(reg.Names()); got != len(reg.Types())+1 {
		t.Errorf("Names lists %d, want the %d current names and the retired one", got, len(reg.Types()))
	}
	// What is written is the current name and shape.
	if typ, _, err := reg.Encode(e); err != nil || typ != current {
		t.Errorf("encode the upcast event: %s, %v", typ, err)
	}

	for payload, want := range map[string]string{
		`{"delay":"ten minutes"}`: `delay "ten minutes"`,
		`{"delay":10}`:            "cannot unmarshal",
	} {
		_, err := reg.DecodeRecord(domain.Record{Stream: "ledger.lesson-x", Version: 3, Type: retired, Data: []byte(payload)})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "ledger.lesson-x@3") {
			t.Errorf("payload %s: %v, want an error naming the record and %q", payload, err, want)
		}
	}
	if _, err := domain.NewRegistry().Decode(retired, data); err == nil {
		t.Errorf("a registry without the upcaster reads %s", retired)
	}
}

// unregistered is an event type no registry knows.
type unregistered struct{}

func (unregistered) EventType() string { return "test.unregistered.v1" }

// TestUpcastRefusals: a retired name cannot be a current one or retired
// twice, and must upcast to a current type.
func TestUpcastRefusals(t *testing.T) {
	same := func(o latenessV0) (domain.LatenessRecorded, error) { return domain.LatenessRecorded{}, nil }
	for name, ups := range map[string][]domain.Upcaster{
		"current name":   {domain.Upcast("absence.recorded.v1", same)},
		"retired twice":  {domain.Upcast("lateness.recorded.v0", same), domain.Upcast("lateness.recorded.v0", same)},
		"unknown target": {domain.Upcast("test.old.v0", func(latenessV0) (unregistered, error) { return unregistered{}, nil })},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("NewRegistry accepted it")
				}
			}()
			domain.NewRegistry(ups...)
		})
	}
}
