// Command deckhand is the chat-ops daemon: it watches Docker hosts over SSH,
// alerts in Discord, Telegram and ntfy, runs whitelisted actions from chat
// and serves a public status page. main only wires: see run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "deckhand:", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `deckhand — Docker hosts in your chat.

usage: deckhand <command> [flags]

commands:
  run           run the daemon (default config: the local Docker engine, ./deckhand.db, status page on 127.0.0.1:8080)
  check-config  validate a config file and print what it would watch
  doctor        check every host and chat platform for real, one line per check with its fix (--send-test publishes to ntfy)
  exec          run a chat command from the terminal as admin: deckhand exec -- /restart nas jellyfin
  outbox        list the notifications not delivered yet (outbox list), queue dead ones again (outbox retry --all | ID...)
  healthcheck   exit 0 when the running daemon answers /healthz, 1 with the reason (for Docker HEALTHCHECK)
  version       print the version

Every command takes --config FILE (default $DECKHAND_CONFIG, else the embedded default).`

// run is the whole program behind main, so tests can drive it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		args = []string{"run"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, rest, stdout, stderr)
	case "check-config":
		return cmdCheckConfig(rest, stdout)
	case "doctor":
		return cmdDoctor(ctx, rest, stdout)
	case "exec":
		return cmdExec(ctx, rest, stdout, stderr)
	case "healthcheck":
		return cmdHealthcheck(ctx, rest, stdout)
	case "outbox":
		return cmdOutbox(ctx, rest, stdout)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "deckhand", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q\n\n%s", cmd, usage)}
}

// configFlag adds --config to a flag set.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", os.Getenv("DECKHAND_CONFIG"), "config file (default: embedded: local engine, ./deckhand.db)")
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Sprintf("%s: %v\n\n%s", fs.Name(), err, usage)}
	}
	return nil
}

// readConfig loads the file named by --config or the embedded default.
func readConfig(path string) (*fileConfig, error) {
	if path == "" {
		return parseConfig("(embedded default)", defaultConfig)
	}
	return loadConfig(path)
}

func cmdCheckConfig(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	path := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := readConfig(*path)
	if err != nil {
		return err
	}
	page := "status page on " + cfg.Status.Listen
	if !cfg.statusEnabled() {
		page = "status page off"
	}
	fmt.Fprintf(stdout, "config OK: %d host(s), database %s, %s\n", len(cfg.Hosts), cfg.Data, page)
	for _, h := range cfg.collectorHosts() {
		where := "this machine"
		if h.Transport == "ssh" {
			where = h.User + "@" + h.Address
		}
		fmt.Fprintf(stdout, "  host %-16s %-5s %s (docker: %s)\n", h.Name, h.Transport, where, h.DockerPath)
	}
	chans := cfg.platforms()
	if len(chans) == 0 {
		chans = append(chans, "none (alerts are stored and shown on the status page only)")
	}
	fmt.Fprintf(stdout, "  notifications: %s\n", strings.Join(chans, ", "))
	return nil
}

func cmdHealthcheck(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	path := configFlag(fs)
	url := fs.String("url", "", "URL to check (default: http://<statuspage.listen>/healthz)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	target := *url
	if target == "" {
		cfg, err := readConfig(*path)
		if err != nil {
			return err
		}
		if !cfg.statusEnabled() {
			return errors.New("healthcheck: [statuspage] enabled = false: nothing serves /healthz")
		}
		target = "http://" + dialable(cfg.Status.Listen) + "/healthz"
	}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintln(stdout, strings.TrimSpace(string(body)))
	return nil
}

// dialable turns a listen address into one a client can dial: ":8080" and
// "0.0.0.0:8080" become "127.0.0.1:8080".
func dialable(listen string) string {
	switch {
	case strings.HasPrefix(listen, ":"):
		return "127.0.0.1" + listen
	case strings.HasPrefix(listen, "0.0.0.0:"):
		return "127.0.0.1" + strings.TrimPrefix(listen, "0.0.0.0")
	case strings.HasPrefix(listen, "[::]:"):
		return "[::1]" + strings.TrimPrefix(listen, "[::]")
	}
	return listen
}

func newLogger(cfg *fileConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
