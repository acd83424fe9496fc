// Package dcmsg is the protocol between the DC and the members of a view:
// the messages (Message, one Kind each, with Encode and a strict Decode
// that refuses a message without its payload or with a forged sender),
// what a member reports (NodeStatus), the actions the DC sends and their
// results, configuration proposals and operator requests with their
// answers, and the membership view as the coordination layer sees it
// (View, with its agreement flag and the members' generations).
//
// Messages travel over the reliable per-peer streams (cluster/reliable);
// every action carries the view id it was decided in, and CheckView
// refuses one from any other view, so a deposed DC cannot start anything.
package dcmsg
