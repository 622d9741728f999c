package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
)

const outboxUsage = `usage: deckhand outbox list [--config FILE]
       deckhand outbox retry [--config FILE] (--all | ID...)

list shows the notifications not delivered yet: dead ones (refused in every form) and queued ones.
retry queues dead notifications again; a running deckhand sends them within a second.`

// cmdOutbox is `deckhand outbox list|retry`: the undelivered notifications
// of the configured database, and a way to queue dead ones again once
// whatever refused them is fixed.
func cmdOutbox(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{outboxUsage}
	}
	fs := flag.NewFlagSet("outbox "+args[0], flag.ContinueOnError)
	path := configFlag(fs)
	all := fs.Bool("all", false, "retry every dead notification")
	fs.SetOutput(io.Discard)
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return usageError{fmt.Sprintf("outbox %s: %v\n\n%s", args[0], err, outboxUsage)}
	}
	var run func(context.Context, *store.Store) error
	switch args[0] {
	case "list":
		if *all || len(pos) > 0 {
			return usageError{outboxUsage}
		}
		run = func(ctx context.Context, st *store.Store) error { return outboxList(ctx, st, stdout) }
	case "retry":
		ids, err := outboxIDs(pos, *all)
		if err != nil {
			return err
		}
		run = func(ctx context.Context, st *store.Store) error { return outboxRetry(ctx, st, ids, stdout) }
	default:
		return usageError{fmt.Sprintf("outbox: unknown command %q\n\n%s", args[0], outboxUsage)}
	}
	cfg, err := readConfig(*path)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.Data)
	if err != nil {
		return fmt.Errorf("open database %s: %w", cfg.Data, err)
	}
	defer st.Close()
	return run(ctx, st)
}

// parseInterspersed parses flags wherever they are among the positional
// arguments ("retry 12 --config f"), which flag alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// outboxIDs reads retry's arguments: --all (nil) or IDs, not both.
func outboxIDs(args []string, all bool) ([]int64, error) {
	if all == (len(args) > 0) {
		return nil, usageError{"outbox retry: give --all or the IDs that outbox list shows, not both\n\n" + outboxUsage}
	}
	var ids []int64
	for _, a := range args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return nil, usageError{fmt.Sprintf("outbox retry: %q is not an outbox ID\n\n%s", a, outboxUsage)}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func outboxList(ctx context.Context, st *store.Store, w io.Writer) error {
	items, err := st.PendingOutbox(ctx)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		fmt.Fprintln(w, "outbox empty: every notification was delivered")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPLATFORM\tKIND\tSUBJECT\tATTEMPTS\tSTATE\tCREATED\tLAST ERROR")
	dead := 0
	for _, it := range items {
		state := "queued, next " + it.NextAttemptAt.UTC().Format(time.RFC3339)
		if it.Dead {
			state, dead = "dead", dead+1
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", it.ID, it.Platform, it.Notice.Kind, subject(it.Notice),
			it.Attempts, state, it.CreatedAt.UTC().Format(time.RFC3339), orDash(oneLine(it.LastError, 100)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d dead, %d queued", dead, len(items)-dead)
	if dead > 0 {
		fmt.Fprint(w, "; deckhand outbox retry --all queues the dead ones again")
	}
	fmt.Fprintln(w)
	return nil
}

func outboxRetry(ctx context.Context, st *store.Store, ids []int64, w io.Writer) error {
	done, err := st.RetryDead(ctx, time.Now(), ids...)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "queued %d dead notification(s) again\n", len(done))
	var missing []string
	for _, id := range ids {
		if !slices.Contains(done, id) {
			missing = append(missing, strconv.FormatInt(id, 10))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("outbox retry: not dead (queued, delivered or unknown): %s: %w",
			strings.Join(missing, ", "), deckhand.ErrNotFound)
	}
	return nil
}

// subject is what a notice is about, as the list shows it.
func subject(n deckhand.Notice) string {
	k := n.Alert.Key
	switch {
	case k.Host != "" && k.Container != "":
		return k.Host + "/" + k.Container
	case k.Host != "":
		return k.Host
	}
	return "-"
}

// oneLine flattens s and cuts it to n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
