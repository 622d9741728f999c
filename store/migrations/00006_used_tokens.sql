-- Single-use button tokens (restart, confirm) already pressed, by their
-- MAC, so that a replay or a retried delivery acts once, also after deckhand
-- restarts. A row is needed only while its token could still verify:
-- Prune deletes it a margin after expires_at.

-- +goose Up
CREATE TABLE used_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE used_tokens;
