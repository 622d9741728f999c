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
//
// # Order, outages and refusals
//
// Urgent notices (an opening, deckhand's own) go before the rest, never
// before an earlier notice of their own alert (the outbox's order). A
// platform that fails is probed cheaply until it answers (Prober); one that
// paces itself (Pacer, Telegram) is waited for before the next item is
// chosen. A rejection of deckhand's credentials (Unauthorized) keeps the
// notice and is reported to Health, which TellAdmins relays to the other
// platforms; a refused message is sent again in its plain form
// (OutboxItem.Plain) and is dead only when that is refused too.
package bot
