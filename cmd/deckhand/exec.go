package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/commands"
)

// cmdExec runs one chat command from a terminal through the same router as
// the chat platforms, as the local admin: `deckhand exec -- /restart nas jellyfin`.
func cmdExec(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	path := configFlag(fs)
	yes := fs.Bool("yes", false, "confirm /remove and /redeploy without asking")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	line := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(line) == "" {
		return usageError{"exec: give a command, e.g. deckhand exec -- /status"}
	}
	if !strings.HasPrefix(line, "/") {
		line = "/" + line
	}
	name, argv, err := commands.ParseLine(line)
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	cfg, err := readConfig(*path)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	d, err := newDaemon(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer d.close()
	actor := deckhand.Actor{Platform: deckhand.PlatformCLI, UserID: currentUser(), Name: currentUser(), Role: deckhand.RoleAdmin}
	req := commands.Request{Actor: actor, Command: name, Args: argv}
	// A fresh look at the hosts the command names, so that names resolve
	// even when no daemon has collected into this database yet; none for
	// a command that reads no host (/help, /alerts).
	if names, all := d.router.HostsNamed(req); all {
		d.mon.CollectOnce(ctx, nil, false)
	} else if len(names) > 0 {
		d.mon.CollectOnce(ctx, names, false)
	}
	reply := d.router.Handle(ctx, req)
	printReply(stdout, reply)
	for _, b := range reply.Buttons {
		if *yes && b.Style == commands.Danger {
			reply = d.router.HandleButton(ctx, actor, b.Payload)
			printReply(stdout, reply)
			break
		}
	}
	// No daemon loop runs here to write later what the database could not
	// take now: it is an error, as it was before there was a backlog.
	if err := d.backlog.Flush(ctx); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	if reply.Error {
		return fmt.Errorf("exec: %s failed", name)
	}
	if len(reply.Buttons) > 0 && !*yes {
		fmt.Fprintln(stdout, "(run again with --yes to confirm)")
	}
	return nil
}

func printReply(w io.Writer, r commands.Reply) {
	if r.Title != "" {
		fmt.Fprintln(w, r.Title)
	}
	if r.Text != "" {
		fmt.Fprintln(w, r.Text)
	}
	if r.File != nil {
		w.Write(r.File.Data)
		if n := len(r.File.Data); n > 0 && r.File.Data[n-1] != '\n' {
			fmt.Fprintln(w)
		}
	}
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if v := os.Getenv("USER"); v != "" {
		return v
	}
	return "local"
}
