package arbiter

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"palisade/quorum"
	"palisade/quorum/arbitration"
)

// ClientConfig configures a node's connection to the arbiter.
type ClientConfig struct {
	// Address is host:port of palisade-arbiter.
	Address string
	// TLS carries the cluster's client certificate and the arbiter's CA
	// (ClientTLS).
	TLS *tls.Config
	// Cluster and Node name this node; Cluster must be the CommonName of
	// the client certificate.
	Cluster, Node string
	// Rules are the cluster's arbitration rules (the same on every node).
	Rules arbitration.Rules
	// Interval between reports (default 1s); a report also goes out at
	// once on every view change.
	Interval time.Duration
	// ConnectTimeout bounds dialing and the TLS handshake (default 2s).
	ConnectTimeout time.Duration
	Logger         *slog.Logger
}

// ClientStatus is the client's state for status displays.
type ClientStatus struct {
	Address   string
	Connected bool
	// Server is the arbiter instance id of the current connection.
	Server string
	// Voting: the arbiter's votes count for this node's current view.
	Voting bool
	// Verdict and Reason are the last verdict for the current view.
	Verdict, Reason string
	// LeaseLeft is how long the current grant still counts.
	LeaseLeft time.Duration
	// Problem is a health problem ("" when healthy).
	Problem string
	// Since is when the current connection state began.
	Since time.Time
}

// Client is the node side of the arbiter: it keeps a TLS connection to
// palisade-arbiter (reconnecting with backoff), reports the node's view on
// every change and every Interval, and says whether the arbiter's votes
// count for the node's current view. The daemon calls SetView on every
// agreed view change (and when its score or held flag changes), reads
// Vote() when it computes quorum, and recomputes quorum whenever Changes()
// fires.
type Client struct {
	cfg   ClientConfig
	log   *slog.Logger
	start time.Time

	mu       sync.Mutex
	sess     *Session
	conn     net.Conn
	server   string
	problem  string
	grace    time.Time // the arbiter gives no vote before this (its start-up grace)
	since    time.Time
	kick     chan struct{} // a view change to report
	changes  chan struct{}
	expiry   *time.Timer
	lastVote bool
	// beforeRelease: see OnRelease.
	beforeRelease func(quorum.DeviceVote)
}

// errRefused marks the arbiter refusing this node (configuration to fix),
// as opposed to not answering.
var errRefused = errors.New("refused")

// NewClient validates cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.TLS == nil || len(cfg.TLS.Certificates) == 0 {
		return nil, errors.New("arbiter client: TLS with a client certificate is required")
	}
	if _, _, err := net.SplitHostPort(cfg.Address); err != nil {
		return nil, fmt.Errorf("arbiter client: address %q: %w", cfg.Address, err)
	}
	h := &Hello{Cluster: cfg.Cluster, Node: cfg.Node, Algorithm: string(cfg.Rules.Algorithm), TieBreaker: cfg.Rules.TieBreaker}
	for _, n := range cfg.Rules.Nodes {
		h.Nodes = append(h.Nodes, NodeVotes{Name: n.Name, Votes: n.Votes})
	}
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("arbiter client: %w", err)
	}
	if cfg.Interval == 0 {
		cfg.Interval = quorum.DefaultArbiterInterval
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = quorum.DefaultArbiterConnectTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Client{cfg: cfg, log: cfg.Logger.With("arbiter", cfg.Address), start: time.Now(),
		sess: NewSession(DefaultLease), kick: make(chan struct{}, 1), changes: make(chan struct{}, 1),
		problem: "arbiter " + cfg.Address + ": not connected yet", since: time.Now()}
	return c, nil
}

// NewClientFromSection builds a client from the decoded quorum section of
// cluster.yaml: nodes are the configured nodes in id order with their
// votes.
func NewClientFromSection(cluster, self string, nodes []arbitration.Node, dev *quorum.DeviceSection, log *slog.Logger) (*Client, error) {
	if dev == nil || dev.Model != quorum.DeviceArbiter || dev.Arbiter == nil {
		return nil, errors.New("arbiter client: quorum.device is not an arbiter")
	}
	a := dev.Arbiter
	tlsCfg, err := ClientTLS(a.CAFile, a.CertFile, a.KeyFile, a.ServerName)
	if err != nil {
		return nil, fmt.Errorf("arbiter client: %w", err)
	}
	return NewClient(ClientConfig{Address: a.Address, TLS: tlsCfg, Cluster: cluster, Node: self,
		Rules:    arbitration.Rules{Algorithm: dev.Algorithm, Nodes: nodes, TieBreaker: dev.TieBreaker},
		Interval: a.Interval, ConnectTimeout: a.ConnectTimeout, Logger: log})
}

func (c *Client) now() time.Duration { return time.Since(c.start) }

// SetView records the node's current agreed view (its id and members),
// its heuristics score and whether its partition held the resources, and
// reports it at once if anything changed. A new view stops counting the
// arbiter's votes until the arbiter acks it.
func (c *Client) SetView(view uint64, members []string, score int, held bool) {
	c.mu.Lock()
	now := c.now()
	changed := c.sess.SetView(view, members, score, held, now)
	c.rearmLocked(now)
	c.mu.Unlock()
	if changed {
		c.signal()
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// OnRelease registers fn, called with the (no longer voting) verdict
// before the client tells the arbiter that it gave up a grant: the
// arbiter may then give its vote to another partition, so whoever counts
// this node's vote must have stopped before fn returns (the daemon hands
// the verdict to its quorum engine and waits until it is applied). Call
// it before Run.
func (c *Client) OnRelease(fn func(quorum.DeviceVote)) { c.beforeRelease = fn }

// VoteLease is Vote with how long a vote still counts from now (0 when not
// voting), read at one instant: the daemon turns it into a lease end on
// its own clock (quorum.ViewVote.Until).
func (c *Client) VoteLease() (quorum.DeviceVote, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	v := quorum.DeviceVote{Voting: c.sess.Voting(now), Pending: c.sess.Pending(now), Problem: c.problemLocked()}
	if !v.Voting {
		return v, 0
	}
	return v, c.sess.LeaseUntil() - now
}

// Changes fires (coalesced) whenever Vote() may have changed: a verdict,
// a lease running out, a lost or new connection.
func (c *Client) Changes() <-chan struct{} { return c.changes }

func (c *Client) signal() {
	select {
	case c.changes <- struct{}{}:
	default:
	}
}

// Vote is what the daemon feeds to quorum.Calculator.UpdateWithDevice.
func (c *Client) Vote() quorum.DeviceVote {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	return quorum.DeviceVote{Voting: c.sess.Voting(now), Pending: c.sess.Pending(now), Problem: c.problemLocked()}
}

func (c *Client) problemLocked() string {
	// The grace estimate runs from the welcome's arrival; the arbiter's
	// own clock ends it a little earlier, and its ack settles the matter.
	if c.problem == "" && time.Now().Before(c.grace) && !c.sess.Voting(c.now()) {
		return fmt.Sprintf("arbiter %s started recently: no vote for %s", c.cfg.Address, time.Until(c.grace).Round(time.Millisecond))
	}
	return c.problem
}

// Status reports the client's state.
func (c *Client) Status() ClientStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	v, why := c.sess.Verdict()
	st := ClientStatus{Address: c.cfg.Address, Connected: c.conn != nil, Server: c.server, Voting: c.sess.Voting(now),
		Verdict: v, Reason: why, Problem: c.problemLocked(), Since: c.since}
	if st.Voting {
		st.LeaseLeft = c.sess.LeaseUntil() - now
	}
	return st
}

// Run keeps the connection until ctx ends.
func (c *Client) Run(ctx context.Context) error {
	backoff := c.cfg.Interval / 2
	for ctx.Err() == nil {
		err := c.session(ctx)
		if ctx.Err() != nil {
			break
		}
		if errors.Is(err, errRefused) {
			c.setProblem(fmt.Sprintf("arbiter %s: %v", c.cfg.Address, err), nil, "")
		} else {
			c.setProblem(fmt.Sprintf("arbiter %s unreachable: %v", c.cfg.Address, err), nil, "")
		}
		c.log.Warn("arbiter connection lost", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
		if err == nil {
			backoff = c.cfg.Interval / 2
		}
	}
	c.setProblem("arbiter client stopped", nil, "")
	return nil
}

func (c *Client) setProblem(p string, conn net.Conn, server string) {
	c.mu.Lock()
	if c.problem != p || c.conn != conn {
		c.since = time.Now()
	}
	c.problem, c.conn, c.server = p, conn, server
	c.mu.Unlock()
	c.signal()
}

// session runs one connection: dial, hello, then reports and verdicts.
func (c *Client) session(ctx context.Context) error {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: c.cfg.ConnectTimeout}, Config: c.cfg.TLS}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	conn, err := d.DialContext(dctx, "tcp", c.cfg.Address)
	cancel()
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	h := &Hello{Cluster: c.cfg.Cluster, Node: c.cfg.Node, Algorithm: string(c.cfg.Rules.Algorithm), TieBreaker: c.cfg.Rules.TieBreaker}
	for _, n := range c.cfg.Rules.Nodes {
		h.Nodes = append(h.Nodes, NodeVotes{Name: n.Name, Votes: n.Votes})
	}
	conn.SetDeadline(time.Now().Add(c.cfg.ConnectTimeout))
	if err := WriteMessage(conn, h); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	r := bufio.NewReader(conn)
	m, err := ReadMessage(r)
	if err != nil {
		return fmt.Errorf("waiting for welcome: %w", err)
	}
	var w *Welcome
	switch m := m.(type) {
	case *Welcome:
		w = m
	case *Error:
		return fmt.Errorf("%w: %s", errRefused, m.Message)
	default:
		return fmt.Errorf("unexpected %s instead of welcome", describe(m))
	}
	conn.SetDeadline(time.Time{})
	lease := time.Duration(w.LeaseMS) * time.Millisecond
	if lease < 3*c.cfg.Interval {
		// One lost report would cost the vote: refuse, and say what to change.
		return fmt.Errorf("%w: the arbiter's lease %s is shorter than 3 report intervals (%s): lower quorum.device.arbiter.interval to at most %s, or raise palisade-arbiter --lease", errRefused, lease, c.cfg.Interval, (lease / 3).Truncate(time.Millisecond))
	}
	c.mu.Lock()
	c.sess.Reconnected()
	c.sess.SetLease(lease)
	c.mu.Unlock()
	c.mu.Lock()
	c.grace = time.Now().Add(time.Duration(w.GraceMS) * time.Millisecond)
	c.mu.Unlock()
	c.setProblem("", conn, w.Server)
	c.log.Info("arbiter connected", "server", w.Server, "lease", lease)

	msgs := make(chan Message, 16)
	rerr := make(chan error, 1)
	go func() {
		for {
			m, err := ReadMessage(r)
			if err != nil {
				rerr <- err
				return
			}
			msgs <- m
		}
	}()
	send := func(m Message) error {
		conn.SetWriteDeadline(time.Now().Add(c.cfg.ConnectTimeout))
		return WriteMessage(conn, m)
	}
	report := func() error {
		c.mu.Lock()
		rep := c.sess.NextReport(c.now())
		c.mu.Unlock()
		if rep == nil {
			return nil
		}
		return send(rep)
	}
	if err := report(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	tick := time.NewTicker(c.cfg.Interval)
	defer tick.Stop()
	lastVerdict := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-rerr:
			return fmt.Errorf("reading: %w", err)
		case <-c.kick:
			if err := report(); err != nil {
				return fmt.Errorf("report: %w", err)
			}
		case <-tick.C:
			if time.Since(lastVerdict) > lease {
				return fmt.Errorf("no verdict for %s", time.Since(lastVerdict).Round(time.Millisecond))
			}
			if err := report(); err != nil {
				return fmt.Errorf("report: %w", err)
			}
		case m := <-msgs:
			switch m := m.(type) {
			case *Vote:
				lastVerdict = time.Now()
				c.mu.Lock()
				rel := c.sess.OnVote(m, c.now())
				c.mu.Unlock()
				c.onVerdict()
				if rel != nil {
					if c.beforeRelease != nil {
						c.beforeRelease(c.Vote())
					}
					if err := send(rel); err != nil {
						return fmt.Errorf("release: %w", err)
					}
				}
			case *Error:
				return fmt.Errorf("%w: %s", errRefused, m.Message)
			default:
				return fmt.Errorf("unexpected %s", describe(m))
			}
		}
	}
}

// onVerdict signals a change of Vote() and arms a timer for the next
// moment it changes by itself: the lease running out, or the wait for an
// answer on a new view timing out.
func (c *Client) onVerdict() {
	c.mu.Lock()
	now := c.now()
	voting := c.sess.Voting(now)
	changed := voting != c.lastVote
	c.lastVote = voting
	c.rearmLocked(now)
	c.mu.Unlock()
	if changed {
		c.signal()
	}
}

func (c *Client) rearmLocked(now time.Duration) {
	if c.expiry != nil {
		c.expiry.Stop()
	}
	var at time.Duration
	switch {
	case c.sess.Voting(now):
		at = c.sess.LeaseUntil()
	case c.sess.Pending(now):
		at = c.sess.viewSince + c.sess.lease
	default:
		return
	}
	c.expiry = time.AfterFunc(at-now, func() {
		c.mu.Lock()
		c.lastVote = c.sess.Voting(c.now())
		c.mu.Unlock()
		c.signal()
	})
}
