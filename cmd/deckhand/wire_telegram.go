package main

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/bot/telegram"
	"github.com/deckhand/deckhand/commands"
)

// telegramPoll is the long-poll duration of getUpdates; the HTTP client's
// timeout must exceed it, which httpClient's 30 s does not.
const telegramPoll = 50 * time.Second

// newTelegram builds the Telegram adapter from the config file's section.
func newTelegram(cfg *fileConfig, r *commands.Router, log *slog.Logger, health *bot.Health, conflicts telegram.Counter) (*telegram.Bot, error) {
	return telegram.New(cfg.telegramConfig(), r, telegram.Options{
		Logger:      log.With("part", "telegram"),
		ServerURL:   cfg.Telegram.APIURL,
		HTTPClient:  &http.Client{Timeout: telegramPoll + 20*time.Second},
		PollTimeout: telegramPoll,
		Health:      health,
		Conflicts:   conflicts,
	})
}

// telegramConfig maps the [telegram] section; validate has already checked
// that user IDs are numbers and roles are known.
func (c *fileConfig) telegramConfig() telegram.Config {
	t := c.Telegram
	cfg := telegram.Config{Token: t.Token.value, AlertChatID: t.AlertChatID, Users: map[int64]deckhand.Role{}, UserHosts: map[int64][]string{},
		StatusURL: c.PublicURL}
	for id, r := range t.Users {
		n, _ := strconv.ParseInt(id, 10, 64)
		cfg.Users[n], _ = deckhand.ParseRole(r)
	}
	for id, hosts := range t.UserHosts {
		n, _ := strconv.ParseInt(id, 10, 64)
		cfg.UserHosts[n] = hosts
	}
	if t.ChatAdminsRole != "" {
		cfg.ChatAdminsRole, _ = deckhand.ParseRole(t.ChatAdminsRole)
	}
	return cfg
}
