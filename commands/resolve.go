package commands

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/deckhand/deckhand"
)

// maxRefLen bounds host, container and project arguments: anything longer
// cannot name a real object and is not worth comparing.
const maxRefLen = 128

// hostArg resolves a host argument against the inventory and the actor's
// scope. needEnabled refuses disabled hosts (actions that reach the host).
func (r *Router) hostArg(ctx context.Context, c *call, arg string, needEnabled bool) (deckhand.Host, error) {
	c.host = truncate(sanitizeLine(arg), maxRefLen)
	hosts, err := r.deps.Inventory.Hosts(ctx)
	if err != nil {
		return deckhand.Host{}, fmt.Errorf("list hosts: %w", err)
	}
	h, ok := containsHost(hosts, arg)
	if !ok && len(arg) <= maxRefLen {
		// Case slips are common on phones; only a unique match counts.
		var match []deckhand.Host
		for _, x := range hosts {
			if strings.EqualFold(x.Name, arg) {
				match = append(match, x)
			}
		}
		if len(match) == 1 {
			h, ok = match[0], true
		}
	}
	if !ok {
		var names []string
		for _, x := range hosts {
			if c.actor.CanReach(x.Name) {
				names = append(names, x.Name)
			}
		}
		return deckhand.Host{}, fail("error", deckhand.ErrNotFound, "No host %s.%s", display(arg), suggestText(arg, names))
	}
	c.host = h.Name
	if !c.actor.CanReach(h.Name) {
		return deckhand.Host{}, denied("Your role does not cover host %s.", display(h.Name))
	}
	if needEnabled && !h.Enabled {
		return deckhand.Host{}, fail("error", deckhand.ErrHostDisabled, "Host %s is disabled; an admin can /enable-host %s.", display(h.Name), h.Name)
	}
	return h, nil
}

// containerArg resolves a container argument — an exact name, a full ID or
// an ID prefix of at least 3 hex digits — against the host's snapshot. Only
// what it returns is ever handed to Docker.
func (r *Router) containerArg(ctx context.Context, c *call, host, arg string) (deckhand.Container, error) {
	c.target = truncate(sanitizeLine(arg), maxRefLen)
	list, err := r.deps.Inventory.Containers(ctx, host)
	if err != nil {
		return deckhand.Container{}, fmt.Errorf("list containers on %s: %w", host, err)
	}
	ctr, err := resolveContainer(list, arg)
	if err != nil {
		return deckhand.Container{}, err
	}
	c.target = ctr.Name
	return ctr, nil
}

func resolveContainer(list []deckhand.Container, arg string) (deckhand.Container, error) {
	notFound := func() error {
		names := make([]string, 0, len(list))
		for _, x := range list {
			names = append(names, x.Name)
		}
		return fail("error", deckhand.ErrNotFound, "No container %s.%s", display(arg), suggestText(arg, names))
	}
	if arg == "" || len(arg) > maxRefLen {
		return deckhand.Container{}, notFound()
	}
	for _, x := range list {
		if x.Name == arg || (x.ID != "" && x.ID == arg) {
			return x, nil
		}
	}
	var fold []deckhand.Container
	for _, x := range list {
		if strings.EqualFold(x.Name, arg) {
			fold = append(fold, x)
		}
	}
	if len(fold) == 1 {
		return fold[0], nil
	}
	if len(arg) >= 3 && isHex(arg) {
		lower := strings.ToLower(arg)
		var match []deckhand.Container
		for _, x := range list {
			if strings.HasPrefix(x.ID, lower) {
				match = append(match, x)
			}
		}
		switch len(match) {
		case 0:
		case 1:
			return match[0], nil
		default:
			names := make([]string, 0, len(match))
			for _, x := range match {
				names = append(names, fmt.Sprintf("%s (%s)", x.Name, shortID(x.ID)))
			}
			return deckhand.Container{}, fail("error", deckhand.ErrAmbiguous, "%s matches %d containers: %s. Use a longer prefix or the name.",
				display(arg), len(match), trimList(names, 10, ", "))
		}
	}
	return deckhand.Container{}, notFound()
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// suggest returns up to 5 candidates close to arg: by edit distance, or
// containing it.
func suggest(arg string, candidates []string) []string {
	if arg == "" || utf8.RuneCountInString(arg) > maxRefLen {
		return nil
	}
	type scored struct {
		name string
		d    int
	}
	la := strings.ToLower(arg)
	limit := max(2, utf8.RuneCountInString(arg)/3)
	var out []scored
	for _, n := range candidates {
		ln := strings.ToLower(n)
		d := levenshtein(la, ln)
		switch {
		case d <= limit:
			out = append(out, scored{n, d})
		case len(la) >= 3 && (strings.Contains(ln, la) || strings.Contains(la, ln)):
			out = append(out, scored{n, limit + 1})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].d != out[j].d {
			return out[i].d < out[j].d
		}
		return out[i].name < out[j].name
	})
	var names []string
	for _, s := range out {
		if !slices.Contains(names, s.name) {
			names = append(names, s.name)
		}
		if len(names) == 5 {
			break
		}
	}
	return names
}

func suggestText(arg string, candidates []string) string {
	s := suggest(arg, candidates)
	if len(s) == 0 {
		return ""
	}
	q := make([]string, len(s))
	for i, n := range s {
		q[i] = display(n)
	}
	return " Did you mean " + strings.Join(q, ", ") + "?"
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(rb) > 4*maxRefLen {
		rb = rb[:4*maxRefLen]
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Complete offers values for a host, container or project argument that
// start with prefix (case-insensitive), at most 25 as Discord allows.
func (r *Router) Complete(ctx context.Context, kind ArgKind, host, prefix string) []string {
	const maxChoices = 25
	if len(prefix) > maxRefLen {
		return nil
	}
	p := strings.ToLower(prefix)
	var out []string
	add := func(s string) {
		if strings.HasPrefix(strings.ToLower(s), p) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	switch kind {
	case ArgHost:
		hosts, err := r.deps.Inventory.Hosts(ctx)
		if err != nil {
			return nil
		}
		for _, h := range hosts {
			add(h.Name)
		}
	case ArgContainer, ArgProject:
		if host == "" {
			return nil
		}
		list, err := r.deps.Inventory.Containers(ctx, host)
		if err != nil {
			return nil
		}
		for _, c := range list {
			if kind == ArgContainer {
				add(c.Name)
			} else if c.ComposeProject != "" {
				add(c.ComposeProject)
			}
		}
	default:
		return nil
	}
	sort.Strings(out)
	if len(out) > maxChoices {
		out = out[:maxChoices]
	}
	return out
}
