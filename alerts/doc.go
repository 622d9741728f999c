// Package alerts owns deckhand's alert rules: it turns the latest host
// snapshots plus the alerts currently stored into transitions (pending →
// open → acked → closed), notifications to enqueue and bounded automatic
// restarts to perform.
//
// The engine does no I/O. Its decisions about notifications rest on the
// persisted fields of each alert (State, OpenedAt, LastNotifiedAt,
// Notifications) so that evaluating the same input twice, or after deckhand
// restarts, never notifies twice. The little it keeps in memory (restart
// counts between evaluations, containers seen before, auto-restart
// bookkeeping, when a condition cleared) only refines decisions and degrades
// safely when lost.
//
// Flapping: an alert that has been notified is not closed the moment its
// condition clears. It stays active through a recovery hold (RecoveryHold,
// 60s by default) and closes, with one recovered notice, only once the
// condition has stayed away that long. A condition that comes back within
// Cooldown of a close re-opens the same alert (same ID) and its new opened
// notice waits until Cooldown has passed since the recovered notice.
package alerts
