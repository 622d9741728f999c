package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
}

func TestEmbeddedDefaultIsValid(t *testing.T) {
	if _, err := parseConfig("(embedded default)", defaultConfig); err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrorsNameKeyAndLine(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(keyFile, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		toml string
		want []string // substrings of the error
	}{
		{"unknown top-level key", "dta = \"x.db\"\n[[hosts]]\nname=\"a\"\ntransport=\"local\"\n",
			[]string{"cfg.toml:1:", "dta", "unknown key"}},
		{"typo inside hosts", "[[hosts]]\nname = \"a\"\ntransport = \"local\"\ndocker_pth = \"/x\"\n",
			[]string{"cfg.toml:4:", "docker_pth", "unknown key"}},
		{"bad duration", "[collector]\n\ninterval = \"soon\"\n[[hosts]]\nname=\"a\"\ntransport=\"local\"\n",
			[]string{"cfg.toml:3", "invalid duration \"soon\""}},
		{"wrong type", "[collector]\nconcurrency = \"many\"\n[[hosts]]\nname=\"a\"\ntransport=\"local\"\n",
			[]string{"cfg.toml:2"}},
		{"syntax error", "[[hosts]\nname=\"a\"\n", []string{"cfg.toml:1"}},
		{"no hosts", "data = \"x.db\"\n", []string{"hosts: no host configured"}},
		{"ssh host without address", "[[hosts]]\nname = \"nas\"\nuser = \"u\"\nkey_file = \"" + keyFile + "\"\nknown_hosts = \"/k\"\n",
			[]string{"cfg.toml:1: hosts[0].address: required"}},
		{"second host bad transport", "[[hosts]]\nname = \"a\"\ntransport = \"local\"\n\n[[hosts]]\nname = \"b\"\ntransport = \"telnet\"\n",
			[]string{"cfg.toml:7: hosts[1].transport: \"telnet\""}},
		{"duplicate names", "[[hosts]]\nname = \"a\"\ntransport = \"local\"\n[[hosts]]\nname = \"a\"\ntransport = \"local\"\n",
			[]string{"hosts[1].name: duplicate host name \"a\""}},
		{"ssh without known_hosts", "[[hosts]]\nname = \"nas\"\naddress = \"n\"\nuser = \"u\"\nkey_file = \"" + keyFile + "\"\n",
			[]string{"hosts[0].known_hosts: required", "accept_unknown_host_key"}},
		{"missing key file", "[[hosts]]\nname = \"nas\"\naddress = \"n:22\"\nuser = \"u\"\nkey_file = \"/nonexistent/key\"\nknown_hosts=\"/k\"\n",
			[]string{"cfg.toml:5: hosts[0].key_file", "no such file"}},
		{"docker path injection", "[[hosts]]\nname = \"a\"\ntransport = \"local\"\ndocker_path = \"/bin/docker; rm -rf /\"\n",
			[]string{"cfg.toml:4: hosts[0].docker_path"}},
		{"bad cron", "[[hosts]]\nname=\"a\"\ntransport=\"local\"\n[[alerts.maintenance]]\nname=\"m\"\nschedule=\"every night\"\nduration=\"30m\"\n",
			[]string{"cfg.toml:6: alerts.maintenance[0].schedule"}},
		{"bad role", "[[hosts]]\nname=\"a\"\ntransport=\"local\"\n[telegram]\ntoken=\"t\"\nalert_chat_id=-100\n[telegram.users]\n\"42\" = \"god\"\n",
			[]string{"cfg.toml:8: telegram.users.42", "unknown role \"god\""}},
		{"disable unknown action", "[[hosts]]\nname=\"a\"\ntransport=\"local\"\n[commands.disable]\noperator = [\"nuke\"]\n",
			[]string{"cfg.toml:5: commands.disable.operator", "unknown action \"nuke\""}},
		{"unset env var", "secret = \"${DECKHAND_TEST_UNSET_VAR}\"\n[[hosts]]\nname=\"a\"\ntransport=\"local\"\n",
			[]string{"cfg.toml:1", "DECKHAND_TEST_UNSET_VAR is not set"}},
		{"short secret", "secret = \"abc\"\n[[hosts]]\nname=\"a\"\ntransport=\"local\"\n",
			[]string{"cfg.toml:1: secret: too short"}},
		{"bad ntfy topic", "[[hosts]]\nname=\"a\"\ntransport=\"local\"\n[ntfy]\ntopic = \"my topic!\"\n",
			[]string{"cfg.toml:5: ntfy.topic"}},
		{"discord ids", "[[hosts]]\nname=\"a\"\ntransport=\"local\"\n[discord]\ntoken=\"x\"\nguild_id=\"abc\"\napplication_id=\"123456789012345678\"\nalert_channel_id=\"123456789012345678\"\n",
			[]string{"cfg.toml:6: discord.guild_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig("cfg.toml", []byte(tt.toml))
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestSecretsFromEnvAndFileNeverPrinted(t *testing.T) {
	t.Setenv("DECKHAND_TEST_TOKEN", "tok-from-env-1234")
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "tg")
	if err := os.WriteFile(tokenFile, []byte("123:tg-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	raw := "secret = \"${DECKHAND_TEST_TOKEN}-and-some-more-bytes-to-reach-32\"\n" +
		"[[hosts]]\nname=\"a\"\ntransport=\"local\"\n" +
		"[ntfy]\ntopic=\"t\"\ntoken=\"Bearer ${DECKHAND_TEST_TOKEN}\"\n" +
		"[telegram]\ntoken_file=\"" + tokenFile + "\"\nalert_chat_id=-1\n"
	cfg, err := parseConfig("cfg.toml", []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ntfy.Token.value != "Bearer tok-from-env-1234" {
		t.Errorf("ntfy token = %q", cfg.Ntfy.Token.value)
	}
	if cfg.Telegram.Token.value != "123:tg-from-file" {
		t.Errorf("telegram token = %q", cfg.Telegram.Token.value)
	}
	if s := cfg.Telegram.Token.String(); strings.Contains(s, "tg-from-file") {
		t.Errorf("String() reveals the secret: %q", s)
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
