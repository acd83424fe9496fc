// Package member is the member half of the per-node core: what every node
// does for the DC of its view. It runs the DC's actions through the
// executor (asynchronously: dc.ExecRequest out, ExecDone in) after
// checking that they come from the DC of this very view, probes every
// configured resource with the cluster's configuration before its first
// full report, starts and cancels the recurring monitors, keeps what runs
// here with its parameters and role, the fail counts and their expiry
// (failure-timeout), and reports all of it to the DC (dcmsg.NodeStatus).
// A failed stop it cannot recover asks the DC to fence this node.
//
// Pure: no goroutines, no clock; it reads the view and replica from the
// node's dc.Coordinator and writes into the same dc.Ready (cluster/engine
// wires both).
package member
