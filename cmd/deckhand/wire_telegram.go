package main

import (
	"context"
	"errors"
	"github.com/deckhand/deckhand"
	"log/slog"

	"github.com/deckhand/deckhand/commands"
)

// newTelegram is replaced when bot/telegram lands.
func newTelegram(cfg *fileConfig, r *commands.Router, log *slog.Logger) (interface {
	Platform() string
	Send(ctx context.Context, item deckhand.OutboxItem) (string, error)
	Run(ctx context.Context) error
}, error) {
	return nil, errors.New("telegram: not built yet")
}
