// Package statuspage owns deckhand's public, read-only status site: the
// server-rendered HTML pages (html/template, embedded), announcements
// rendered from Markdown with raw HTML disabled, the /api/status.json
// document, the server-sent events stream that keeps an open page live, the
// per-container SVG badges, /healthz, /metrics and the security headers that
// wrap every response.
//
// The site never reads the store: cmd/deckhand builds a View after each
// collection and hands it to Page.Update, which filters it down to what may
// be shown publicly, renders the hot documents once and swaps them in
// atomically. Requests only ever read that immutable snapshot.
package statuspage
