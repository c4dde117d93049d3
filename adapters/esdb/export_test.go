package esdb

import "time"

// WithWaitCap sets how long Wait waits at most (a second unless set).
func WithWaitCap(d time.Duration) Option { return func(s *Store) { s.wait = d } }
