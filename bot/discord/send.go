package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
)

// createMessage is POST channels/{id}/messages with the nonce fields
// discordgo's MessageSend lacks.
type createMessage struct {
	Content         string                            `json:"content,omitempty"`
	Embeds          []*discordgo.MessageEmbed         `json:"embeds"`
	Components      []discordgo.MessageComponent      `json:"components"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	Nonce           string                            `json:"nonce,omitempty"`
	EnforceNonce    bool                              `json:"enforce_nonce,omitempty"`
}

// noPings goes with every message deckhand writes, created or edited.
// Alerts never ping (the channel's notification settings decide), and
// replies echo what users typed, so "@everyone" in a /silence reason must
// stay text. Discord's default, when the field is absent, is to parse
// every mention, and an edit of new content is parsed afresh.
func noPings() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// Send delivers one alert notice to the alert channel and returns its
// reference "channelID/messageID". With item.Ref set it edits that message
// instead (ack, recovery); if the message is gone it posts a new one. The
// outbox item ID is sent as an enforced nonce, so a resend after a crash
// between delivery and bookkeeping returns the first message instead of
// posting a duplicate.
//
// With item.Plain the notice goes as message content alone, cut to
// Discord's 2000 characters, without embed or buttons: the fallback after
// the embed was refused.
func (b *Bot) Send(ctx context.Context, item deckhand.OutboxItem) (string, error) {
	n := item.Notice
	rendered := b.renderer.Render(n)
	embeds := []*discordgo.MessageEmbed{alertEmbed(rendered, n.At)}
	components := []discordgo.MessageComponent{}
	content := ""
	if item.Plain {
		embeds, content = []*discordgo.MessageEmbed{}, truncate(rendered.Plain(), maxContent)
	} else if len(rendered.Actions) > 0 {
		components = buttonRows(b.router.AlertButtons(n.Alert, rendered.Actions))
	}
	opts := []discordgo.RequestOption{discordgo.WithContext(ctx), discordgo.WithRetryOnRatelimit(false)}

	if item.Ref != "" {
		ch, id, ok := strings.Cut(item.Ref, "/")
		if !ok || !snowflake(ch) || !snowflake(id) {
			return "", bot.Permanent{Err: fmt.Errorf("discord: bad message reference %q: %w", item.Ref, deckhand.ErrInvalidInput)}
		}
		edit := discordgo.NewMessageEdit(ch, id)
		edit.Content = &content
		edit.Embeds = &embeds
		edit.Components = &components
		edit.AllowedMentions = noPings()
		_, err := b.s.ChannelMessageEditComplex(edit, opts...)
		if err == nil {
			return item.Ref, nil
		}
		if !gone(err) {
			return "", classify(err)
		}
		b.log.Info("discord: alert message gone, posting a new one", "ref", item.Ref)
	}

	msg := createMessage{
		Content: content, Embeds: embeds, Components: components,
		AllowedMentions: noPings(),
	}
	if item.ID != 0 {
		msg.Nonce = "dh-" + strconv.FormatInt(item.ID, 10)
		msg.EnforceNonce = true
	}
	endpoint := discordgo.EndpointChannelMessages(b.cfg.AlertChannelID)
	body, err := b.s.RequestWithBucketID(http.MethodPost, endpoint, msg, endpoint, opts...)
	if err != nil {
		return "", classify(err)
	}
	var m discordgo.Message
	if err := discordgo.Unmarshal(body, &m); err != nil || m.ID == "" {
		return "", fmt.Errorf("discord: decode created message: %w", deckhand.ErrBadOutput)
	}
	return b.cfg.AlertChannelID + "/" + m.ID, nil
}

// gone reports a 404 for an unknown message or channel.
func gone(err error) bool {
	var re *discordgo.RESTError
	return errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusNotFound
}

// Probe checks cheaply that Discord answers and accepts the token: GET
// /users/@me. It implements bot.Prober.
func (b *Bot) Probe(ctx context.Context) error {
	if _, err := b.s.User("@me", discordgo.WithContext(ctx), discordgo.WithRetryOnRatelimit(false)); err != nil {
		return classify(err)
	}
	return nil
}

// classify maps a discordgo error to the outbox's contract: rate limits to
// bot.RetryAfter, 401 (a wrong token) and 403 (missing access or
// permissions in the alert channel) to bot.Unauthorized, other rejections
// that will not change on retry to bot.Permanent, anything else as a
// transient error.
func classify(err error) error {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		return bot.RetryAfter{After: rl.RetryAfter, Err: errors.New("discord: 429 too many requests")}
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		code := re.Response.StatusCode
		if code == http.StatusUnauthorized || code == http.StatusForbidden {
			return bot.Unauthorized{Err: describe(err)}
		}
		if code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests {
			return bot.Permanent{Err: describe(err)}
		}
	}
	return describe(err)
}

// describe shortens discordgo's errors for logs and the outbox: REST errors
// keep the status and Discord's code and message, transport errors drop the
// URL (interaction URLs carry the interaction token).
func describe(err error) error {
	if err == nil {
		return nil
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		if re.Message != nil {
			return fmt.Errorf("discord: HTTP %d: %s (code %d)", re.Response.StatusCode, re.Message.Message, re.Message.Code)
		}
		return fmt.Errorf("discord: HTTP %d", re.Response.StatusCode)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("discord: %s: %w", ue.Op, ue.Err)
	}
	return err
}
