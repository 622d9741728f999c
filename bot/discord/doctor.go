package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/deckhand/deckhand"
)

const doctorSubject = "discord"

// alertPermissions are what posting alerts and command output needs in the
// alert channel: see it, post, embed, attach long output.
var alertPermissions = []struct {
	bit  int64
	name string
}{
	{discordgo.PermissionViewChannel, "View Channel"},
	{discordgo.PermissionSendMessages, "Send Messages"},
	{discordgo.PermissionEmbedLinks, "Embed Links"},
	{discordgo.PermissionAttachFiles, "Attach Files"},
}

// Doctor checks the token, the application, the guild and the alert
// channel's permissions with read-only REST calls (no gateway, nothing
// posted). The token travels in a header and is never quoted.
func Doctor(ctx context.Context, cfg Config, opts Options) []deckhand.Check {
	s, err := discordgo.New("Bot " + cfg.Token)
	if err != nil {
		return []deckhand.Check{deckhand.Fail(doctorSubject, "session: "+err.Error(), "check discord.token")}
	}
	if opts.HTTPClient != nil {
		s.Client = opts.HTTPClient
	}
	if opts.APIBase != "" {
		s.Client = rebased(s.Client, opts.APIBase)
	}
	s.StateEnabled = false
	s.MaxRestRetries = 0
	with := discordgo.WithContext(ctx)

	me, err := s.User("@me", with)
	if err != nil {
		return []deckhand.Check{deckhand.Fail(doctorSubject, "token: "+restText(err),
			"discord.token is wrong or was reset: copy the bot token from the Developer Portal (Bot → Reset Token)")}
	}
	out := []deckhand.Check{deckhand.Pass(doctorSubject, "token valid, bot "+me.Username)}
	out = append(out, doctorApplication(s, cfg, with))
	if cfg.GuildID != "" {
		out = append(out, doctorGuild(s, cfg, with))
	}
	if cfg.AlertChannelID != "" {
		out = append(out, doctorChannel(s, cfg, me.ID, with))
	}
	return out
}

func doctorApplication(s *discordgo.Session, cfg Config, with discordgo.RequestOption) deckhand.Check {
	raw, err := s.Request(http.MethodGet, discordgo.EndpointApplication("@me"), nil, with)
	var app struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err == nil {
		err = json.Unmarshal(raw, &app)
	}
	switch {
	case err != nil:
		return deckhand.Fail(doctorSubject, "application: "+restText(err), "check the bot's application in the Developer Portal")
	case cfg.ApplicationID != "" && cfg.ApplicationID != app.ID:
		return deckhand.Fail(doctorSubject, fmt.Sprintf("application %s is not the token's (%s)", cfg.ApplicationID, app.ID),
			"set discord.application_id = \""+app.ID+"\"")
	}
	return deckhand.Pass(doctorSubject, "application "+app.ID+" ("+app.Name+")")
}

func doctorGuild(s *discordgo.Session, cfg Config, with discordgo.RequestOption) deckhand.Check {
	g, err := s.Guild(cfg.GuildID, with)
	if err != nil {
		return deckhand.Fail(doctorSubject, "guild "+cfg.GuildID+": "+restText(err),
			"invite the bot to the server (OAuth2 URL with scopes bot and applications.commands) and check discord.guild_id")
	}
	return deckhand.Pass(doctorSubject, "guild "+g.ID+" ("+g.Name+"), bot is a member")
}

func doctorChannel(s *discordgo.Session, cfg Config, botID string, with discordgo.RequestOption) deckhand.Check {
	subject := "alert channel " + cfg.AlertChannelID
	perms, err := s.UserChannelPermissions(botID, cfg.AlertChannelID, with)
	if err != nil {
		return deckhand.Fail(doctorSubject, subject+": "+restText(err),
			"check discord.alert_channel_id (Copy Channel ID) and that the bot may view the channel")
	}
	var missing []string
	for _, p := range alertPermissions {
		if perms&p.bit == 0 {
			missing = append(missing, p.name)
		}
	}
	if len(missing) > 0 {
		return deckhand.Fail(doctorSubject, subject+": missing "+strings.Join(missing, ", "),
			"grant the bot's role "+strings.Join(missing, ", ")+" in the channel's permissions")
	}
	return deckhand.Pass(doctorSubject, subject+": View Channel, Send Messages, Embed Links, Attach Files")
}

// restText is Discord's answer without the request: status and Discord's
// message.
func restText(err error) string {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		msg := re.Response.Status
		if re.Message != nil && re.Message.Message != "" {
			msg += ": " + re.Message.Message
		}
		return msg
	}
	return err.Error()
}
