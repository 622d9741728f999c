package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/commands"
)

// onUpdate is the library's handler for every update; it runs on its own
// goroutine.
func (b *Bot) onUpdate(_ context.Context, _ *tgbot.Bot, u *models.Update) {
	ctx, ok := b.track()
	if !ok {
		// Run is stopping; a callback query still deserves its answer.
		if u.CallbackQuery != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			b.answer(ctx, u.CallbackQuery.ID, "deckhand is restarting; try again in a moment.", true)
		}
		return
	}
	defer b.inflight.Done()
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("telegram: update handler panicked", "panic", fmt.Sprint(p))
		}
	}()
	switch {
	case u.CallbackQuery != nil:
		b.onCallback(ctx, u.CallbackQuery)
	case u.Message != nil:
		b.onMessage(ctx, u.Message)
	}
}

// addressedElsewhere reports a "/cmd@OtherBot" meant for another bot in
// the same group.
func (b *Bot) addressedElsewhere(text string) bool {
	first, _, _ := strings.Cut(strings.TrimSpace(text), " ")
	_, name, ok := strings.Cut(first, "@")
	if !ok {
		return false
	}
	b.mu.Lock()
	me := b.username
	b.mu.Unlock()
	return me != "" && !strings.EqualFold(name, me)
}

func (b *Bot) onMessage(ctx context.Context, m *models.Message) {
	if m.From == nil || m.From.IsBot || !strings.HasPrefix(m.Text, "/") || b.addressedElsewhere(m.Text) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.HandlerTimeout)
	defer cancel()
	actor := b.actorFor(ctx, m.From)
	var reply commands.Reply
	name, args, err := commands.ParseLine(m.Text)
	if err != nil {
		reply = commands.Reply{Text: "I could not read that command: " + strings.TrimSuffix(err.Error(), ": "+deckhand.ErrInvalidInput.Error()) + ". Try /help.", Error: true}
	} else {
		reply = b.router.Handle(ctx, commands.Request{Actor: actor, Command: name, Args: args})
	}
	b.log.Debug("telegram command", "user", m.From.ID, "command", name, "error", reply.Error)
	if _, err := b.post(ctx, m.Chat.ID, m.ID, renderReply(reply)); err != nil {
		b.log.Warn("telegram: reply", "chat", m.Chat.ID, "err", b.redact(err))
	}
}

// onCallback runs a button press. The callback query is always answered:
// with the refusal or error (as an alert), with a short confirmation, or,
// when the router is slow, with "Working on it…" before the result follows
// as a message.
func (b *Bot) onCallback(ctx context.Context, q *models.CallbackQuery) {
	answered := false
	defer func() {
		if !answered {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			b.answer(actx, q.ID, "Something went wrong; the details are in deckhand's log.", true)
		}
	}()
	chatID, msgID, msg := callbackMessage(q)
	actor := b.actorFor(ctx, &q.From)

	hctx, cancel := context.WithTimeout(ctx, b.opts.HandlerTimeout)
	defer cancel()
	done := make(chan commands.Reply, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				b.log.Error("telegram: button handler panicked", "panic", fmt.Sprint(p))
				done <- commands.Reply{Text: "Internal error; the details are in deckhand's log.", Error: true}
			}
		}()
		done <- b.router.HandleButton(hctx, actor, q.Data)
	}()

	var reply commands.Reply
	late := false
	timer := time.NewTimer(b.opts.CallbackDeadline)
	defer timer.Stop()
	select {
	case reply = <-done:
	case <-timer.C:
		b.answer(ctx, q.ID, "Working on it…", false)
		answered, late = true, true
		reply = <-done
	}
	r := renderReply(reply)
	if !late {
		b.answer(ctx, q.ID, answerText(r.plain), reply.Error)
		answered = true
	}
	if chatID == 0 {
		return
	}
	switch {
	case reply.Error && !late:
		// The answer (an alert on the presser's screen) says it all; the
		// chat is not told about a refusal.
	case reply.Edit && msgID != 0:
		b.edit(ctx, chatID, msgID, r.html, r.keyboard, r)
	case !reply.Error && msg != nil && msgID != 0:
		// The press worked: note it under the alert and drop the pressed
		// button, so the message shows what was done and by whom.
		html := toHTML(msg.Text, msg.Entities) + "\n\n" + r.html
		b.edit(ctx, chatID, msgID, html, pressed(msg.ReplyMarkup, q.Data), r)
	default:
		if _, err := b.post(ctx, chatID, msgID, r); err != nil {
			b.log.Warn("telegram: button result", "chat", chatID, "err", b.redact(err))
		}
	}
}

// edit replaces a message's text and keyboard (nil removes it), falling
// back to a new message when the text would not fit or the edit fails.
func (b *Bot) edit(ctx context.Context, chatID int64, msgID int, html string, kb *markup, fallback rendered) {
	if kb == nil {
		kb = noKeyboard()
	}
	if fallback.plainLen <= maxText && fallback.file == nil {
		err := b.call(ctx, chatID, func() error {
			_, err := b.api.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: chatID, MessageID: msgID, Text: html, ParseMode: models.ParseModeHTML, ReplyMarkup: kb})
			return err
		})
		if err == nil || strings.Contains(err.Error(), "message is not modified") {
			return
		}
		b.log.Info("telegram: edit failed, posting instead", "chat", chatID, "err", b.redact(err))
	}
	if _, err := b.post(ctx, chatID, msgID, fallback); err != nil {
		b.log.Warn("telegram: button result", "chat", chatID, "err", b.redact(err))
	}
}

// pressed is the keyboard without the button that was pressed.
func pressed(kb *models.InlineKeyboardMarkup, data string) *markup {
	if kb == nil {
		return nil
	}
	var rows [][]models.InlineKeyboardButton
	for _, row := range kb.InlineKeyboard {
		var keep []models.InlineKeyboardButton
		for _, btn := range row {
			if btn.CallbackData != data {
				keep = append(keep, btn)
			}
		}
		if len(keep) > 0 {
			rows = append(rows, keep)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return &markup{InlineKeyboard: rows}
}

// callbackMessage finds the chat and message a press came from; the
// message itself is nil when Telegram no longer shows it to the bot.
func callbackMessage(q *models.CallbackQuery) (int64, int, *models.Message) {
	switch {
	case q.Message.Message != nil:
		return q.Message.Message.Chat.ID, q.Message.Message.ID, q.Message.Message
	case q.Message.InaccessibleMessage != nil:
		return q.Message.InaccessibleMessage.Chat.ID, q.Message.InaccessibleMessage.MessageID, nil
	}
	return 0, 0, nil
}

// answerText is the first line of a reply, short enough for a callback answer.
func answerText(plain string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(plain), "\n")
	return truncateRunes(line, maxAnswer)
}

func (b *Bot) answer(ctx context.Context, id, text string, alert bool) {
	if _, err := b.api.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id, Text: text, ShowAlert: alert}); err != nil {
		b.log.Warn("telegram: answerCallbackQuery", "err", b.redact(err))
	}
}

// call paces fn for the chat and retries it after a 429 (twice at most),
// for the interactive paths that have no outbox to retry them.
func (b *Bot) call(ctx context.Context, chatID int64, fn func() error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err := b.limit.wait(ctx, chatID); err != nil {
			return err
		}
		err = fn()
		d, limited := retryAfter(err)
		if !limited {
			return err
		}
		b.limit.block(chatID, d)
	}
	return err
}

// post sends a rendered reply to a chat, as a reply to replyTo when set:
// text that does not fit a message becomes logs.txt, and a reply's file is
// sent as a document.
func (b *Bot) post(ctx context.Context, chatID int64, replyTo int, r rendered) (int, error) {
	var rp *models.ReplyParameters
	if replyTo != 0 {
		rp = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
	}
	var kb models.ReplyMarkup
	if r.keyboard != nil {
		kb = r.keyboard
	}
	file := r.file
	text, plainLen := r.html, r.plainLen
	if plainLen > maxText {
		if file == nil {
			file = &commands.File{Name: logsFile, Data: []byte(r.plain)}
		}
		text = escape(fmt.Sprintf("Output is %d lines; attached as %s.", strings.Count(r.plain, "\n")+1, file.Name))
		plainLen = 0
	}
	if file == nil {
		var id int
		err := b.call(ctx, chatID, func() error {
			m, err := b.api.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chatID, Text: text, ParseMode: models.ParseModeHTML, ReplyParameters: rp, ReplyMarkup: kb})
			if err == nil {
				id = m.ID
			}
			return err
		})
		return id, err
	}
	caption := text
	if plainLen > maxCaption {
		// The text goes first, the file follows with a short caption.
		if _, err := b.post(ctx, chatID, replyTo, rendered{html: text, plainLen: plainLen, plain: r.plain, keyboard: r.keyboard}); err != nil {
			return 0, err
		}
		caption, kb = escape(file.Name), nil
	}
	name := file.Name
	if strings.TrimSpace(name) == "" {
		name = logsFile
	}
	var id int
	err := b.call(ctx, chatID, func() error {
		m, err := b.api.SendDocument(ctx, &tgbot.SendDocumentParams{
			ChatID: chatID, Document: &models.InputFileUpload{Filename: name, Data: bytes.NewReader(file.Data)},
			Caption: caption, ParseMode: models.ParseModeHTML, ReplyParameters: rp, ReplyMarkup: kb,
		})
		if err == nil {
			id = m.ID
		}
		return err
	})
	return id, err
}

// actorFor maps a Telegram user to a deckhand actor: the user's own entry
// in Users, and ChatAdminsRole when they administer the alert chat. The
// highest role wins; its host scope is the user's UserHosts only when the
// user entry alone gives that role.
func (b *Bot) actorFor(ctx context.Context, u *models.User) deckhand.Actor {
	name := u.Username
	if name == "" {
		name = strings.TrimSpace(u.FirstName + " " + u.LastName)
	}
	a := deckhand.Actor{Platform: deckhand.PlatformTelegram, UserID: strconv.FormatInt(u.ID, 10), Name: name}
	own, mapped := b.cfg.Users[u.ID]
	a.Role = own
	if mapped {
		a.Hosts = b.cfg.UserHosts[u.ID]
	}
	if ar := b.cfg.ChatAdminsRole; ar != deckhand.RoleNone && ar >= own && b.isChatAdmin(ctx, u.ID) {
		a.Role = ar
		a.Hosts = nil
	}
	return a
}

// isChatAdmin asks getChatMember whether the user is the creator or an
// administrator of the alert chat, caching the answer for AdminCacheTTL
// (failures for a shorter time, as "no").
func (b *Bot) isChatAdmin(ctx context.Context, userID int64) bool {
	now := b.opts.Now()
	b.mu.Lock()
	e, ok := b.admins[userID]
	b.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.admin
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	m, err := b.api.GetChatMember(cctx, &tgbot.GetChatMemberParams{ChatID: b.cfg.AlertChatID, UserID: userID})
	e = adminEntry{until: now.Add(b.opts.AdminCacheTTL)}
	switch {
	case err != nil:
		if errors.Is(err, context.Canceled) {
			return false
		}
		b.log.Warn("telegram: getChatMember", "user", userID, "err", b.redact(err))
		e.until = now.Add(30 * time.Second)
	default:
		e.admin = m.Type == models.ChatMemberTypeOwner || m.Type == models.ChatMemberTypeAdministrator
	}
	b.mu.Lock()
	if len(b.admins) > 10000 {
		for id, old := range b.admins {
			if now.After(old.until) {
				delete(b.admins, id)
			}
		}
	}
	b.admins[userID] = e
	b.mu.Unlock()
	return e.admin
}
