// Package deckhand holds the domain of the deckhand chat-ops daemon: hosts,
// containers, images, volumes, snapshots, alerts, silences, roles, actions,
// actors and the sentinel errors that callers must tell apart. It does no I/O;
// every other package depends on it and it depends on nothing but the
// standard library.
package deckhand
