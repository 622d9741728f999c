package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/deckhand/deckhand/statuspage"
)

func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := loadConfig(filepath.Join("..", "..", "config.toml.example"))
	if err != nil {
		t.Fatalf("config.toml.example: %v", err)
	}
	if len(cfg.Hosts) != 1 || cfg.Hosts[0].Transport != "local" {
		t.Fatalf("example should watch the local engine, got %+v", cfg.Hosts)
	}
	if got := cfg.Collector.Interval.Duration; got != 15*time.Second {
		t.Errorf("collector.interval = %v", got)
	}
	if !cfg.statusEnabled() {
		t.Error("the example's status page is off")
	}
}

func TestEmbeddedDefaultIsValid(t *testing.T) {
	if _, err := parseConfig("(embedded default)", defaultConfig); err != nil {
		t.Fatal(err)
	}
}

// local is the smallest valid host list, for cases about other sections.
const local = "[[hosts]]\nname = \"a\"\ntransport = \"local\"\n"

// TestConfigErrors pins the whole message of each mistake: file:line, the
// key as config.toml spells it, and a reason without Go type names.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "id")
	if err := os.WriteFile(keyFile, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	ssh := "[[hosts]]\nname = \"nas\"\naddress = \"nas.lan\"\nuser = \"u\"\nkey_file = \"" + keyFile + "\"\nknown_hosts = \"/k\"\n"
	tests := []struct {
		name string
		toml string
		want string // the whole error, lines joined by \n
	}{
		// Decoding: unknown keys, types, durations, numbers.
		{"unknown top-level key", "dta = \"x.db\"\n" + local,
			`cfg.toml:1: dta: unknown key (check the spelling against config.toml.example)`},
		{"typo inside hosts", local + "docker_pth = \"/x\"\n",
			`cfg.toml:4: hosts[0].docker_pth: unknown key (check the spelling against config.toml.example)`},
		{"duration as a number", "[alerts]\ncooldown = 5\n" + local,
			`cfg.toml:2: alerts.cooldown: want a duration in quotes, e.g. "30s", "5m", "2h" or "7d", got a number`},
		{"bad duration", "[collector]\n\ninterval = \"soon\"\n" + local,
			`cfg.toml:3: collector.interval: "soon" is not a duration: want e.g. "30s", "5m", "2h" or "7d"`},
		{"duration in an array", "[alerts.auto_restart]\nbackoff = [\"1s\",\n  5]\n" + local,
			`cfg.toml:3: alerts.auto_restart.backoff[1]: want a duration in quotes, e.g. "30s", "5m", "2h" or "7d", got a number`},
		{"bool as a string", "[collector]\nevents = \"yes\"\n" + local,
			`cfg.toml:2: collector.events: want true or false, got a string`},
		{"number as a string", "[collector]\nconcurrency = \"many\"\n" + local,
			`cfg.toml:2: collector.concurrency: want a whole number, got a string`},
		{"number too large", "[collector]\nconcurrency = 99999999999999999999\n" + local,
			`cfg.toml:2: collector.concurrency: 99999999999999999999 is too large`},
		{"string as a number in the second host", local + "[[hosts]]\nname = 3\n",
			`cfg.toml:5: hosts[1].name: want a string in quotes, got a number`},
		{"table instead of array of tables", "[hosts]\nname = \"a\"\n",
			`cfg.toml:1: hosts: want [[hosts]] (an array of tables), got a table`},
		{"role as a number", local + "[discord.roles]\n\"1\" = 3\n",
			`cfg.toml:5: discord.roles.1: want a string in quotes, got a number`},
		{"syntax error", "[[hosts]\nname=\"a\"\n",
			`cfg.toml:1: expected ']]' to close array table name`},
		{"unset env var", "secret = \"${DECKHAND_TEST_UNSET_VAR}\"\n" + local,
			`cfg.toml:1: secret: environment variable DECKHAND_TEST_UNSET_VAR is not set`},

		// Validation: cmd's own rules and every package's Validate, once.
		{"no hosts", "data = \"x.db\"\n",
			`cfg.toml: hosts: no host configured: add at least one [[hosts]] (transport = "local" watches this machine)`},
		{"ssh host without address", "[[hosts]]\nname = \"nas\"\nuser = \"u\"\nkey_file = \"" + keyFile + "\"\nknown_hosts = \"/k\"\n",
			`cfg.toml:1: hosts[0].address: required for transport = "ssh" (host or host:port)`},
		{"second host bad transport", local + "\n[[hosts]]\nname = \"b\"\ntransport = \"telnet\"\n",
			`cfg.toml:7: hosts[1].transport: "telnet" is not "ssh" or "local"`},
		{"duplicate names", local + local,
			`cfg.toml:5: hosts[1].name: duplicate host name "a" (also hosts[0])`},
		{"ssh without known_hosts", strings.Replace(ssh, "known_hosts = \"/k\"\n", "", 1),
			`cfg.toml:1: hosts[0].known_hosts: required (e.g. ~/.ssh/known_hosts); to trust a host's key on first use set accept_unknown_host_key = true`},
		{"address port out of range", strings.Replace(ssh, "nas.lan", "nas.lan:70000", 1),
			`cfg.toml:3: hosts[0].address: port "70000" is not 1..65535`},
		{"missing key file", strings.Replace(ssh, keyFile, "/nonexistent/key", 1),
			`cfg.toml:5: hosts[0].key_file: stat /nonexistent/key: no such file or directory`},
		{"max_sessions above the collector's cap", ssh + "max_sessions = 10\n",
			`cfg.toml:7: hosts[0].max_sessions: 10 is out of range 1..8 (sshd allows 10 sessions per connection; deckhand keeps room for the events stream and yours)`},
		{"docker path injection", local + "docker_path = \"/bin/docker; rm -rf /\"\n",
			`cfg.toml:4: hosts[0].docker_path: "/bin/docker; rm -rf /" must be "docker" or an absolute path such as /usr/local/bin/docker, of letters, digits and ./_+-`},
		{"local host with ssh settings", local + "user = \"u\"\n",
			`cfg.toml:1: hosts[0]: address, user and key_file are for transport = "ssh"; a local host runs the docker CLI here`},
		{"concurrency out of range", "[collector]\nconcurrency = 5000\n" + local,
			`cfg.toml:2: collector.concurrency: 5000 is out of range 1..1024`},
		{"interval too short", "[collector]\ninterval = \"500ms\"\n" + local,
			`cfg.toml:2: collector.interval: 500ms is too short: at least 1s`},
		{"listen port out of range", "[statuspage]\nlisten = \"127.0.0.1:99999\"\n" + local,
			`cfg.toml:2: statuspage.listen: port "99999" is not 0..65535`},
		{"listen without port", "[statuspage]\nlisten = \"localhost\"\n" + local,
			`cfg.toml:2: statuspage.listen: "localhost" is not host:port (e.g. 127.0.0.1:8080)`},
		{"metrics neither a place nor an address", "[statuspage]\nmetrics = \"private\"\n" + local,
			`cfg.toml:2: statuspage.metrics: "private" is not "page", "off" or host:port (e.g. 127.0.0.1:9100)`},
		{"metrics on the page's address", "[statuspage]\nlisten = \"127.0.0.1:8080\"\nmetrics = \"127.0.0.1:8080\"\n" + local,
			`cfg.toml:3: statuspage.metrics: "127.0.0.1:8080" is statuspage.listen: say "page" to serve /metrics there`},
		{"selector pattern path.Match refuses", local + "[[alerts.select]]\nname = \"a[^-]*\"\n",
			`cfg.toml:5: alerts.select[0].name: bad pattern "a[^-]*": syntax error in pattern`},
		{"empty selector", local + "[alerts]\nexclude = [{}]\n",
			`cfg.toml:5: alerts.exclude[0]: empty selector: set host, name or project (name "*" matches every container)`},
		{"bad cron", local + "[[alerts.maintenance]]\nname=\"m\"\nschedule=\"every night\"\nduration=\"30m\"\n",
			`cfg.toml:6: alerts.maintenance[0].schedule: "every night" is not a 5-field cron spec (minute hour day-of-month month day-of-week): expected exactly 5 fields, found 2: [every night]`},
		{"maintenance of an unknown host", local + "[[alerts.maintenance]]\nname=\"m\"\nschedule=\"0 3 * * *\"\nduration=\"30m\"\nhosts = [\"b\"]\n",
			`cfg.toml:8: alerts.maintenance[0].hosts: unknown host "b"`},
		{"negative auto-restart max", local + "[alerts.auto_restart]\nmax = -1\n",
			`cfg.toml:5: alerts.auto_restart.max: must not be negative (got -1)`},
		{"bad role", local + "[telegram]\ntoken=\"1:aaaaaaaaaaaaaaaaaaaaaaaa\"\nalert_chat_id=-100\n[telegram.users]\n\"42\" = \"god\"\n",
			`cfg.toml:8: telegram.users.42: unknown role "god" (want viewer, operator or admin)`},
		{"telegram user id overflows", local + "[telegram]\ntoken=\"1:aaaaaaaaaaaaaaaaaaaaaaaa\"\nalert_chat_id=-100\n[telegram.users]\n\"99999999999999999999\" = \"admin\"\n",
			`cfg.toml:8: telegram.users.99999999999999999999: not a Telegram user ID (a number)`},
		{"telegram token shape", local + "[telegram]\ntoken=\"t\"\nalert_chat_id=-100\n",
			`cfg.toml:5: telegram.token: does not look like a Bot API token (digits, a colon, then the secret)`},
		{"disable unknown action", local + "[commands.disable]\noperator = [\"nuke\"]\n",
			`cfg.toml:5: commands.disable.operator: unknown action "nuke" (known: ` + actionList() + `)`},
		{"log tail out of range", local + "[commands]\nlog_tail = 5000\n",
			`cfg.toml:5: commands.log_tail: 5000 is out of range 1..1000`},
		{"short secret", "secret = \"abc\"\n" + local,
			"cfg.toml:1: secret: too short (3 bytes): use at least 32 random bytes, e.g. `openssl rand -hex 32`"},
		{"bad ntfy topic", local + "[ntfy]\ntopic = \"my topic!\"\n",
			`cfg.toml:5: ntfy.topic: "my topic!" must be 1 to 64 letters, digits, '-' or '_'`},
		{"ntfy priority out of range", local + "[ntfy]\ntopic = \"t\"\n[ntfy.priority]\nerror = 9\n",
			`cfg.toml:7: ntfy.priority.error: 9 is out of range 1 (min) to 5 (urgent)`},
		{"ntfy actions need the listener", local + "[statuspage]\nenabled = false\n[ntfy]\ntopic = \"t\"\nactions = true\n",
			`cfg.toml:8: ntfy.actions: the buttons post to /hooks/ntfy on the status page's listener: set [statuspage] enabled = true`},
		{"discord id", local + "[discord]\ntoken=\"x\"\nguild_id=\"abc\"\napplication_id=\"123456789012345678\"\nalert_channel_id=\"123456789012345678\"\n",
			`cfg.toml:6: discord.guild_id: "abc" is not a Discord ID (digits; enable Developer Mode and use Copy ID)`},
		{"discord id beyond 64 bits", local + "[discord]\ntoken=\"x\"\nguild_id=\"123456789012345678901\"\napplication_id=\"123456789012345678\"\nalert_channel_id=\"123456789012345678\"\n",
			`cfg.toml:6: discord.guild_id: "123456789012345678901" is not a Discord ID (digits; enable Developer Mode and use Copy ID)`},
		{"status page link", local + "[statuspage]\nlinks = [{label = \"Home\", url = \"javascript:alert(1)\"}]\n",
			`cfg.toml:5: statuspage.links[0].url: "javascript:alert(1)" must be an http(s) or mailto: URL, or a path on this site`},
		{"data directory missing", "data = \"/nonexistent/dir/x.db\"\n" + local,
			`cfg.toml:1: data: directory /nonexistent/dir does not exist`},
		{"several mistakes, in file order", "log_level = \"loud\"\n[collector]\nconcurrency = -1\n" + local + "[commands]\nlog_tail = -1\n",
			"cfg.toml:1: log_level: \"loud\" is not one of debug, info, warn, error\n" +
				"cfg.toml:3: collector.concurrency: -1 is out of range 1..1024\n" +
				"cfg.toml:8: commands.log_tail: -1 is out of range 1..1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig("cfg.toml", []byte(tt.toml))
			if err == nil {
				t.Fatal("accepted")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if msg := err.Error(); strings.Contains(msg, "main.") || strings.Contains(msg, "struct field") || strings.Contains(msg, "invalid input") {
				t.Errorf("message names Go internals: %s", err)
			}
		})
	}
}

// TestCheckConfigRejectsWhatRunRejects runs check-config on mistakes that
// used to pass it and fail only when run started listening or matching.
func TestCheckConfigRejectsWhatRunRejects(t *testing.T) {
	for _, tt := range []struct{ name, toml, want string }{
		{"listen", "[statuspage]\nlisten = \"127.0.0.1:99999\"\n" + local, "statuspage.listen"},
		{"pattern", local + "[[alerts.exclude]]\nproject = \"a[^-]*\"\n", "alerts.exclude[0].project"},
		{"max_sessions", local + "max_sessions = 9\n", "hosts[0].max_sessions"},
		{"telegram token", local + "[telegram]\ntoken = \"nope\"\nalert_chat_id = 5\n", "telegram.token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "deckhand.toml")
			if err := os.WriteFile(path, []byte(tt.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			err := run(context.Background(), []string{"check-config", "--config", path}, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), path+":") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("check-config = %v, want %s:…%s", err, path, tt.want)
			}
		})
	}
}

// TestConfigsOfTheBenchAndTestsStayValid: the shapes other code writes.
func TestConfigsOfTheBenchAndTestsStayValid(t *testing.T) {
	for _, raw := range []string{
		local + "[statuspage]\nlisten = \"127.0.0.1:0\"\n",
		local + "[statuspage]\nlisten = \"[::1]:8080\"\n",
		local + "[statuspage]\nlisten = \":8080\"\n",
	} {
		if _, err := parseConfig("cfg.toml", []byte(raw)); err != nil {
			t.Errorf("%q: %v", raw, err)
		}
	}
}

func TestStatusPageCanBeDisabled(t *testing.T) {
	cfg, err := parseConfig("cfg.toml", []byte(local+"[statuspage]\nenabled = false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.statusEnabled() {
		t.Error("enabled = false left the status page on")
	}
	cfg, err = parseConfig("cfg.toml", []byte(local))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.statusEnabled() {
		t.Error("the status page is off by default")
	}
}

func TestSecretsFromEnvAndFileNeverPrinted(t *testing.T) {
	t.Setenv("DECKHAND_TEST_TOKEN", "tok-from-env-1234")
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "tg")
	if err := os.WriteFile(tokenFile, []byte("123:tg-from-file-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	raw := "secret = \"${DECKHAND_TEST_TOKEN}-and-some-more-bytes-to-reach-32\"\n" + local +
		"[ntfy]\ntopic=\"t\"\ntoken=\"tk_${DECKHAND_TEST_TOKEN}\"\n" +
		"[telegram]\ntoken_file=\"" + tokenFile + "\"\nalert_chat_id=-1\n"
	cfg, err := parseConfig("cfg.toml", []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ntfy.Token.value != "tk_tok-from-env-1234" {
		t.Errorf("ntfy token = %q", cfg.Ntfy.Token.value)
	}
	if cfg.Telegram.Token.value != "123:tg-from-file-0123456789abcdef" {
		t.Errorf("telegram token = %q", cfg.Telegram.Token.value)
	}
	if s := cfg.Telegram.Token.String(); strings.Contains(s, "tg-from-file") {
		t.Errorf("String() reveals the secret: %q", s)
	}
}

func TestSecretNeverInErrors(t *testing.T) {
	_, err := parseConfig("cfg.toml", []byte(local+"[ntfy]\ntopic = \"t\"\ntoken = \"tk bad secret-value\"\n"))
	if err == nil || strings.Contains(err.Error(), "secret-value") {
		t.Fatalf("err = %v", err)
	}
}

func TestDurationDays(t *testing.T) {
	var d duration
	if err := d.UnmarshalText([]byte("7d")); err != nil || d.Duration != 7*24*time.Hour {
		t.Fatalf("7d → %v, %v", d.Duration, err)
	}
	if err := d.UnmarshalText([]byte("-5m")); err == nil {
		t.Fatal("negative duration accepted")
	}
}

// /metrics can leave the public page for a listener of its own, which
// runs even when the page is off.
func TestConfigMetricsListener(t *testing.T) {
	cfg, err := parseConfig("cfg.toml", []byte(local+"[statuspage]\nenabled = false\nmetrics = \"127.0.0.1:0\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.statusConfig().MetricsAddr(); got != "127.0.0.1:0" {
		t.Fatalf("MetricsAddr() = %q", got)
	}
	d := &daemon{cfg: cfg, log: slog.New(slog.DiscardHandler), reg: prometheus.NewRegistry()}
	statuspage.NewMetrics(d.reg).SetHostsUp(1)
	ctx, cancel := context.WithCancel(context.Background())
	g, gctx := errgroup.WithContext(ctx)
	addr, err := d.serveMetrics(gctx, g)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "deckhand_hosts_up 1") {
		t.Errorf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	cancel()
	if err := g.Wait(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
