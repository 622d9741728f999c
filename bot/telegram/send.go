package telegram

import (
	"context"
	"fmt"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
)

// Send delivers one alert notice to the alert chat and returns its
// reference "chatID/messageID". With item.Ref set it edits that message
// instead (ack, recovery: new text, buttons updated or removed); an edit
// that changes nothing counts as delivered, and a message that can no
// longer be edited is replaced by a new one. A 429 comes back as
// bot.RetryAfter, a rejection as bot.Permanent.
//
// With item.Plain the notice goes as plain text (no parse_mode), cut to
// Telegram's 4096 characters, without buttons: the fallback after the
// HTML form was refused.
func (b *Bot) Send(ctx context.Context, item deckhand.OutboxItem) (string, error) {
	n := item.Notice
	msg := b.renderer.Render(n)
	text, plainLen := renderNotice(msg)
	parseMode := models.ParseModeHTML
	if item.Plain {
		text, parseMode = truncateUTF16(msg.Plain(), maxText), ""
	} else if plainLen > maxText {
		return "", bot.Permanent{Err: fmt.Errorf("telegram: notice renders to %d characters: %w", plainLen, deckhand.ErrInvalidInput)}
	}
	kb := noKeyboard()
	if len(msg.Actions) > 0 && !item.Plain {
		if k := keyboard(b.router.AlertButtons(n.Alert, msg.Actions)); k != nil {
			kb = k
		}
	}

	if item.Ref != "" {
		chatID, msgID, ok := parseRef(item.Ref)
		if !ok {
			return "", bot.Permanent{Err: fmt.Errorf("telegram: bad message reference %q: %w", item.Ref, deckhand.ErrInvalidInput)}
		}
		if err := b.limit.wait(ctx, chatID); err != nil {
			return "", err
		}
		_, err := b.api.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: chatID, MessageID: msgID, Text: text, ParseMode: parseMode,
			ReplyMarkup: kb, LinkPreviewOptions: noPreview()})
		switch {
		case err == nil:
			return item.Ref, nil
		case strings.Contains(err.Error(), "message is not modified"):
			// Already shows this: a retry after a lost response.
			return item.Ref, nil
		case strings.Contains(err.Error(), "message to edit not found"), strings.Contains(err.Error(), "message can't be edited"):
			b.log.Info("telegram: alert message gone, posting a new one", "ref", item.Ref)
		default:
			return "", b.failed(chatID, err)
		}
	}

	chatID := b.cfg.AlertChatID
	if err := b.limit.wait(ctx, chatID); err != nil {
		return "", err
	}
	params := &tgbot.SendMessageParams{ChatID: chatID, Text: text, ParseMode: parseMode, LinkPreviewOptions: noPreview()}
	if len(kb.InlineKeyboard) > 0 {
		params.ReplyMarkup = kb
	}
	// Good news need not buzz anyone's phone.
	params.DisableNotification = msg.Quiet
	m, err := b.api.SendMessage(ctx, params)
	if err != nil {
		return "", b.failed(chatID, err)
	}
	return chatRef(chatID, m.ID), nil
}

// Probe checks cheaply that the Bot API answers and accepts the token:
// getMe. It implements bot.Prober.
func (b *Bot) Probe(ctx context.Context) error {
	if _, err := b.api.GetMe(ctx); err != nil {
		return b.classify(err)
	}
	return nil
}

// Pace is how long until the next message may go to the alert chat under
// Telegram's flood limits (the pace command replies share). It implements
// bot.Pacer: the dispatcher waits it out before it picks the next notice,
// so the wait is not spent inside a send's timeout.
func (b *Bot) Pace() time.Duration {
	return b.limit.delay(b.cfg.AlertChatID)
}

// failed classifies a delivery error, remembering a 429 so that replies to
// commands in the same chat wait too.
func (b *Bot) failed(chatID int64, err error) error {
	if d, ok := retryAfter(err); ok {
		b.limit.block(chatID, d)
	}
	return b.classify(err)
}

// noPreview keeps the status page link from unfolding into a preview card
// under every alert.
func noPreview() *models.LinkPreviewOptions {
	off := true
	return &models.LinkPreviewOptions{IsDisabled: &off}
}
