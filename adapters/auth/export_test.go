package auth

// DummyVerifications counts the dummy hash verifications of unknown logins,
// for tests only.
func (s *Service) DummyVerifications() int64 { return s.dummyRuns.Load() }
