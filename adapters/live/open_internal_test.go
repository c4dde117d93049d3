package live

import (
	"bytes"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// sealedSubjects stands for the subjects' keys: it opens "SEALED".
type sealedSubjects struct{}

func (sealedSubjects) Open(_ string, data []byte) ([]byte, error) {
	return bytes.ReplaceAll(data, []byte("SEALED"), []byte("Sortie au musée")), nil
}

// TestFramesOpenPersonalFields: an event travels the bus as stored, its
// personal fields sealed; the frame a socket gets has them opened.
func TestFramesOpenPersonalFields(t *testing.T) {
	reg := domain.NewRegistry().WithOpener(sealedSubjects{})
	typ, data, err := reg.Encode(domain.MessageSent{Message: uuid.New(), From: uuid.New(), Subject: "SEALED", Body: "SEALED"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := NewEvent(reg, domain.Record{ID: uuid.New(), Stream: "message-x", Version: 1, Type: typ, Data: data, Position: domain.Position{Seq: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ev.Data, []byte("SEALED")) {
		t.Fatalf("the bus event is not as stored: %s", ev.Data)
	}
	if err := ev.open(reg); err != nil {
		t.Fatal(err)
	}
	if f := ev.frame(ev.Data); bytes.Contains(f.Data, []byte("SEALED")) || !bytes.Contains(f.Data, []byte("Sortie au musée")) {
		t.Fatalf("frame data %s", f.Data)
	}
}
