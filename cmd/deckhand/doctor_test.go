package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand/deckhand/bot/discord/discordtest"
	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
	"github.com/deckhand/deckhand/bot/telegram/telegramtest"
	"github.com/deckhand/deckhand/collector/collectortest"
)

// TestDoctor runs the subcommand over a config whose every part is good,
// then over one whose every part is wrong, against the fakes.
func TestDoctor(t *testing.T) {
	const (
		ntfyToken = "tk_doctorNtfyToken"
		topic     = "doctor_secret_topic"
		dToken    = "doctor.discord.token"
		tgToken   = "123456789:AAH-doctor_token_abcdefghijklmnop"
		chatID    = -100777
	)
	dir := t.TempDir()
	keyFile, pub := collectortest.NewClientKey(t)
	good := collectortest.NewServer(t, collectortest.NewEngine("28.2"), collectortest.WithAuthorizedKey(pub), collectortest.WithUser("deck"))
	badEngine := collectortest.NewEngine("28.2")
	badEngine.SetFault(collectortest.FaultPermissionDenied)
	bad := collectortest.NewServer(t, badEngine, collectortest.WithAuthorizedKey(pub), collectortest.WithUser("deck"))
	known := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(known, []byte(good.KnownHostsLine("")+"\n"+bad.KnownHostsLine("")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nt := ntfytest.NewServer(t)
	nt.RequireToken(ntfyToken)
	dc := discordtest.NewServer(t, dToken)
	tg := telegramtest.New(t, tgToken, telegramtest.Options{})
	tg.AddChat(chatID, "supergroup")
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer page.Close()

	host := func(name, addr string) string {
		return fmt.Sprintf("[[hosts]]\nname = %q\ntransport = \"ssh\"\naddress = %q\nuser = \"deck\"\nkey_file = %q\nknown_hosts = %q\nconnect_timeout = \"2s\"\ncommand_timeout = \"2s\"\n",
			name, addr, keyFile, known)
	}
	config := func(hostAddr, ntfyTok, dTok, tgTok string, chat int64, public string) string {
		return fmt.Sprintf("data = %q\npublic_url = %q\n", filepath.Join(dir, "d.db"), public) + host("nas", hostAddr) +
			fmt.Sprintf("[ntfy]\nserver = %q\ntopic = %q\ntoken = %q\n", nt.URL, topic, ntfyTok) +
			fmt.Sprintf("[discord]\ntoken = %q\napplication_id = %q\nguild_id = %q\nalert_channel_id = %q\napi_base = %q\n",
				dTok, dc.AppID, dc.GuildID, dc.ChannelID, dc.URL) +
			fmt.Sprintf("[telegram]\ntoken = %q\nalert_chat_id = %d\napi_url = %q\n", tgTok, chat, tg.URL())
	}
	tests := []struct {
		name    string
		config  string
		want    []string
		wantErr string
	}{
		{name: "good", config: config(good.Addr, ntfyToken, dToken, tgToken, chatID, page.URL), want: []string{
			"ok   host nas: tcp, ssh handshake, host key known, login, docker 28.2",
			"ok   ntfy: server " + nt.URL + " answers, read access to the topic",
			"ok   ntfy: publish not tested (deckhand doctor --send-test publishes a test message)",
			"ok   discord: token valid, bot deckhand",
			"ok   discord: application 900000000000000001 (deckhand)",
			"ok   discord: guild 800000000000000001 (homelab), bot is a member",
			"ok   discord: alert channel 700000000000000001: View Channel, Send Messages, Embed Links, Attach Files",
			"ok   telegram: token valid, bot @deckhand_bot",
			"ok   telegram: alert chat -100777 reachable (supergroup)",
			"ok   public_url: " + page.URL + " answers 200 OK",
		}},
		{name: "bad", config: config(bad.Addr, "tk_wrongNtfyToken", "wrong.discord", "123456789:AAH-wrong_token_abcdefghijklmnop", -1, "http://127.0.0.1:1"),
			wantErr: "doctor: 5 of 6 checks failed", want: []string{
				"FAIL host nas: docker version on nas: permission denied while trying to connect to the Docker daemon socket",
				"FAIL ntfy: read access: ntfy: HTTP 401",
				"ok   ntfy: publish not tested",
				"FAIL discord: token: 401",
				"FAIL telegram: getMe: HTTP 401: Unauthorized — telegram.token is wrong or revoked",
				"FAIL public_url: http://127.0.0.1:1 not reachable from here",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(path, []byte(tt.config), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := run(context.Background(), []string{"doctor", "--config", path}, &out, &out)
			if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("output:\n%s\nwant %d lines", out.String(), len(tt.want))
			}
			for i, l := range lines {
				if !strings.HasPrefix(l, tt.want[i]) {
					t.Errorf("line %d = %q, want prefix %q", i, l, tt.want[i])
				}
				if strings.HasPrefix(l, "FAIL") && !strings.Contains(l, " — ") {
					t.Errorf("line %d has no fix: %q", i, l)
				}
			}
			for _, secret := range []string{ntfyToken, topic, dToken, tgToken, "tk_wrongNtfyToken", "wrong.discord"} {
				if strings.Contains(out.String(), secret) {
					t.Errorf("output leaks %q:\n%s", secret, out.String())
				}
			}
		})
	}
}
