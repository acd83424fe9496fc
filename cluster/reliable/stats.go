package reliable

// Stats counts what an Endpoint did, for status output and benchmarks.
type Stats struct {
	Sent          uint64 // data frames sent the first time
	Retransmitted uint64 // data frames sent again after a timeout
	Delivered     uint64 // messages handed up in order
	Failed        uint64 // messages given up (peer restarted or forgotten)
	Duplicates    uint64 // data frames already delivered (a lost ack, a second link)
	OutOfWindow   uint64 // data frames beyond the receive buffer, dropped
	Stale         uint64 // frames for an old incarnation or stream epoch
	AcksSent      uint64
}

// Stats returns the counters so far.
func (e *Endpoint) Stats() Stats { return e.stats }

// Stats returns the Endpoint's counters.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ep.Stats()
}
