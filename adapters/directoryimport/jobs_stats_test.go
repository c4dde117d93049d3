package directoryimport

import (
	"maps"
	"testing"
)

// TestJobStats: the live jobs are counted by state while they run, the
// ended ones by final state once they ended (the metrics of serve).
func TestJobStats(t *testing.T) {
	t.Parallel()
	w := newJobWorld(t, "sqlite")
	s := w.MustJobs(nil)
	want := func(what string, live, ended map[JobState]int64) {
		t.Helper()
		st := s.Stats()
		if !maps.Equal(st.Live, live) || !maps.Equal(st.Ended, ended) {
			t.Errorf("%s: live %v, ended %v; want %v, %v", what, st.Live, st.Ended, live, ended)
		}
	}
	none := map[JobState]int64{JobDone: 0, JobRefused: 0, JobFailed: 0}
	want("no job", map[JobState]int64{JobQueued: 0, JobRunning: 0}, none)

	g := gated(t, s, "ENT_Complet_20240902_PersRelEleve_0000.xml")
	job, _, _, _ := w.start(s, "", false, "aaf/full")
	w.MustWait(s, job.ID, "running", func(j *Job) bool { return j.State == JobRunning })
	want("one running", map[JobState]int64{JobQueued: 0, JobRunning: 1}, none)
	g.open()
	w.MustEnd(s, job.ID)

	refused, _, _, _ := w.start(s, "", false, "aaf/full/ENT_Complet_20240902_EtabEducNat_0000.xml", "aaf/refused")
	w.MustEnd(s, refused.ID)
	want("one done, one refused", map[JobState]int64{JobQueued: 0, JobRunning: 0}, map[JobState]int64{JobDone: 1, JobRefused: 1, JobFailed: 0})
}
