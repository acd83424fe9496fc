package scheduler_test

import (
	"testing"
	"time"

	"palisade/resources/model"
	"palisade/resources/scheduler"
	"palisade/resources/scheduler/scenario"
)

// FuzzSchedule decodes scheduler documents (seeded with the corpus) and
// checks that scheduling never panics and is deterministic.
func FuzzSchedule(f *testing.F) {
	for i, c := range scenario.LoadAll(f, corpusDir) {
		if i%5 == 0 {
			f.Add([]byte(c.Input))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := model.DecodeYAML(data)
		if err != nil {
			return
		}
		in := scheduler.Input{Config: &d.Config, Status: &d.Status, Now: time.Unix(1767268800, 0), Scores: true}
		a := scheduler.Schedule(in)
		b := scheduler.Schedule(in)
		if scheduler.FormatTransition(a) != scheduler.FormatTransition(b) || scheduler.FormatScores(a) != scheduler.FormatScores(b) {
			t.Fatal("same input, different output")
		}
	})
}
