package discord

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/commands"
)

func TestActorFor(t *testing.T) {
	cfg := Config{
		Roles: map[string]deckhand.Role{"10": deckhand.RoleViewer, "20": deckhand.RoleOperator, "30": deckhand.RoleAdmin, "40": deckhand.RoleOperator},
		Users: map[string]deckhand.Role{"1": deckhand.RoleViewer, "2": deckhand.RoleAdmin},
		RoleHosts: map[string][]string{
			"30": {"nas"},
			"40": {"pi", "nas"},
		},
	}
	tests := []struct {
		name      string
		user      string
		roles     []string
		wantRole  deckhand.Role
		wantHosts []string
	}{
		{"unmapped", "9", []string{"99"}, deckhand.RoleNone, nil},
		{"no roles", "9", nil, deckhand.RoleNone, nil},
		{"viewer role", "9", []string{"10"}, deckhand.RoleViewer, nil},
		{"highest role wins", "9", []string{"10", "20"}, deckhand.RoleOperator, nil},
		{"user entry grants above roles", "2", []string{"10"}, deckhand.RoleAdmin, nil},
		{"user entry cannot demote", "1", []string{"20"}, deckhand.RoleOperator, nil},
		{"scoped admin role", "9", []string{"30", "20"}, deckhand.RoleAdmin, []string{"nas"}},
		{"unscoped binding at the same level lifts the scope", "9", []string{"40", "20"}, deckhand.RoleOperator, nil},
		{"scopes at the same level merge", "9", []string{"40"}, deckhand.RoleOperator, []string{"pi", "nas"}},
		{"user entry alone (DM)", "2", nil, deckhand.RoleAdmin, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := cfg.actorFor(tt.user, "name", tt.roles)
			if a.Role != tt.wantRole || fmt.Sprint(a.Hosts) != fmt.Sprint(tt.wantHosts) {
				t.Errorf("got %s %v, want %s %v", a.Role, a.Hosts, tt.wantRole, tt.wantHosts)
			}
			if a.Platform != deckhand.PlatformDiscord || a.UserID != tt.user {
				t.Errorf("actor = %+v", a)
			}
		})
	}
}

func TestActorOfIgnoresRolesOfOtherGuildsAndDMs(t *testing.T) {
	b := &Bot{cfg: Config{GuildID: "5", Roles: map[string]deckhand.Role{"20": deckhand.RoleOperator}, Users: map[string]deckhand.Role{"2": deckhand.RoleViewer}}}
	member := func(guild, user string, roles ...string) *discordgo.Interaction {
		return &discordgo.Interaction{GuildID: guild, Member: &discordgo.Member{User: &discordgo.User{ID: user, Username: "u", GlobalName: "Alice"}, Roles: roles}}
	}
	tests := []struct {
		name string
		i    *discordgo.Interaction
		want deckhand.Role
	}{
		{"configured guild", member("5", "1", "20"), deckhand.RoleOperator},
		{"other guild with the same role ID", member("6", "1", "20"), deckhand.RoleNone},
		{"other guild, user entry", member("6", "2", "20"), deckhand.RoleViewer},
		{"DM, user entry", &discordgo.Interaction{User: &discordgo.User{ID: "2"}}, deckhand.RoleViewer},
		{"DM, unmapped", &discordgo.Interaction{User: &discordgo.User{ID: "1"}}, deckhand.RoleNone},
		{"no user at all", &discordgo.Interaction{}, deckhand.RoleNone},
	}
	for _, tt := range tests {
		if got := b.actorOf(tt.i); got.Role != tt.want {
			t.Errorf("%s: role %s, want %s", tt.name, got.Role, tt.want)
		}
	}
	if a := b.actorOf(member("5", "1", "20")); a.Name != "Alice" {
		t.Errorf("name = %q, want the global name", a.Name)
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Token: "abc", ApplicationID: "1", GuildID: "2", AlertChannelID: "3",
		Roles: map[string]deckhand.Role{"10": deckhand.RoleOperator}, Users: map[string]deckhand.Role{"11": deckhand.RoleAdmin},
		RoleHosts: map[string][]string{"10": {"nas"}}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"empty token", func(c *Config) { c.Token = " " }, "discord.token: required"},
		{"Bot prefix", func(c *Config) { c.Token = "Bot abc" }, `must not start with "Bot "`},
		{"app id", func(c *Config) { c.ApplicationID = "my-app" }, "application_id"},
		{"guild id", func(c *Config) { c.GuildID = "" }, "guild_id"},
		{"channel id", func(c *Config) { c.AlertChannelID = "#alerts" }, "alert_channel_id"},
		{"role id", func(c *Config) { c.Roles = map[string]deckhand.Role{"ops": deckhand.RoleOperator} }, "not a role ID"},
		{"role value", func(c *Config) { c.Roles = map[string]deckhand.Role{"10": deckhand.RoleNone} }, "maps to no deckhand role"},
		{"user value", func(c *Config) { c.Users = map[string]deckhand.Role{"11": 7} }, "maps to no deckhand role"},
		{"scope of unknown binding", func(c *Config) { c.RoleHosts = map[string][]string{"99": {"nas"}} }, "neither a mapped role"},
		{"empty scope", func(c *Config) { c.RoleHosts = map[string][]string{"10": nil} }, "lists no hosts"},
	}
	for _, tt := range tests {
		c := good
		tt.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, deckhand.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want %q and ErrInvalidInput", tt.name, err, tt.want)
		}
	}
	if s := fmt.Sprint(good) + good.LogValue().String(); strings.Contains(s, "abc") {
		t.Errorf("config printed its token: %s", s)
	}
}

func TestButtonRowsRespectDiscordLimits(t *testing.T) {
	var bs []commands.Button
	bs = append(bs, commands.Button{Label: strings.Repeat("L", 100), Payload: "x", Style: commands.Danger})
	bs = append(bs, commands.Button{Label: "dup", Payload: "x"})
	bs = append(bs, commands.Button{Label: "too long", Payload: strings.Repeat("p", 101)})
	for i := 0; i < 30; i++ {
		bs = append(bs, commands.Button{Label: fmt.Sprint(i), Payload: fmt.Sprint("p", i), Style: commands.Success})
	}
	rows := buttonRows(bs)
	if len(rows) != 5 {
		t.Fatalf("rows = %d, want 5", len(rows))
	}
	total := 0
	for _, r := range rows {
		n := len(r.(discordgo.ActionsRow).Components)
		if n > 5 {
			t.Errorf("row with %d buttons", n)
		}
		total += n
	}
	first := rows[0].(discordgo.ActionsRow).Components[0].(discordgo.Button)
	if total != 25 || first.CustomID != "x" || len([]rune(first.Label)) != 80 || first.Style != discordgo.DangerButton {
		t.Errorf("total %d, first %+v", total, first)
	}
	if second := rows[0].(discordgo.ActionsRow).Components[1].(discordgo.Button); second.CustomID != "p0" || second.Style != discordgo.SuccessButton {
		t.Errorf("duplicate or over-long payload kept: %+v", second)
	}
}

func TestRenderReply(t *testing.T) {
	out := renderReply(commands.Reply{Title: "nas", Text: "3 containers", Error: true})
	if len(out.embeds) != 1 || out.embeds[0].Description != "3 containers" || out.embeds[0].Color != colorError || out.content != "" {
		t.Errorf("titled reply = %+v", out)
	}
	if out := renderReply(commands.Reply{}); out.content != "Done." {
		t.Errorf("empty reply content = %q (Discord rejects empty messages)", out.content)
	}
	if out := renderReply(commands.Reply{Text: strings.Repeat("é", 2000)}); len(out.files) != 0 {
		t.Error("2000 characters fit a message (the limit counts characters, not bytes)")
	}
}
