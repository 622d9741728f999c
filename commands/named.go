package commands

import (
	"strings"

	"github.com/deckhand/deckhand"
)

// HostsNamed says which hosts a request reads: the hosts its host
// arguments name, or every host (all) for an overview command given none.
// A caller without a running collector (`deckhand exec`) collects exactly
// these before handling the request, and nothing for /help or /alerts.
func (r *Router) HostsNamed(req Request) (names []string, all bool) {
	spec, ok := r.byName[normalizeCommand(strings.TrimSpace(req.Command))]
	if !ok {
		return nil, false
	}
	hasHostArg := false
	for i, a := range spec.Args {
		if a.Kind != ArgHost {
			continue
		}
		hasHostArg = true
		if i < len(req.Args) && req.Args[i] != "" {
			names = append(names, req.Args[i])
		}
	}
	if len(names) > 0 {
		return names, false
	}
	overview := spec.Action == deckhand.ActionStatus || spec.Action == deckhand.ActionHosts
	return nil, overview || (hasHostArg && spec.Action == deckhand.ActionContainers)
}
