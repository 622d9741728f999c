package discord

import (
	"context"
	"strings"
	"testing"

	"github.com/deckhand/deckhand/bot/discord/discordtest"
)

func TestDoctorChecksTokenApplicationGuildAndChannel(t *testing.T) {
	const tok = "doctor.discord.token-value"
	tests := []struct {
		name   string
		token  string
		mod    func(*Config, *discordtest.Server)
		want   []string
		failed []bool
	}{
		{name: "good", token: tok, want: []string{
			"token valid, bot deckhand", "application 900000000000000001 (deckhand)", "guild 800000000000000001 (homelab)",
			"alert channel 700000000000000001: View Channel, Send Messages"}, failed: []bool{false, false, false, false}},
		{name: "wrong token", token: "wrong", want: []string{"token: 401"}, failed: []bool{true}},
		{name: "wrong ids", token: tok, mod: func(c *Config, _ *discordtest.Server) {
			c.ApplicationID, c.GuildID, c.AlertChannelID = "1", "2", "3"
		}, want: []string{"token valid", "application 1 is not the token's (900000000000000001)",
			"guild 2: 404 Not Found: Unknown Guild", "alert channel 3: 404 Not Found: Unknown Channel"},
			failed: []bool{false, true, true, true}},
		{name: "cannot embed", token: tok, mod: func(_ *Config, s *discordtest.Server) {
			s.BotPermissions = discordtest.PermViewChannel | discordtest.PermSendMessages
		}, want: []string{"token valid", "application", "guild", "alert channel 700000000000000001: missing Embed Links, Attach Files"},
			failed: []bool{false, false, false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := discordtest.NewServer(t, tok)
			cfg := Config{Token: tt.token, ApplicationID: srv.AppID, GuildID: srv.GuildID, AlertChannelID: srv.ChannelID}
			if tt.mod != nil {
				tt.mod(&cfg, srv)
			}
			got := Doctor(context.Background(), cfg, Options{APIBase: srv.URL})
			if len(got) != len(tt.want) {
				t.Fatalf("Doctor = %+v, want %d checks", got, len(tt.want))
			}
			for i, c := range got {
				if !strings.HasPrefix(c.Detail, tt.want[i]) || c.Failed != tt.failed[i] || c.Failed != (c.Fix != "") {
					t.Errorf("check %d = %+v, want detail %q failed=%v", i, c, tt.want[i], tt.failed[i])
				}
				if strings.Contains(c.Detail+c.Fix, tok) {
					t.Errorf("check %d leaks the token", i)
				}
			}
		})
	}
}
