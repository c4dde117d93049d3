package domain

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/google/uuid"
)

// ChainHash links an event to the previous event of its stream: SHA-256 over
// the previous hash and every stored field, each length-prefixed. Editing,
// removing, inserting or reordering a stored event breaks the chain from
// that event on. metadata is the exact stored encoding of the metadata.
func ChainHash(prev []byte, id uuid.UUID, stream string, version uint64, typ string, data, metadata []byte) []byte {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], version)
	field(prev)
	field(id[:])
	field([]byte(stream))
	field(v[:])
	field([]byte(typ))
	field(data)
	field(metadata)
	return h.Sum(nil)
}
