// Package collector is the only code in deckhand that talks to Docker hosts.
//
// It owns the transports (a pool of persistent SSH connections, one per host,
// with keepalive, bounded sessions and backoff; and a local os/exec transport),
// the single audited shell-quoting function used on SSH, running the docker
// CLI with JSON formats that work from CLI 20.10 to 29, parsing that output
// with per-entity isolation, classifying failures into the deckhand sentinel
// errors, the whitelisted container actions and the `docker events` stream.
//
// Commands are always argv vectors built here; nothing typed in a chat ever
// reaches a shell except as a single-quoted argument.
package collector
