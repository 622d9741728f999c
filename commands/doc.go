// Package commands owns deckhand's platform-independent chat command set:
// parsing command lines, the closed action whitelist and its role checks,
// resolution of chat arguments against the inventory snapshot, per-container
// action locks, signed and expiring button payloads, confirmations for
// destructive actions, audit entries for every attempt, and replies as
// platform-neutral values that the Discord, Telegram, ntfy and CLI adapters
// render.
//
// It depends only on the domain package; everything it needs from the
// store, the collector and the alerts engine is declared here as small
// interfaces and wired in by cmd/deckhand.
package commands
