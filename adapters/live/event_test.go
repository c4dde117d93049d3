package live_test

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/live"
	"github.com/schoollife/ledger/domain"
)

// oldHomework is a shape homework.done never had, retired in this test
// only: the student was "pupil".
type oldHomework struct {
	Homework uuid.UUID `json:"homework"`
	Pupil    uuid.UUID `json:"pupil"`
}

// TestNewEventUpcasts: an event stored under a retired wire name goes to
// the bus under its current name and shape, with the subjects of the
// current event; a current one goes as stored, byte for byte.
func TestNewEventUpcasts(t *testing.T) {
	reg := domain.NewRegistry(domain.Upcast("homework.done.v0", func(o oldHomework) (domain.HomeworkDone, error) {
		return domain.HomeworkDone{Homework: o.Homework, Student: o.Pupil}, nil
	}))
	hw, student := uuid.New(), uuid.New()
	old, err := json.Marshal(oldHomework{Homework: hw, Pupil: student})
	if err != nil {
		t.Fatal(err)
	}
	rec := domain.Record{ID: uuid.New(), Stream: domain.HomeworkStream(hw), Version: 2, Position: domain.Position{Seq: 7}, Type: "homework.done.v0", Data: old}
	ev, err := live.NewEvent(reg, rec)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.HomeworkDone{Homework: hw, Student: student}
	var got domain.HomeworkDone
	if err := json.Unmarshal(ev.Data, &got); err != nil {
		t.Fatal(err)
	}
	if ev.Type != want.EventType() || got != want || ev.Position != rec.Position || ev.ID != rec.ID {
		t.Fatalf("event %s %s at %s, want %s %+v at %s", ev.Type, ev.Data, ev.Position, want.EventType(), want, rec.Position)
	}
	if subs := domain.Subjects(want); len(ev.Subjects) != len(subs) {
		t.Errorf("subjects %v, want those of the current event %v", ev.Subjects, subs)
	}

	current := []byte(`{ "homework": "` + hw.String() + `", "student": "` + student.String() + `" }`)
	rec.Type, rec.Data = want.EventType(), current
	ev, err = live.NewEvent(reg, rec)
	if err != nil {
		t.Fatal(err)
	}
	if string(ev.Data) != string(current) {
		t.Errorf("a current event goes as %s, not as stored %s", ev.Data, current)
	}
}
