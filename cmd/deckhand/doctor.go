package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot/discord"
	"github.com/deckhand/deckhand/bot/ntfy"
	"github.com/deckhand/deckhand/bot/telegram"
	"github.com/deckhand/deckhand/collector"
)

// cmdDoctor checks every host and platform of the config against the real
// thing and prints one line per check with its fix; any failure is an
// error, so the exit status says it.
func cmdDoctor(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	path := configFlag(fs)
	sendTest := fs.Bool("send-test", false, "also publish a test message to ntfy (the only proof of publish access)")
	timeout := fs.Duration("timeout", 20*time.Second, "bound on each check")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := readConfig(*path)
	if err != nil {
		return err
	}
	checks, err := doctorChecks(ctx, cfg, *sendTest, *timeout)
	if err != nil {
		return err
	}
	failed := 0
	for _, c := range checks {
		fmt.Fprintln(stdout, doctorLine(c))
		if c.Failed {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("doctor: %d of %d checks failed", failed, len(checks))
	}
	return nil
}

func doctorLine(c deckhand.Check) string {
	if !c.Failed {
		return "ok   " + c.Subject + ": " + c.Detail
	}
	return "FAIL " + c.Subject + ": " + c.Detail + " — " + c.Fix
}

// doctorChecks runs the checks concurrently, each bounded by timeout, and
// returns them in config order: hosts, ntfy, discord, telegram, public_url.
func doctorChecks(ctx context.Context, cfg *fileConfig, sendTest bool, timeout time.Duration) ([]deckhand.Check, error) {
	quiet := slog.New(slog.DiscardHandler)
	coll, err := collector.New(cfg.collectorHosts(), cfg.collectorOptions(quiet))
	if err != nil {
		return nil, err
	}
	defer coll.Close()
	var groups []func(context.Context) []deckhand.Check
	for _, h := range coll.Hosts() {
		groups = append(groups, func(ctx context.Context) []deckhand.Check {
			return []deckhand.Check{coll.Probe(ctx, h)}
		})
	}
	if cfg.ntfyOn() {
		groups = append(groups, func(ctx context.Context) []deckhand.Check { return doctorNtfy(ctx, cfg, sendTest) })
	}
	if cfg.discordOn() {
		groups = append(groups, func(ctx context.Context) []deckhand.Check {
			return discord.Doctor(ctx, cfg.discordConfig(), cfg.discordOptions(quiet))
		})
	}
	if cfg.telegramOn() {
		groups = append(groups, func(ctx context.Context) []deckhand.Check {
			return telegram.Doctor(ctx, cfg.telegramConfig(), cfg.Telegram.APIURL, httpClient())
		})
	}
	// Without a chat platform nobody opens public_url from a notification.
	if len(cfg.platforms()) > 0 {
		groups = append(groups, func(ctx context.Context) []deckhand.Check {
			return []deckhand.Check{doctorPublicURL(ctx, cfg.PublicURL)}
		})
	}
	results := make([][]deckhand.Check, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			results[i] = g(ctx)
		})
	}
	wg.Wait()
	var out []deckhand.Check
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
}

func doctorNtfy(ctx context.Context, cfg *fileConfig, sendTest bool) []deckhand.Check {
	ncfg, _ := cfg.ntfyConfig()
	s, err := ntfy.New(ncfg, nil, httpClient(), nil)
	if err != nil {
		return []deckhand.Check{deckhand.Fail("ntfy", err.Error(), "fix the [ntfy] section")}
	}
	return s.Doctor(ctx, sendTest)
}

// doctorPublicURL checks that public_url answers from here: the status
// page links and ntfy's buttons point at it. Only the scheme and host are
// printed, in case the URL carries more than it should.
func doctorPublicURL(ctx context.Context, public string) deckhand.Check {
	const subject = "public_url"
	u, err := url.Parse(public)
	if err != nil || u.Host == "" {
		return deckhand.Fail(subject, "not an http(s) URL", `set public_url = "https://status.example.org"`)
	}
	shown := u.Scheme + "://" + u.Host
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, public, nil)
	if err != nil {
		return deckhand.Fail(subject, shown+": "+err.Error(), `set public_url = "https://status.example.org"`)
	}
	resp, err := httpClient().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return deckhand.Fail(subject, shown+" not reachable from here: "+err.Error(),
			"start deckhand (the page is served by `deckhand run`), or fix public_url: phones open it from alerts and buttons")
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return deckhand.Fail(subject, shown+" answers "+resp.Status, "check the reverse proxy in front of deckhand")
	}
	return deckhand.Pass(subject, shown+" answers "+resp.Status)
}
