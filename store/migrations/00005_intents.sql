-- Deliberate actions through deckhand (a stop, a removal), one per
-- container, so that what they leave behind does not page. Kept in the
-- database because `deckhand exec` acts from another process than the
-- daemon, and a restart of deckhand must not page for a container stopped
-- on purpose the day before. A row ends when its container is seen in a
-- state the action does not explain, or a start, restart or redeploy
-- through deckhand replaces it.

-- +goose Up
CREATE TABLE intents (
    host      TEXT    NOT NULL,
    container TEXT    NOT NULL,
    action    TEXT    NOT NULL CHECK (action IN ('stop', 'remove')),
    by        TEXT    NOT NULL DEFAULT '',
    at        INTEGER NOT NULL,
    PRIMARY KEY (host, container)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE intents;
