-- What the configuration said about each host's `enabled` at the last
-- start (NULL before this migration). SyncHosts applies the config only
-- when it changed, so that an admin's /disable-host from chat survives a
-- restart of deckhand.

-- +goose Up
ALTER TABLE hosts ADD COLUMN config_enabled INTEGER;

-- +goose Down
ALTER TABLE hosts DROP COLUMN config_enabled;
