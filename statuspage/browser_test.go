package statuspage

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/deckhand/deckhand"
)

// These tests drive a real Chromium (Debian's `chromium`). They skip when it
// is missing, unless DECKHAND_REQUIRE_INTEGRATION=1, as in CI.

func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("DECKHAND_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv("DECKHAND_REQUIRE_INTEGRATION") == "1" {
		t.Fatal("chromium not found and DECKHAND_REQUIRE_INTEGRATION=1")
	}
	t.Skip("chromium not found; set DECKHAND_REQUIRE_INTEGRATION=1 to make this a failure")
	return ""
}

func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Headless,
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // start the browser now
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// newTab opens a tab of the same browser.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	return ctx
}

// console records every console call, uncaught exception and browser log
// entry (CSP violations and failed loads are logged there) of a tab.
type console struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

func watchConsole(t *testing.T, ctx context.Context) *console {
	t.Helper()
	c := &console{}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.msgs = append(c.msgs, m)
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *console) problems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.msgs {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
			out = append(out, m.String()+" ("+m.Source+" "+m.URL+")")
		}
	}
	return out
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DECKHAND_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	return dir
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mainText(t *testing.T, ctx context.Context) string {
	t.Helper()
	txt, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatalf("read main text: %v", err)
	}
	return txt
}

const jellyfinRow = `document.querySelector('[data-host="nas"][data-container="jellyfin"]')`

func TestBrowser(t *testing.T) {
	browser := newBrowser(t)
	p := newTestPage(t, fixtureConfig)
	p.Update(fixtureView())
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)

	// Negative control: the console watcher does see CSP violations, so the
	// clean runs below mean something.
	t.Run("csp violations are reported", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.Handle("/", p.Handler())
		mux.Handle("/probe", p.secure(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(`<!doctype html><title>probe</title><p style="color:red">x</p><script>document.title="ran"</script>`))
		})))
		probe := httptest.NewServer(mux)
		t.Cleanup(probe.Close)
		tab := newTab(t, browser)
		con := watchConsole(t, tab)
		if err := chromedp.Do(tab, chromedp.Navigate(probe.URL+"/probe")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a CSP violation in the console", func() bool {
			for _, m := range con.problems() {
				if strings.Contains(m, "Content Security Policy") {
					return true
				}
			}
			return false
		})
		if title, _ := chromedp.Run(tab, chromedp.Title()); title == "ran" {
			t.Error("inline script ran despite the CSP")
		}
	})

	tab := newTab(t, browser)
	con := watchConsole(t, tab)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1366, 900), chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "live.js to subscribe to /events", func() bool { return p.events.clients() == 1 })

	t.Run("page shows the view", func(t *testing.T) {
		txt := mainText(t, tab)
		for _, want := range []string{"Major outage", "jellyfin", "nextcloud", "Degraded", "Maintenance",
			"nightly updates until 12:30 UTC", "pi unreachable", "Acknowledged: yes", "web on vps down",
			"jellyfin on nas down", "NAS disk swap", "Router replaced", "Past incidents"} {
			if !strings.Contains(txt, want) {
				t.Errorf("page text lacks %q", want)
			}
		}
		for _, hidden := range []string{"vaultwarden", "grafana"} {
			if strings.Contains(txt, hidden) {
				t.Errorf("page text shows %q", hidden)
			}
		}
		if alert, _ := chromedp.Run(tab, chromedp.Evaluate[bool](`typeof window.__alerted !== "undefined"`)); alert {
			t.Error("announcement markup executed script")
		}
	})

	for _, shot := range []struct {
		name string
		w, h int64
		dark bool
	}{
		{"statuspage-390x844.png", 390, 844, false},
		{"statuspage-1366x900.png", 1366, 900, false},
		{"statuspage-390x844-dark.png", 390, 844, true},
	} {
		scheme := "light"
		if shot.dark {
			scheme = "dark"
		}
		media := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}
		err := chromedp.Do(tab,
			chromedp.EmulateViewport(shot.w, shot.h),
			chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
				_, err := cdp.Call(ctx, tt, emulation.SetEmulatedMedia, media)
				return err
			}),
		)
		if err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", shot.name, err)
		}
		if err := os.WriteFile(filepath.Join(artifactsDir(t), shot.name), png, 0o644); err != nil {
			t.Fatal(err)
		}
		// What the screen shows first, without scrolling.
		first, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("viewport screenshot %s: %v", shot.name, err)
		}
		if err := os.WriteFile(filepath.Join(artifactsDir(t), strings.Replace(shot.name, ".png", "-viewport.png", 1)), first, 0o644); err != nil {
			t.Fatal(err)
		}
		if shot.w == 390 {
			// Nothing may overflow a phone screen sideways.
			wide, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if wide {
				t.Errorf("%s: the page scrolls horizontally", shot.name)
			}
		}
	}

	jsText := mainText(t, tab)

	t.Run("updates live without reload", func(t *testing.T) {
		if _, err := chromedp.Run(tab, chromedp.Evaluate[int](`window.__deckhandMarker = 42`)); err != nil {
			t.Fatal(err)
		}
		v := fixtureView()
		v.GeneratedAt = fixtureNow.Add(time.Minute)
		v.Containers[0].State = deckhand.StateExited // jellyfin stops
		v.Containers[0].Health = deckhand.HealthNone
		v.Containers[0].FinishedAt = v.GeneratedAt
		v.Hosts[2].Status = deckhand.HostOK // pi is back: the banner should drop from major to degraded
		v.Active = v.Active[:1]
		p.Update(v)
		_, err := chromedp.Run(tab, chromedp.Poll[bool](
			jellyfinRow+`.dataset.status === "down" && `+jellyfinRow+`.querySelector('[data-field="status-text"]').textContent === "Down"`,
			chromedp.WithPollingTimeout(15*time.Second)))
		if err != nil {
			t.Fatalf("jellyfin row did not turn down: %v", err)
		}
		for expr, want := range map[string]string{
			`document.querySelector('[data-field="overall-text"]').textContent`:                     "Degraded service",
			jellyfinRow + `.querySelector('[data-field="since"]').textContent`:                      "2025-03-10 12:01 UTC",
			jellyfinRow + `.querySelector('[data-field="health"]').hidden ? "hidden" : "shown"`:     "hidden",
			`document.querySelector('[data-field="generated"]').textContent`:                        "2025-03-10 12:01 UTC",
			`document.querySelector('[data-hostname="pi"] [data-field="status-text"]').textContent`: "Up",
			`document.querySelector('[data-field="reload"]').hidden ? "hidden" : "shown"`:           "shown", // the pi incident closed
			`String(window.__deckhandMarker)`:                                                       "42",    // same document: no reload happened
		} {
			got, err := chromedp.Run(tab, chromedp.Evaluate[string](expr))
			if err != nil {
				t.Fatalf("%s: %v", expr, err)
			}
			if got != want {
				t.Errorf("%s = %q, want %q", expr, got, want)
			}
		}
	})

	t.Run("works without javascript", func(t *testing.T) {
		p.Update(fixtureView()) // back to the state jsText was read in
		noJS := newTab(t, browser)
		noJSConsole := watchConsole(t, noJS)
		err := chromedp.Do(noJS,
			chromedp.EmulateViewport(1366, 900),
			chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
				_, err := cdp.Call(ctx, tt, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
				return err
			}),
			chromedp.Navigate(srv.URL+"/"),
		)
		if err != nil {
			t.Fatal(err)
		}
		txt := mainText(t, noJS)
		if txt != jsText {
			t.Errorf("without JavaScript the page differs:\n--- with JS\n%s\n--- without\n%s", jsText, txt)
		}
		if n := p.events.clients(); n != 1 {
			t.Errorf("%d live clients, want 1: the script ran in the no-JS tab or the JS tab lost its stream", n)
		}
		if probs := noJSConsole.problems(); len(probs) > 0 {
			t.Errorf("console problems without JS: %q", probs)
		}
		// The host page too.
		if err := chromedp.Do(noJS, chromedp.Navigate(srv.URL+"/host/vps")); err != nil {
			t.Fatal(err)
		}
		if hostText := mainText(t, noJS); !strings.Contains(hostText, "web on vps down") || !strings.Contains(hostText, "updater") {
			t.Errorf("host page without JS lacks content:\n%s", hostText)
		}
	})

	t.Run("summary front page updates counts live", func(t *testing.T) {
		cfg := fixtureConfig
		cfg.DetailLimit = 3
		sp := newTestPage(t, cfg)
		sp.Update(fixtureView())
		ssrv := httptest.NewServer(sp.Handler())
		t.Cleanup(ssrv.Close)
		stab := newTab(t, browser)
		scon := watchConsole(t, stab)
		if err := chromedp.Do(stab, chromedp.Navigate(ssrv.URL+"/")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "live.js to subscribe", func() bool { return sp.events.clients() == 1 })
		v := fixtureView()
		v.Containers[0].State = deckhand.StateExited // jellyfin, not listed on the summary
		sp.Update(v)
		_, err := chromedp.Run(stab, chromedp.Poll[bool](
			`document.querySelector('[data-hostname="nas"] [data-field="counts"]').textContent === "1 up · 1 degraded · 1 down · 1 stopped"`+
				` && !document.querySelector('[data-field="reload"]').hidden`,
			chromedp.WithPollingTimeout(15*time.Second)))
		if err != nil {
			t.Fatalf("counts or reload notice did not update: %v", err)
		}
		if probs := scon.problems(); len(probs) > 0 {
			t.Errorf("console problems: %q", probs)
		}
	})

	if probs := con.problems(); len(probs) > 0 {
		t.Errorf("console errors, warnings or CSP violations: %q", probs)
	}
}
