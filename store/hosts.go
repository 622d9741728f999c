package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/deckhand/deckhand"
)

// SyncHosts (write) makes the hosts table follow the configuration: hosts
// missing from it are inserted, known ones get their transport from the
// config, and hosts no longer configured are disabled rather than deleted
// so their history and alerts keep a name to point at. A known host's
// enabled flag follows the config only when the config's value changed
// since the last sync: otherwise what an admin set from chat
// (SetHostEnabled) stays, across restarts of deckhand.
func (s *Store) SyncHosts(ctx context.Context, hosts []deckhand.Host) error {
	names := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if h.Name == "" {
			return fmt.Errorf("sync hosts: host without a name: %w", deckhand.ErrInvalidInput)
		}
		names = append(names, h.Name)
	}
	namesJSON, err := json.Marshal(names)
	if err != nil {
		return fmt.Errorf("sync hosts: %w", err)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, h := range hosts {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO hosts (name, transport, docker_enabled, config_enabled) VALUES (?, ?, ?, ?)
				ON CONFLICT (name) DO UPDATE SET
					transport = excluded.transport,
					docker_enabled = CASE WHEN hosts.config_enabled IS excluded.config_enabled
						THEN hosts.docker_enabled ELSE excluded.docker_enabled END,
					config_enabled = excluded.config_enabled`,
				h.Name, transportOf(h), boolInt(h.Enabled), boolInt(h.Enabled)); err != nil {
				return fmt.Errorf("sync host %s: %w", h.Name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE hosts SET docker_enabled = 0, config_enabled = 0
			WHERE name NOT IN (SELECT value FROM json_each(?))`, string(namesJSON)); err != nil {
			return fmt.Errorf("sync hosts: disable removed: %w", err)
		}
		return nil
	})
}

func transportOf(h deckhand.Host) string {
	if h.Transport == "" {
		return "ssh"
	}
	return h.Transport
}

// SetHostEnabled (write) turns collection of a host on or off.
// deckhand.ErrNotFound when the host is unknown.
func (s *Store) SetHostEnabled(ctx context.Context, host string, enabled bool) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE hosts SET docker_enabled = ? WHERE name = ?`, boolInt(enabled), host)
		if err != nil {
			return fmt.Errorf("set host %s enabled: %w", host, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("host %q: %w", host, deckhand.ErrNotFound)
		}
		return nil
	})
}

// SaveSnapshot (write) stores one collection of one host in one transaction.
//
// On success the host row gets status, versions and timestamps, containers
// are upserted by (host, container id) and the host's containers absent from
// the snapshot are deleted: the snapshot is the whole truth about the host,
// so a vanished container is a removed one (alerts keep their own copy of
// the name). When snap.Full, images and volumes are replaced the same way;
// otherwise they are left as they are.
//
// The host's status is deckhand.StatusOf(snap.Err); its last error is
// snap.Host.LastError, or snap.Err's text when that is empty. On a failed
// collection (snap.Err != nil) only the status, last error and collect time
// change: the last known containers stay, so the status page
// and chat can still show what was running when the host went away.
//
// An unknown host is inserted (enabled, with the snapshot's transport).
func (s *Store) SaveSnapshot(ctx context.Context, snap deckhand.Snapshot) error {
	name := snap.Host.Name
	if name == "" {
		return fmt.Errorf("save snapshot: host without a name: %w", deckhand.ErrInvalidInput)
	}
	at := snap.CollectedAt
	if at.IsZero() {
		at = time.Now()
	}
	atMS := at.UnixMilli()

	return s.write(ctx, func(tx *sql.Tx) error {
		var hostID int64
		err := tx.QueryRowContext(ctx, `
			INSERT INTO hosts (name, transport, docker_enabled) VALUES (?, ?, 1)
			ON CONFLICT (name) DO UPDATE SET name = excluded.name
			RETURNING id`, name, transportOf(snap.Host)).Scan(&hostID)
		if err != nil {
			return fmt.Errorf("save snapshot %s: host: %w", name, err)
		}

		if snap.Err != nil {
			msg := snap.Host.LastError
			if msg == "" {
				msg = snap.Err.Error()
			}
			_, err := tx.ExecContext(ctx, `
				UPDATE hosts SET docker_status = ?, last_error = ?, docker_last_collect_at = ?
				WHERE id = ?`, string(deckhand.StatusOf(snap.Err)), msg, atMS, hostID)
			if err != nil {
				return fmt.Errorf("save snapshot %s: host status: %w", name, err)
			}
			return nil
		}

		if _, err := tx.ExecContext(ctx, `
			UPDATE hosts SET docker_status = ?, last_error = '', docker_version = ?, client_version = ?,
				api_version = ?, docker_last_collect_at = ?, last_ok_at = ?
			WHERE id = ?`, string(deckhand.HostOK), snap.Host.DockerVersion, snap.Host.ClientVersion,
			snap.Host.APIVersion, atMS, atMS, hostID); err != nil {
			return fmt.Errorf("save snapshot %s: host status: %w", name, err)
		}
		if err := saveContainers(ctx, tx, hostID, atMS, snap.Containers); err != nil {
			return fmt.Errorf("save snapshot %s: %w", name, err)
		}
		if !snap.Full {
			return nil
		}
		if err := saveImages(ctx, tx, hostID, atMS, snap.Images); err != nil {
			return fmt.Errorf("save snapshot %s: %w", name, err)
		}
		if err := saveVolumes(ctx, tx, hostID, atMS, snap.Volumes); err != nil {
			return fmt.Errorf("save snapshot %s: %w", name, err)
		}
		return nil
	})
}

func saveContainers(ctx context.Context, tx *sql.Tx, hostID, atMS int64, cs []deckhand.Container) error {
	stmt, err := tx.PrepareContext(ctx, `
		INSERT INTO containers (host_id, container_id, name, image, image_id, command, state, status,
			health, exit_code, restart_count, created_at, ports, labels, compose_project, compose_service,
			first_seen_at, last_update_at, started_at, finished_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (host_id, container_id) DO UPDATE SET
			name = excluded.name, image = excluded.image, image_id = excluded.image_id,
			command = excluded.command, state = excluded.state, status = excluded.status,
			health = excluded.health, exit_code = excluded.exit_code,
			restart_count = excluded.restart_count, created_at = excluded.created_at,
			started_at = excluded.started_at, finished_at = excluded.finished_at,
			ports = excluded.ports, labels = excluded.labels,
			compose_project = excluded.compose_project, compose_service = excluded.compose_service,
			last_update_at = excluded.last_update_at`)
	if err != nil {
		return fmt.Errorf("containers: %w", err)
	}
	defer stmt.Close()

	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		if c.ID == "" {
			return fmt.Errorf("container %q without an id: %w", c.Name, deckhand.ErrInvalidInput)
		}
		ports := c.Ports
		if ports == nil {
			ports = []deckhand.Port{}
		}
		portsJSON, err := json.Marshal(ports)
		if err != nil {
			return fmt.Errorf("container %s ports: %w", c.Name, err)
		}
		labels := c.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		labelsJSON, err := json.Marshal(labels)
		if err != nil {
			return fmt.Errorf("container %s labels: %w", c.Name, err)
		}
		if _, err := stmt.ExecContext(ctx, hostID, c.ID, c.Name, c.Image, c.ImageID, c.Command,
			string(c.State), c.Status, string(c.Health), c.ExitCode, c.RestartCount, ms(c.CreatedAt),
			string(portsJSON), string(labelsJSON), c.ComposeProject, c.ComposeService, atMS, atMS,
			ms(c.StartedAt), ms(c.FinishedAt)); err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		ids = append(ids, c.ID)
	}
	return deleteMissing(ctx, tx, "containers", "container_id", hostID, ids)
}

func saveImages(ctx context.Context, tx *sql.Tx, hostID, atMS int64, imgs []deckhand.Image) error {
	stmt, err := tx.PrepareContext(ctx, `
		INSERT INTO images (host_id, image_id, repo_tags, size, created_at, last_update_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (host_id, image_id) DO UPDATE SET
			repo_tags = excluded.repo_tags, size = excluded.size, created_at = excluded.created_at,
			last_update_at = excluded.last_update_at`)
	if err != nil {
		return fmt.Errorf("images: %w", err)
	}
	defer stmt.Close()
	ids := make([]string, 0, len(imgs))
	for _, im := range imgs {
		if im.ID == "" {
			return fmt.Errorf("image without an id: %w", deckhand.ErrInvalidInput)
		}
		tags := im.RepoTags
		if tags == nil {
			tags = []string{}
		}
		tagsJSON, err := json.Marshal(tags)
		if err != nil {
			return fmt.Errorf("image %s tags: %w", im.ID, err)
		}
		if _, err := stmt.ExecContext(ctx, hostID, im.ID, string(tagsJSON), im.Size, ms(im.CreatedAt), atMS); err != nil {
			return fmt.Errorf("image %s: %w", im.ID, err)
		}
		ids = append(ids, im.ID)
	}
	return deleteMissing(ctx, tx, "images", "image_id", hostID, ids)
}

func saveVolumes(ctx context.Context, tx *sql.Tx, hostID, atMS int64, vols []deckhand.Volume) error {
	stmt, err := tx.PrepareContext(ctx, `
		INSERT INTO volumes (host_id, name, driver, mountpoint, scope, size, links, last_update_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (host_id, name) DO UPDATE SET
			driver = excluded.driver, mountpoint = excluded.mountpoint, scope = excluded.scope,
			size = excluded.size, links = excluded.links, last_update_at = excluded.last_update_at`)
	if err != nil {
		return fmt.Errorf("volumes: %w", err)
	}
	defer stmt.Close()
	names := make([]string, 0, len(vols))
	for _, v := range vols {
		if v.Name == "" {
			return fmt.Errorf("volume without a name: %w", deckhand.ErrInvalidInput)
		}
		if _, err := stmt.ExecContext(ctx, hostID, v.Name, v.Driver, v.Mountpoint, v.Scope, v.Size, v.Links, atMS); err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		names = append(names, v.Name)
	}
	return deleteMissing(ctx, tx, "volumes", "name", hostID, names)
}

// deleteMissing removes the host's rows whose key is not in keys. The table
// and column names are constants of this file, never input.
func deleteMissing(ctx context.Context, tx *sql.Tx, table, keyCol string, hostID int64, keys []string) error {
	keysJSON, err := json.Marshal(keys)
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	q := `DELETE FROM ` + table + ` WHERE host_id = ? AND ` + keyCol + ` NOT IN (SELECT value FROM json_each(?))`
	if _, err := tx.ExecContext(ctx, q, hostID, string(keysJSON)); err != nil {
		return fmt.Errorf("%s: delete vanished: %w", table, err)
	}
	return nil
}

const hostColumns = `name, transport, docker_enabled, docker_version, client_version, api_version,
	docker_status, last_error, docker_last_collect_at, last_ok_at`

func scanHost(sc scanner) (deckhand.Host, error) {
	var h deckhand.Host
	var enabled int
	var status string
	var collect, ok sql.NullInt64
	if err := sc.Scan(&h.Name, &h.Transport, &enabled, &h.DockerVersion, &h.ClientVersion, &h.APIVersion,
		&status, &h.LastError, &collect, &ok); err != nil {
		return h, err
	}
	h.Enabled = enabled != 0
	h.Status = deckhand.HostStatus(status)
	h.LastCollectAt = fromMS(collect)
	h.LastOKAt = fromMS(ok)
	return h, nil
}

// Hosts (read) lists every known host, disabled ones included, by name.
func (s *Store) Hosts(ctx context.Context) ([]deckhand.Host, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+hostColumns+` FROM hosts ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("hosts: %w", err)
	}
	defer rows.Close()
	var out []deckhand.Host
	for rows.Next() {
		h, err := scanHost(rows)
		if err != nil {
			return nil, fmt.Errorf("hosts: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hosts: %w", err)
	}
	return out, nil
}

// Host (read) returns one host; deckhand.ErrNotFound when unknown.
func (s *Store) Host(ctx context.Context, name string) (deckhand.Host, error) {
	h, err := scanHost(s.r.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM hosts WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("host %q: %w", name, deckhand.ErrNotFound)
	}
	if err != nil {
		return h, fmt.Errorf("host %q: %w", name, err)
	}
	return h, nil
}

// Containers (read) lists the containers last seen on a host, or on every
// host when host is "", sorted by host, compose project and name.
func (s *Store) Containers(ctx context.Context, host string) ([]deckhand.Container, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT h.name, c.container_id, c.name, c.image, c.image_id, c.command, c.state, c.status,
			c.health, c.exit_code, c.restart_count, c.created_at, c.ports, c.labels,
			c.compose_project, c.compose_service, c.started_at, c.finished_at
		FROM containers c JOIN hosts h ON h.id = c.host_id
		`+hostFilter(host)+`
		ORDER BY h.name, c.compose_project, c.name, c.container_id`, hostArgs(host)...)
	if err != nil {
		return nil, fmt.Errorf("containers: %w", err)
	}
	defer rows.Close()
	var out []deckhand.Container
	for rows.Next() {
		var c deckhand.Container
		var state, health, ports, labels string
		var created, started, finished sql.NullInt64
		if err := rows.Scan(&c.Host, &c.ID, &c.Name, &c.Image, &c.ImageID, &c.Command, &state, &c.Status,
			&health, &c.ExitCode, &c.RestartCount, &created, &ports, &labels,
			&c.ComposeProject, &c.ComposeService, &started, &finished); err != nil {
			return nil, fmt.Errorf("containers: %w", err)
		}
		c.State = deckhand.ContainerState(state)
		c.Health = deckhand.Health(health)
		c.CreatedAt = fromMS(created)
		c.StartedAt, c.FinishedAt = fromMS(started), fromMS(finished)
		if err := json.Unmarshal([]byte(ports), &c.Ports); err != nil {
			return nil, fmt.Errorf("container %s ports: %w", c.Name, err)
		}
		if err := json.Unmarshal([]byte(labels), &c.Labels); err != nil {
			return nil, fmt.Errorf("container %s labels: %w", c.Name, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("containers: %w", err)
	}
	return out, nil
}

// Images (read) lists the images of a host (every host when host is "",
// grouped by host name), by first tag then id.
func (s *Store) Images(ctx context.Context, host string) ([]deckhand.Image, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT i.image_id, i.repo_tags, i.size, i.created_at
		FROM images i JOIN hosts h ON h.id = i.host_id
		`+hostFilter(host)+`
		ORDER BY h.name, i.repo_tags ->> '$[0]', i.image_id`, hostArgs(host)...)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	defer rows.Close()
	var out []deckhand.Image
	for rows.Next() {
		var im deckhand.Image
		var tags string
		var created sql.NullInt64
		if err := rows.Scan(&im.ID, &tags, &im.Size, &created); err != nil {
			return nil, fmt.Errorf("images: %w", err)
		}
		if err := json.Unmarshal([]byte(tags), &im.RepoTags); err != nil {
			return nil, fmt.Errorf("image %s tags: %w", im.ID, err)
		}
		im.CreatedAt = fromMS(created)
		out = append(out, im)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	return out, nil
}

// Volumes (read) lists the volumes of a host (every host when host is "",
// grouped by host name), by name.
func (s *Store) Volumes(ctx context.Context, host string) ([]deckhand.Volume, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT v.name, v.driver, v.mountpoint, v.scope, v.size, v.links
		FROM volumes v JOIN hosts h ON h.id = v.host_id
		`+hostFilter(host)+`
		ORDER BY h.name, v.name`, hostArgs(host)...)
	if err != nil {
		return nil, fmt.Errorf("volumes: %w", err)
	}
	defer rows.Close()
	var out []deckhand.Volume
	for rows.Next() {
		var v deckhand.Volume
		if err := rows.Scan(&v.Name, &v.Driver, &v.Mountpoint, &v.Scope, &v.Size, &v.Links); err != nil {
			return nil, fmt.Errorf("volumes: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("volumes: %w", err)
	}
	return out, nil
}

// hostFilter and hostArgs restrict a query joined with hosts h to one host,
// or to none when host is "". Two query shapes rather than one with an OR on
// a parameter, so that SQLite can use the host index.
func hostFilter(host string) string {
	if host == "" {
		return ""
	}
	return "WHERE h.name = ?"
}

func hostArgs(host string) []any {
	if host == "" {
		return nil
	}
	return []any{host}
}
