package arbiter

import (
	"slices"
	"time"

	"palisade/quorum/arbitration"
)

// Session is the client side of the vote: which view this node reports,
// the reports in flight and the grant it holds. It is a pure core (the
// Client edge feeds it the clock and the server's messages).
//
// The node counts the arbiter's vote only while all of these hold: the
// last verdict was an ack for its current view, and the ack's lease runs,
// measured from when the report it answered was sent (so the node stops
// counting no later than the arbiter believes). A view change drops the
// grant at once: an ack is for one view only.
type Session struct {
	lease time.Duration

	seq  uint64
	sent map[uint64]time.Duration

	view    arbitration.Key
	viewID  uint64
	members []string
	score   int
	held    bool
	hasView bool

	grant      uint64
	leaseUntil time.Duration
	verdict    string
	reason     string
	// viewSince is when the current view was set; answered: an ack or a
	// nack for it arrived (a wait is no answer).
	viewSince time.Duration
	answered  bool
}

// NewSession starts a session state; lease is the server's (Welcome).
func NewSession(lease time.Duration) *Session {
	return &Session{lease: lease, sent: map[uint64]time.Duration{}}
}

// SetLease sets the lease announced by a (new) server.
func (s *Session) SetLease(lease time.Duration) { s.lease = lease }

// Reconnected forgets the reports of the previous connection (their
// sequence numbers restart); a grant keeps counting until its lease ends:
// the server waits for that lease before giving the vote elsewhere.
func (s *Session) Reconnected() {
	s.seq = 0
	clear(s.sent)
}

// SetView records the node's current view, score and held flag at now.
// It returns true when anything changed: the caller must report at once.
// A changed view drops the grant.
func (s *Session) SetView(view uint64, members []string, score int, held bool, now time.Duration) (changed bool) {
	k := arbitration.KeyOf(view, members)
	changed = !s.hasView || k != s.view
	if changed {
		s.grant, s.leaseUntil = 0, 0
		s.verdict, s.reason = VerdictWait, "new view, not yet answered"
		s.viewSince, s.answered = now, false
	}
	s.hasView = true
	s.view, s.viewID = k, view
	s.members = slices.Clone(members)
	changed = changed || score != s.score || held != s.held
	s.score, s.held = score, held
	return changed
}

// NextReport builds the next report (nil before SetView) and records its
// send time.
func (s *Session) NextReport(now time.Duration) *Report {
	if !s.hasView {
		return nil
	}
	s.seq++
	s.sent[s.seq] = now
	// Reports older than a lease can no longer extend anything.
	for q, t := range s.sent {
		if now-t > 2*s.lease && q != s.seq {
			delete(s.sent, q)
		}
	}
	return &Report{Seq: s.seq, View: s.viewID, Members: slices.Clone(s.members), Score: s.score, Held: s.held}
}

// OnVote applies a verdict. It returns a Release to send when the node
// gave up a grant (or was asked to give up one it no longer holds).
func (s *Session) OnVote(v *Vote, now time.Duration) *Release {
	if v.View != s.viewID {
		// A verdict about a view we left: whatever it says, the view
		// change already dropped any grant for it.
		if v.Verdict != VerdictAck && v.Decision != 0 {
			return &Release{Decision: v.Decision}
		}
		return nil
	}
	s.verdict, s.reason = v.Verdict, v.Reason
	s.answered = s.answered || v.Verdict != VerdictWait
	if v.Verdict == VerdictAck {
		sent, ok := s.sent[v.Seq]
		if !ok {
			return nil // an ack for a report we did not send on this connection
		}
		until := sent + s.lease
		if v.Decision != s.grant {
			s.grant, s.leaseUntil = v.Decision, until
		} else if until > s.leaseUntil {
			s.leaseUntil = until
		}
		return nil
	}
	var rel *Release
	if s.grant != 0 {
		rel = &Release{Decision: s.grant}
	} else if v.Decision != 0 {
		rel = &Release{Decision: v.Decision}
	}
	s.grant, s.leaseUntil = 0, 0
	return rel
}

// Voting reports whether the node counts the arbiter's votes at now.
func (s *Session) Voting(now time.Duration) bool { return s.grant != 0 && now < s.leaseUntil }

// Pending reports whether the arbiter has not answered (ack or nack) for
// the current view yet, and the view is younger than a lease: quorum
// should treat the view as undecided until then.
func (s *Session) Pending(now time.Duration) bool {
	return s.hasView && !s.answered && now-s.viewSince < s.lease
}

// LeaseUntil is when the current grant stops counting (0 without one).
func (s *Session) LeaseUntil() time.Duration { return s.leaseUntil }

// Verdict is the last verdict for the current view and its reason.
func (s *Session) Verdict() (string, string) { return s.verdict, s.reason }
