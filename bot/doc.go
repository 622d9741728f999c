// Package bot owns the messaging side of deckhand: delivering the durable
// outbox to the chat platforms (one worker per platform, in order, with
// backoff, retry-after and dead-lettering), the Sender contract the platform
// adapters satisfy (bot/ntfy, bot/discord, bot/telegram), and the neutral
// rendering of notices that every adapter maps to its own features.
//
// # Delivery guarantees
//
// Every notice is written to the outbox before any attempt, so nothing is
// lost when deckhand or a platform is down. The dispatcher delivers first
// and records the delivery (MarkSent) second: a crash in between, a window of
// a few milliseconds, makes the notice go out twice after the restart, never
// zero times. Adapters close that window where the platform allows it:
// Discord takes a nonce with enforce_nonce (the outbox ID), which makes a
// second create with the same nonce within a few minutes return the first
// message; ntfy and
// Telegram offer no deduplication, so a duplicate there is possible in that
// window and nowhere else.
package bot
