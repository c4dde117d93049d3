package auth

import (
	"sync"

	"github.com/google/uuid"
)

// Bounds of the node-local session table. An entry takes a couple of
// hundred bytes with its key: the table stays within a few tens of
// megabytes.
const (
	// maxUnsaved bounds the sessions opened while the database could not
	// store them; past it, a sign-in answers the outage.
	maxUnsaved = 10_000
	// maxKnown bounds the sessions remembered as the database last
	// confirmed them; past it, some are forgotten (they are in the
	// database).
	maxKnown = 100_000
)

// localSessions are the sessions this process vouches for when the
// database cannot:
//
//   - unsaved: opened while the database could not store them (out of
//     space, read-only, locked). They live here alone until they are saved
//     at a later use, or expire.
//   - known: as the database last confirmed them. They answer only while
//     the database cannot be read (an outage), never against its word.
//
// Keys are the tokens' hashes, as auth_sessions keeps them.
type localSessions struct {
	mu      sync.Mutex
	unsaved map[string]*localSession
	known   map[string]localSession
}

// localSession is a row of auth_sessions held in memory. Times are Unix
// milliseconds, as in the table.
type localSession struct {
	account                  uuid.UUID
	kind                     string
	created, expires, endsAt int64
	tried                    int64 // unsaved: when saving it was last tried
}

func newLocalSessions() *localSessions {
	return &localSessions{unsaved: map[string]*localSession{}, known: map[string]localSession{}}
}

// keep adds an unsaved session; false when the table is full of live ones.
func (l *localSessions) keep(sum []byte, e localSession, now int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.unsaved) >= maxUnsaved {
		for k, u := range l.unsaved {
			if u.expires <= now {
				delete(l.unsaved, k)
			}
		}
		if len(l.unsaved) >= maxUnsaved {
			return false
		}
	}
	e.tried = now
	l.unsaved[string(sum)] = &e
	return true
}

// remember records a session as the database confirmed it.
func (l *localSessions) remember(sum []byte, e localSession, now int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.known[string(sum)]; !ok && len(l.known) >= maxKnown {
		for k, u := range l.known {
			if u.expires <= now {
				delete(l.known, k)
			}
		}
		// Still full: forget any tenth. They are in the database, and
		// only an outage would have needed them.
		for k := range l.known {
			if len(l.known) < maxKnown*9/10 {
				break
			}
			delete(l.known, k)
		}
	}
	l.known[string(sum)] = e
}

// unsavedSession returns a copy of an unsaved session, and whether to try
// saving it now: at most once per saveEvery for each session.
func (l *localSessions) unsavedSession(sum []byte, now, saveEvery int64) (e localSession, ok, trySave bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u, ok := l.unsaved[string(sum)]
	if !ok {
		return localSession{}, false, false
	}
	if now-u.tried >= saveEvery {
		u.tried, trySave = now, true
	}
	return *u, true, trySave
}

// slide moves an unsaved session's end, in memory.
func (l *localSessions) slide(sum []byte, expires int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u, ok := l.unsaved[string(sum)]; ok && u.expires < expires {
		u.expires = expires
	}
}

// saved moves an unsaved session, now stored, to the known ones.
func (l *localSessions) saved(sum []byte, e localSession, now int64) {
	l.mu.Lock()
	delete(l.unsaved, string(sum))
	l.mu.Unlock()
	l.remember(sum, e, now)
}

// any returns the session this node vouches for while the database
// cannot be read: unsaved or known.
func (l *localSessions) any(sum []byte) (localSession, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u, ok := l.unsaved[string(sum)]; ok {
		return *u, true
	}
	e, ok := l.known[string(sum)]
	return e, ok
}

// forget drops a session.
func (l *localSessions) forget(sum []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.unsaved, string(sum))
	delete(l.known, string(sum))
}

// forgetUnsaved drops a session if it is unsaved, and tells whether it
// was.
func (l *localSessions) forgetUnsaved(sum []byte) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.unsaved[string(sum)]
	delete(l.unsaved, string(sum))
	return ok
}

// forgetAccount drops every session of an account.
func (l *localSessions) forgetAccount(account uuid.UUID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, u := range l.unsaved {
		if u.account == account {
			delete(l.unsaved, k)
		}
	}
	for k, e := range l.known {
		if e.account == account {
			delete(l.known, k)
		}
	}
}

// purge drops the expired sessions and returns how many unsaved ones went.
func (l *localSessions) purge(now int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for k, u := range l.unsaved {
		if u.expires <= now {
			delete(l.unsaved, k)
			n++
		}
	}
	for k, e := range l.known {
		if e.expires <= now {
			delete(l.known, k)
		}
	}
	return n
}
