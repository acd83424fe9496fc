package arbiter

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"
)

// ServerConfig configures the arbiter's network edge.
type ServerConfig struct {
	// TLS must require and verify client certificates (ServerTLS).
	TLS *tls.Config
	// Lease is the vote lease (default 6s). Nodes report every interval
	// (1s by default), so a lease spans several reports.
	Lease time.Duration
	// Grace after start without acks; 0 means Lease.
	Grace  time.Duration
	Logger *slog.Logger
}

// DefaultLease is the arbiter's default vote lease.
const DefaultLease = 6 * time.Second

// Server is palisade-arbiter's network edge: TLS connections in, one Core
// for every cluster, verdicts out. All decisions run under one lock on one
// core (the design target is 1,000 clusters per core).
type Server struct {
	cfg   ServerConfig
	log   *slog.Logger
	start time.Time

	mu     sync.Mutex
	core   *Core
	conns  map[ClientID]*serverConn
	nextID ClientID
	// samples of report handling time (decode done -> verdicts queued,
	// lock wait included), a ring of the most recent ones
	samples [1 << 16]sample
	nsample int
}

type sample struct {
	at time.Duration
	d  time.Duration
}

// DecisionStats summarizes the time the arbiter took to answer the
// reports of the last window (from a decoded report to its verdicts
// queued for sending, waiting for the lock included).
type DecisionStats struct {
	Window        time.Duration
	Reports       int
	P50, P99, Max time.Duration
}

// Stats returns the decision times of the reports of the last window.
func (s *Server) Stats(window time.Duration) DecisionStats {
	s.mu.Lock()
	now := s.now()
	var ds []time.Duration
	n := min(s.nsample, len(s.samples))
	for i := 0; i < n; i++ {
		x := s.samples[(s.nsample-1-i)%len(s.samples)]
		if now-x.at > window {
			break
		}
		ds = append(ds, x.d)
	}
	s.mu.Unlock()
	st := DecisionStats{Window: window, Reports: len(ds)}
	if len(ds) == 0 {
		return st
	}
	slices.Sort(ds)
	st.P50, st.P99, st.Max = ds[len(ds)/2], ds[min(len(ds)-1, len(ds)*99/100)], ds[len(ds)-1]
	return st
}

type serverConn struct {
	id   ClientID
	c    net.Conn
	out  chan Message
	done chan struct{}
	once sync.Once
}

func (sc *serverConn) close() {
	sc.once.Do(func() {
		close(sc.done)
		sc.c.Close()
	})
}

// NewServer builds a server; Serve runs it.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.TLS == nil || cfg.TLS.ClientAuth != tls.RequireAndVerifyClientCert {
		return nil, errors.New("arbiter server: TLS with verified client certificates is required")
	}
	if cfg.Lease == 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Lease < 100*time.Millisecond {
		return nil, fmt.Errorf("arbiter server: lease %s is too short (want at least 100ms)", cfg.Lease)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var id [6]byte
	rand.Read(id[:])
	s := &Server{cfg: cfg, log: cfg.Logger, start: time.Now(), conns: map[ClientID]*serverConn{}}
	s.core = NewCore(CoreConfig{Lease: cfg.Lease, Grace: cfg.Grace, ServerID: "arbiter-" + hex.EncodeToString(id[:])})
	return s, nil
}

func (s *Server) now() time.Duration { return time.Since(s.start) }

// Serve accepts TCP connections on ln (TLS is added here) until ctx ends;
// it closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ln = tls.NewListener(ln, s.cfg.TLS)
	s.log.Info("arbiter serving", "addr", ln.Addr().String(), "lease", s.cfg.Lease, "server", s.core.cfg.ServerID)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ctx.Done()
		ln.Close()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.ticker(ctx)
	}()
	var err error
	for {
		var c net.Conn
		c, err = ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				err = nil
			}
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.handle(ctx, c)
		}()
	}
	cancel()
	s.mu.Lock()
	for _, sc := range s.conns {
		sc.close()
	}
	s.mu.Unlock()
	wg.Wait()
	return err
}

func (s *Server) ticker(ctx context.Context) {
	every := min(s.cfg.Lease/10, 100*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.mu.Lock()
			out := s.core.Tick(s.now())
			s.dispatch(out)
			s.mu.Unlock()
		}
	}
}

// dispatch performs the core's outputs; s.mu is held. Sends never block:
// a client too slow to take its verdicts is disconnected.
func (s *Server) dispatch(outs []Output) {
	for _, o := range outs {
		if o.Note != "" {
			s.log.Info(o.Note)
			continue
		}
		sc := s.conns[o.To]
		if sc == nil {
			continue
		}
		if o.Msg != nil {
			select {
			case sc.out <- o.Msg:
			default:
				s.log.Warn("closing a client that does not read its verdicts", "client", o.To, "addr", sc.c.RemoteAddr().String())
				o.Close = true
			}
		}
		if o.Close {
			// Let the writer flush the last message (an Error) first.
			select {
			case sc.out <- nil:
			default:
				sc.close()
			}
			delete(s.conns, o.To)
		}
	}
}

func (s *Server) handle(ctx context.Context, c net.Conn) {
	addr := c.RemoteAddr().String()
	tc, ok := c.(*tls.Conn)
	if !ok {
		c.Close()
		return
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		s.log.Warn("TLS handshake failed", "addr", addr, "err", err)
		c.Close()
		return
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		c.Close()
		return
	}
	certCluster := certs[0].Subject.CommonName

	s.mu.Lock()
	s.nextID++
	sc := &serverConn{id: s.nextID, c: c, out: make(chan Message, 64), done: make(chan struct{})}
	s.conns[sc.id] = sc
	s.mu.Unlock()

	go s.writer(sc)
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		m, err := ReadMessage(r)
		if err != nil {
			select {
			case <-sc.done:
			default:
				if !errors.Is(err, net.ErrClosed) {
					s.log.Info("client connection ended", "client", sc.id, "addr", addr, "err", err)
				}
			}
			break
		}
		// A report (or release) is due at least once per lease.
		c.SetReadDeadline(time.Now().Add(2 * s.cfg.Lease))
		began := s.now()
		s.mu.Lock()
		now := s.now()
		var out []Output
		switch m := m.(type) {
		case *Hello:
			out = s.core.Hello(sc.id, certCluster, m, now)
		case *Report:
			out = s.core.Report(sc.id, m, now)
		case *Release:
			out = s.core.Release(sc.id, m, now)
		default:
			out = refuse(sc.id, "unexpected %s from a client", describe(m))
		}
		s.dispatch(out)
		if _, ok := m.(*Report); ok {
			end := s.now()
			s.samples[s.nsample%len(s.samples)] = sample{at: end, d: end - began}
			s.nsample++
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	out := s.core.Disconnect(sc.id, s.now())
	delete(s.conns, sc.id)
	s.dispatch(out)
	s.mu.Unlock()
	sc.close()
}

func (s *Server) writer(sc *serverConn) {
	w := bufio.NewWriter(sc.c)
	for {
		select {
		case <-sc.done:
			return
		case m := <-sc.out:
			if m == nil { // close after what was queued
				w.Flush()
				sc.close()
				return
			}
			sc.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := WriteMessage(w, m); err != nil {
				sc.close()
				return
			}
			if len(sc.out) == 0 {
				if err := w.Flush(); err != nil {
					sc.close()
					return
				}
			}
		}
	}
}

// Clusters reports the clusters the arbiter serves now.
func (s *Server) Clusters() []ClusterStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.core.Clusters()
}

// ID is this arbiter instance's id.
func (s *Server) ID() string { return s.core.cfg.ServerID }
