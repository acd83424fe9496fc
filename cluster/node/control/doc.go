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
// The socket is created with mode 0600 (root only): anyone who can talk to
// it can confirm fencing by hand. Requests are capped at MaxRequest bytes.
package control
