package deckhand

import (
	"errors"
	"path"
)

// Selector picks containers by host, name and compose project; empty fields
// match anything and Name and Project may be shell patterns (path.Match),
// e.g. Name "*" with Host "nas" for every container of nas.
type Selector struct {
	Host    string `toml:"host"`
	Name    string `toml:"name"`
	Project string `toml:"project"`
}

// Matches reports whether the selector picks the container. A pattern
// Validate refuses matches nothing.
func (s Selector) Matches(c Container) bool {
	if s.Host != "" && s.Host != c.Host {
		return false
	}
	if s.Name != "" {
		if ok, _ := path.Match(s.Name, c.Name); !ok {
			return false
		}
	}
	if s.Project != "" {
		if ok, _ := path.Match(s.Project, projectOf(c)); !ok {
			return false
		}
	}
	return true
}

// Validate reports an empty selector (it would match every container by
// accident) and patterns path.Match refuses, naming the field; the errors
// wrap ErrInvalidInput.
func (s Selector) Validate() error {
	var errs []error
	if s == (Selector{}) {
		errs = append(errs, Invalid("", "empty selector: set host, name or project (name \"*\" matches every container)"))
	}
	for _, f := range []struct{ key, pattern string }{{"name", s.Name}, {"project", s.Project}} {
		if _, err := path.Match(f.pattern, ""); err != nil {
			errs = append(errs, Invalid(f.key, "bad pattern %q: %v", f.pattern, err))
		}
	}
	return errors.Join(errs...)
}

// Watchlist is the one answer to "is this container watched, is it
// public": the homelab.monitor and homelab.public labels plus the
// [[alerts.select]] and [[alerts.exclude]] entries of the configuration.
type Watchlist struct {
	// Select lists containers watched even without homelab.monitor=true.
	Select []Selector
	// Exclude lists containers never watched, whatever their labels.
	Exclude []Selector
}

// Watched reports whether deckhand alerts on the container: the
// homelab.monitor label or a Select entry, unless an Exclude entry matches.
func (w Watchlist) Watched(c Container) bool {
	for _, s := range w.Exclude {
		if s.Matches(c) {
			return false
		}
	}
	if labelTrue(c.Labels[LabelMonitor]) {
		return true
	}
	for _, s := range w.Select {
		if s.Matches(c) {
			return true
		}
	}
	return false
}

// Public reports whether the container appears on the status page:
// homelab.public when set, otherwise whether it is watched.
func (w Watchlist) Public(c Container) bool {
	if v, ok := c.Labels[LabelPublic]; ok {
		return labelTrue(v)
	}
	return w.Watched(c)
}

func projectOf(c Container) string {
	if c.ComposeProject != "" {
		return c.ComposeProject
	}
	return c.Labels[LabelComposeProject]
}
