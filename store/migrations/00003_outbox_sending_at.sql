-- When the last delivery attempt of an outbox row started (NULL: never
-- tried). A row that is still unsent with it set may have reached the
-- platform: deckhand died between the platform's answer and MarkSent, or
-- the answer timed out. Platforms that can be asked check before sending
-- again.

-- +goose Up
ALTER TABLE outbox ADD COLUMN sending_at INTEGER;

-- +goose Down
ALTER TABLE outbox DROP COLUMN sending_at;
