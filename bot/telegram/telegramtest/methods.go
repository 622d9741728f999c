package telegramtest

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Telegram's documented limits.
const (
	MaxText         = 4096
	MaxCaption      = 1024
	MaxCallbackData = 64
	MaxCallbackText = 200
	MaxCommands     = 100
	MaxDescription  = 256
)

var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) getUpdates(ctx context.Context, p params) (any, error) {
	var offset, timeout int64
	limit := int64(100)
	var err error
	if p.has("offset") {
		if offset, err = p.int64("offset"); err != nil {
			return nil, err
		}
	}
	if p.has("timeout") {
		if timeout, err = p.int64("timeout"); err != nil {
			return nil, err
		}
	}
	if p.has("limit") {
		if limit, err = p.int64("limit"); err != nil {
			return nil, err
		}
		limit = min(max(limit, 1), 100)
	}
	s.mu.Lock()
	// A new poll terminates the one in progress, as on Telegram.
	if s.poller != nil {
		close(s.poller)
	}
	mine := make(chan struct{})
	s.poller = mine
	s.notify()
	defer func() {
		s.mu.Lock()
		if s.poller == mine {
			s.poller = nil
		}
		s.mu.Unlock()
	}()
	s.mu.Unlock()

	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if offset > 0 {
			// Confirmed updates are gone for good.
			i := 0
			for i < len(s.updates) && s.updates[i].ID < offset {
				i++
			}
			s.updates = s.updates[i:]
		}
		if len(s.updates) > 0 || timeout <= 0 {
			n := min(int64(len(s.updates)), limit)
			out := append([]update{}, s.updates[:n]...)
			s.mu.Unlock()
			return out, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-mine:
			return nil, &apiError{code: http.StatusConflict, desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
		case <-deadline.C:
			return []update{}, nil
		case <-ctx.Done():
			return []update{}, nil
		}
	}
}

// chatOf resolves chat_id; the caller holds s.mu.
func (s *Server) chatOf(p params) (*chat, error) {
	v := p.str("chat_id")
	if v == "" {
		return nil, badRequest("chat_id is empty")
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, badRequest("chat not found")
	}
	c, ok := s.chats[id]
	if !ok {
		return nil, badRequest("chat not found")
	}
	if c.kicked {
		desc := "Forbidden: bot was kicked from the " + c.kind + " chat"
		if c.kind == "private" {
			desc = "Forbidden: bot was blocked by the user"
		}
		return nil, &apiError{code: http.StatusForbidden, desc: desc}
	}
	return c, nil
}

// parseText applies parse_mode and the length limits.
func parseText(p params, field string, limit int, allowEmpty bool) (string, []Entity, error) {
	raw := p.str(field)
	if !utf8.ValidString(raw) {
		return "", nil, badRequest("strings must be encoded in UTF-8")
	}
	plain, entities := raw, []Entity(nil)
	switch mode := p.str("parse_mode"); mode {
	case "":
	case "HTML", "html":
		var err error
		plain, entities, err = parseHTML(raw)
		if err != nil {
			return "", nil, badRequest("can't parse entities: %v", err)
		}
	case "MarkdownV2", "Markdown":
		return "", nil, badRequest("fake: parse_mode %s is not implemented by telegramtest", mode)
	default:
		return "", nil, badRequest("unsupported parse_mode")
	}
	n := utf16Len(strings.TrimSpace(plain))
	switch {
	case n == 0 && !allowEmpty:
		if field == "text" {
			return "", nil, badRequest("message text is empty")
		}
	case utf16Len(plain) > limit:
		if field == "text" {
			return "", nil, badRequest("message is too long")
		}
		return "", nil, badRequest("message caption is too long")
	}
	return plain, entities, nil
}

type markup struct {
	InlineKeyboard *[][]Button `json:"inline_keyboard"`
}

// parseMarkup reads reply_markup; present reports whether it was given.
func parseMarkup(p params) (kb [][]Button, present bool, err error) {
	if !p.has("reply_markup") {
		return nil, false, nil
	}
	var m markup
	if err := p.decode("reply_markup", &m); err != nil {
		return nil, true, err
	}
	if m.InlineKeyboard == nil {
		// Reply keyboards are legal on Telegram but deckhand never uses them.
		return nil, true, badRequest("fake: only inline keyboards are implemented")
	}
	var raw struct {
		InlineKeyboard [][]map[string]json.RawMessage `json:"inline_keyboard"`
	}
	if err := p.decode("reply_markup", &raw); err != nil {
		return nil, true, err
	}
	for i, row := range *m.InlineKeyboard {
		for j, b := range row {
			if b.Text == "" {
				return nil, true, badRequest("button text is empty")
			}
			if err := oneAction(raw.InlineKeyboard[i][j]); err != nil {
				return nil, true, err
			}
			if b.URL != "" && !openable(b.URL) {
				return nil, true, badRequest("BUTTON_URL_INVALID")
			}
			if _, cb := raw.InlineKeyboard[i][j]["callback_data"]; cb && (len(b.CallbackData) < 1 || len(b.CallbackData) > MaxCallbackData) {
				return nil, true, badRequest("BUTTON_DATA_INVALID")
			}
			switch b.Style {
			case "", "danger", "success", "primary":
			default:
				return nil, true, badRequest("BUTTON_STYLE_INVALID")
			}
		}
	}
	kb = *m.InlineKeyboard
	if len(kb) == 0 {
		kb = nil
	}
	return kb, true, nil
}

// actionFields are the optional fields of InlineKeyboardButton that give
// it its type; text, style and icon_custom_emoji_id only decorate it.
var actionFields = []string{"url", "callback_data", "web_app", "login_url", "switch_inline_query",
	"switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text", "callback_game", "pay"}

// oneAction enforces "exactly one of the optional fields must be used to
// specify type of the button". Presence counts, not content: an empty
// switch_inline_query is a valid action, and an empty copy_text is still a
// second action next to callback_data.
func oneAction(b map[string]json.RawMessage) error {
	var set []string
	for _, f := range actionFields {
		if _, ok := b[f]; ok {
			set = append(set, f)
		}
	}
	switch {
	case len(set) == 0:
		return badRequest("text buttons are unallowed in the inline keyboard")
	case len(set) > 1:
		return badRequest("can't parse inline keyboard button: exactly one of %s must be used", strings.Join(set, ", "))
	}
	if set[0] == "copy_text" {
		var c struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(b["copy_text"], &c); err != nil {
			return badRequest("can't parse inline keyboard button: copy_text")
		}
		if n := utf8.RuneCountInString(c.Text); n < 1 || n > 256 {
			return badRequest("BUTTON_COPY_TEXT_INVALID")
		}
	}
	return nil
}

// limitLocked applies injected and strict rate limits to a chat.
func (s *Server) limitLocked(c *chat) error {
	if s.inject > 0 {
		s.inject--
		return &apiError{code: http.StatusTooManyRequests, desc: "Too Many Requests: retry after " + strconv.Itoa(s.injectWait), retryAfter: s.injectWait}
	}
	now := s.opts.Now()
	if s.opts.StrictRateLimit {
		// Telegram does not say where its windows start or end, and a
		// message right at the edge of one counts in it: a 20th message
		// a minute after the first got a 429. Each window is counted a
		// little longer than documented (a second a minute), as the edge.
		count := func(d time.Duration) int {
			n := 0
			for _, t := range c.sends {
				if now.Sub(t) < d+d/60 {
					n++
				}
			}
			return n
		}
		wait := 0
		if count(3*time.Second) >= 3 {
			wait = 1
		}
		if c.kind != "private" && count(time.Minute) >= 20 {
			wait = 3
		}
		if wait > 0 {
			return &apiError{code: http.StatusTooManyRequests, desc: "Too Many Requests: retry after " + strconv.Itoa(wait), retryAfter: wait}
		}
	}
	c.sends = append(c.sends, now)
	if len(c.sends) > 64 {
		c.sends = c.sends[len(c.sends)-64:]
	}
	return nil
}

func (s *Server) sendMessage(p params) (any, error) {
	text, entities, err := parseText(p, "text", MaxText, false)
	if err != nil {
		return nil, err
	}
	kb, _, err := parseMarkup(p)
	if err != nil {
		return nil, err
	}
	return s.post(p, &Message{Text: text, Raw: p.str("text"), Entities: entities, Keyboard: kb})
}

// post adds a bot message to the chat p names, under that chat's rate
// limit, and answers with the message as the Bot API returns it.
func (s *Server) post(p params, m *Message) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.chatOf(p)
	if err != nil {
		return nil, err
	}
	if err := s.limitLocked(c); err != nil {
		return nil, err
	}
	c.nextID++
	m.ID, m.ChatID, m.From, m.Date = c.nextID, c.id, botUser, s.opts.Now()
	c.messages = append(c.messages, m)
	s.notify()
	return s.messageJSON(c, m), nil
}

func (s *Server) sendDocument(p params) (any, error) {
	doc, ok := p.files["document"]
	if !ok {
		if p.str("document") == "" {
			return nil, badRequest("there is no document in the request")
		}
		// A file_id or URL: the fake stores no files to refer to.
		return nil, badRequest("wrong file identifier/HTTP URL specified")
	}
	if len(doc.Data) == 0 {
		return nil, badRequest("file must be non-empty")
	}
	caption, entities, err := parseText(p, "caption", MaxCaption, true)
	if err != nil {
		return nil, err
	}
	kb, _, err := parseMarkup(p)
	if err != nil {
		return nil, err
	}
	return s.post(p, &Message{Text: caption, Raw: p.str("caption"), Entities: entities, Keyboard: kb,
		Document: &Document{Name: doc.Name, Data: doc.Data}})
}

// editTarget finds the bot's message to edit; the caller holds s.mu.
func (s *Server) editTarget(p params) (*chat, *Message, error) {
	if p.str("inline_message_id") != "" {
		return nil, nil, badRequest("fake: inline messages are not implemented")
	}
	c, err := s.chatOf(p)
	if err != nil {
		return nil, nil, err
	}
	id, err := p.int64("message_id")
	if err != nil {
		return nil, nil, badRequest("message identifier is not specified")
	}
	m := c.find(int(id))
	if m == nil {
		return nil, nil, badRequest("message to edit not found")
	}
	if m.From.ID != botUser.ID {
		return nil, nil, badRequest("message can't be edited")
	}
	return c, m, nil
}

func sameKeyboard(a, b [][]Button) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func sameEntities(a, b []Entity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

func (s *Server) editMessageText(p params) (any, error) {
	text, entities, err := parseText(p, "text", MaxText, false)
	if err != nil {
		return nil, err
	}
	// Without reply_markup, an edit removes the inline keyboard.
	kb, _, err := parseMarkup(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, err := s.editTarget(p)
	if err != nil {
		return nil, err
	}
	if m.Document != nil {
		return nil, badRequest("there is no text in the message to edit")
	}
	if m.Text == text && sameEntities(m.Entities, entities) && sameKeyboard(m.Keyboard, kb) {
		return nil, badRequest(notModified)
	}
	if err := s.limitLocked(c); err != nil {
		return nil, err
	}
	m.Text, m.Raw, m.Entities, m.Keyboard = text, p.str("text"), entities, kb
	m.Edits++
	s.notify()
	return s.messageJSON(c, m), nil
}

func (s *Server) editMessageReplyMarkup(p params) (any, error) {
	kb, _, err := parseMarkup(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, err := s.editTarget(p)
	if err != nil {
		return nil, err
	}
	if sameKeyboard(m.Keyboard, kb) {
		return nil, badRequest(notModified)
	}
	if err := s.limitLocked(c); err != nil {
		return nil, err
	}
	m.Keyboard = kb
	m.Edits++
	s.notify()
	return s.messageJSON(c, m), nil
}

func (s *Server) answerCallbackQuery(p params) (any, error) {
	id := p.str("callback_query_id")
	text := p.str("text")
	if utf8.RuneCountInString(text) > MaxCallbackText {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cq, ok := s.callbacks[id]
	const tooOld = "query is too old and response timeout expired or query ID is invalid"
	if !ok || cq.Answered {
		return nil, badRequest(tooOld)
	}
	if s.opts.Now().Sub(cq.At) > CallbackTimeout {
		cq.Answered, cq.Late = true, true
		s.notify()
		return nil, badRequest(tooOld)
	}
	cq.Answered, cq.Answer, cq.ShowAlert = true, text, p.str("show_alert") == "true"
	s.notify()
	return true, nil
}

func (s *Server) setMyCommands(p params) (any, error) {
	if !p.has("commands") {
		return nil, badRequest("parameter \"commands\" is required")
	}
	var cmds []BotCommand
	if err := p.decode("commands", &cmds); err != nil {
		return nil, err
	}
	if len(cmds) > MaxCommands {
		return nil, badRequest("too many commands specified")
	}
	seen := map[string]bool{}
	for _, c := range cmds {
		if !commandName.MatchString(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(c.Description)); n < 1 || n > MaxDescription {
			return nil, badRequest("command description must be non-empty")
		}
		if seen[c.Command] {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		seen[c.Command] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = cmds
	s.notify()
	return true, nil
}

func (s *Server) getChatMember(p params) (any, error) {
	uid, err := p.int64("user_id")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.chatOf(p)
	if err != nil {
		return nil, err
	}
	status, ok := c.members[uid]
	if !ok {
		status = "left"
	}
	member := map[string]any{"status": status, "user": User{ID: uid, FirstName: "user" + strconv.FormatInt(uid, 10)}}
	switch status {
	case "creator":
		member["is_anonymous"] = false
	case "administrator":
		member["can_be_edited"] = false
		member["is_anonymous"] = false
		member["can_manage_chat"] = true
	}
	return member, nil
}

// messageJSON renders a message as the Bot API does; the caller holds s.mu.
func (s *Server) messageJSON(c *chat, m *Message) map[string]any {
	ch := map[string]any{"id": c.id, "type": c.kind}
	if c.kind != "private" {
		ch["title"] = "chat " + strconv.FormatInt(c.id, 10)
	}
	out := map[string]any{"message_id": m.ID, "from": m.From, "chat": ch, "date": m.Date.Unix()}
	if m.Document != nil {
		out["document"] = map[string]any{"file_id": "doc" + strconv.Itoa(m.ID), "file_unique_id": "u" + strconv.Itoa(m.ID), "file_name": m.Document.Name, "file_size": len(m.Document.Data)}
		if m.Text != "" {
			out["caption"] = m.Text
		}
	} else {
		out["text"] = m.Text
	}
	if len(m.Entities) > 0 {
		key := "entities"
		if m.Document != nil {
			key = "caption_entities"
		}
		out[key] = m.Entities
	}
	if m.Keyboard != nil {
		out["reply_markup"] = map[string]any{"inline_keyboard": m.Keyboard}
	}
	if m.Edits > 0 {
		out["edit_date"] = s.opts.Now().Unix()
	}
	return out
}

// getChat answers for chats the bot is in (AddChat); any other is "chat
// not found", as Telegram says to a bot outside the chat.
func (s *Server) getChat(p params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.chatOf(p)
	if err != nil {
		return nil, err
	}
	return map[string]any{"id": c.id, "type": c.kind, "title": "chat " + strconv.FormatInt(c.id, 10)}, nil
}
