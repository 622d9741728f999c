-- What the status page and a restarted deckhand need to know of an alert
-- and a container without asking the alerts engine's memory:
--   alerts.cleared_at: when an opened alert's condition went away (NULL
--     while it is on); the recovery hold runs from it ("recovering").
--   alerts.public: the container was on the status page when the alert
--     last saw it, so its incident stays visible once the container is gone.
--   alerts.condition: the container condition that raised it ('' for host
--     alerts); it titles the incident.
--   containers.started_at / finished_at: Docker's State.StartedAt and
--     State.FinishedAt, the "since" of the page.

-- +goose Up
ALTER TABLE alerts ADD COLUMN cleared_at INTEGER;
ALTER TABLE alerts ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN condition TEXT NOT NULL DEFAULT '';
ALTER TABLE containers ADD COLUMN started_at INTEGER;
ALTER TABLE containers ADD COLUMN finished_at INTEGER;

-- +goose Down
ALTER TABLE containers DROP COLUMN finished_at;
ALTER TABLE containers DROP COLUMN started_at;
ALTER TABLE alerts DROP COLUMN condition;
ALTER TABLE alerts DROP COLUMN public;
ALTER TABLE alerts DROP COLUMN cleared_at;
