// Package control is the request/response protocol of palisaded's local
// unix socket, used by the `palisade` CLI.
//
// One connection carries any number of exchanges; each is one line of JSON
// each way:
//
//	→ {"cmd":"status","args":{...}}
//	← {"ok":true,"result":{...}}
//	← {"ok":false,"error":"unknown command \"x\"; commands: help, status"}
//
// The server side registers one Handler per command name, so later
// features add commands without touching the protocol:
//
//	srv, err := control.Listen("/run/palisade/palisade.sock", log)  // mode 0600
//	srv.Handle("fence-confirm", func(ctx context.Context, args json.RawMessage) (any, error) { ... })
//	go srv.Serve(ctx)
//
//	var st node.Status
//	err := control.Call(ctx, sockPath, "status", nil, &st)
//
// Access. The kernel's credentials of each connection (SO_PEERCRED and
// SO_PEERGROUPS, see Peer) decide what it may do, never what the client
// claims. Without a Policy group the socket is mode 0600 and root only
// (anyone who can talk to it can confirm fencing by hand). With
// ListenWith and a Policy, root may run everything, the read group
// (Heartbeat's haclient) the read-only commands, the admin group every
// command; the socket is then mode 0666 and everyone else is answered
// "permission denied" (code "forbidden"). A change request's "by" field,
// which the event log records, is set from the credentials (ByOf), and
// every change is logged with the uid and pid that asked. Handlers read
// the caller with PeerFrom(ctx). Requests are capped at MaxRequest bytes.
package control
