package discordtest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

type callbackBody struct {
	Type int         `json:"type"`
	Data messageBody `json:"data"`
}

func (s *Server) record(it *Interaction, r Response) {
	r.At = s.now()
	s.responses[it.ID] = append(s.responses[it.ID], r)
}

// reject records a rejected request about an interaction and answers it.
func (s *Server) reject(req *apiRequest, it *Interaction, kind string, status int, e *APIError, reason string) {
	s.fail(status, req.path, "%s", reason)
	if it != nil {
		s.record(it, Response{Kind: kind, Status: status, Error: e})
	}
	writeError(req.w, status, e)
}

func (s *Server) handleCallback(req *apiRequest, id, token string) {
	var b callbackBody
	files, apiErr := readBody(req.r, &b)
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	it, ok := s.interactions[id]
	if !ok || it.Token != token {
		s.reject(req, nil, KindCallback, http.StatusNotFound, errUnknownInteraction, "callback for an unknown interaction")
		return
	}
	if age := s.now().Sub(it.DispatchedAt); age > AckWindow {
		s.reject(req, it, KindCallback, http.StatusNotFound, errUnknownInteraction, "late acknowledgement: "+age.String()+" after dispatch")
		return
	}
	if it.acked {
		s.reject(req, it, KindCallback, http.StatusBadRequest, errAlreadyAcked, "second acknowledgement of interaction "+id)
		return
	}
	if apiErr != nil {
		s.reject(req, it, KindCallback, http.StatusBadRequest, apiErr, apiErr.Message)
		return
	}
	allowed := map[int][]int{
		InteractionCommand:      {CallbackMessage, CallbackDeferredMessage, CallbackModal},
		InteractionComponent:    {CallbackMessage, CallbackDeferredMessage, CallbackDeferredUpdate, CallbackUpdateMessage, CallbackModal},
		InteractionAutocomplete: {CallbackAutocompleteResult},
	}[it.Type]
	valid := false
	for _, t := range allowed {
		valid = valid || t == b.Type
	}
	f := formErrors{}
	if !valid {
		f.add("INTERACTION_RESPONSE_TYPE_INVALID", "Interaction response type is not valid for this interaction", "type")
	}
	switch b.Type {
	case CallbackMessage, CallbackUpdateMessage:
		content := ""
		if b.Data.Content != nil {
			content = *b.Data.Content
		}
		var embeds []Embed
		if b.Data.Embeds != nil {
			embeds = *b.Data.Embeds
		}
		var comps []Component
		if b.Data.Components != nil {
			comps = *b.Data.Components
		}
		validateMessage(f, content, embeds, comps, len(files))
	case CallbackAutocompleteResult:
		validateChoices(f, b.Data.Choices)
	}
	if e := f.err(); e != nil {
		s.reject(req, it, KindCallback, http.StatusBadRequest, e, "invalid callback body")
		return
	}
	it.acked = true
	it.callbackType = b.Type
	resp := Response{Kind: KindCallback, Type: b.Type, Status: http.StatusNoContent}
	if b.Data.Choices != nil {
		resp.Choices = *b.Data.Choices
	}
	switch b.Type {
	case CallbackMessage, CallbackDeferredMessage:
		m := s.newMessage(it.ChannelID, b.Data, files)
		m.Type = 20
		m.WebhookID = s.AppID
		m.ApplicationID = s.AppID
		m.InteractionID = it.ID
		if b.Type == CallbackDeferredMessage {
			m.Flags |= FlagLoading
		}
		s.store(m)
		it.originalID = m.ID
		resp.Message = m.clone()
	case CallbackDeferredUpdate:
		it.originalID = it.MessageID
	case CallbackUpdateMessage:
		it.originalID = it.MessageID
		if m, ok := s.byID[it.MessageID]; ok {
			c, e := s.applyEdit(m, b.Data, files)
			if e != nil {
				it.acked = false
				s.reject(req, it, KindCallback, http.StatusBadRequest, e, "invalid message update")
				return
			}
			s.replace(c)
			resp.Message = c.clone()
		}
	}
	s.record(it, resp)
	writeJSON(req.w, http.StatusNoContent, nil)
}

// handleWebhook serves interaction follow-ups: POST webhooks/{app}/{token}
// and GET/PATCH/DELETE webhooks/{app}/{token}/messages/{id|@original}.
func (s *Server) handleWebhook(req *apiRequest, appID, token string, rest []string) {
	var b messageBody
	var files []Attachment
	var apiErr *APIError
	if req.r.Method == http.MethodPost || req.r.Method == http.MethodPatch {
		files, apiErr = readBody(req.r, &b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	kind := KindFollowup
	if len(rest) == 2 && rest[0] == "messages" {
		switch req.r.Method {
		case http.MethodPatch:
			kind = KindEditFollowup
			if rest[1] == "@original" {
				kind = KindEditOriginal
			}
		case http.MethodDelete:
			kind = KindDeleteOriginal
		case http.MethodGet:
			kind = ""
		default:
			writeError(req.w, http.StatusMethodNotAllowed, errMethod)
			return
		}
	} else if len(rest) != 0 || req.r.Method != http.MethodPost {
		writeError(req.w, http.StatusNotFound, errNotFound)
		return
	}
	it, ok := s.byToken[token]
	if !ok || appID != s.AppID {
		s.reject(req, nil, kind, http.StatusNotFound, errUnknownWebhook, "webhook for an unknown interaction token")
		return
	}
	if s.now().Sub(it.DispatchedAt) > TokenTTL {
		s.reject(req, it, kind, http.StatusUnauthorized, errInvalidToken, "interaction token used after 15 minutes")
		return
	}
	if !it.acked {
		s.reject(req, it, kind, http.StatusNotFound, errUnknownWebhook, "follow-up before the interaction was acknowledged")
		return
	}
	if kind != "" && s.rateLimited(req) {
		return
	}
	if apiErr != nil {
		s.reject(req, it, kind, http.StatusBadRequest, apiErr, apiErr.Message)
		return
	}
	var target *Message
	if len(rest) == 2 {
		id := rest[1]
		if id == "@original" {
			id = it.originalID
		}
		m, ok := s.byID[id]
		if !ok || m.Deleted || (rest[1] != "@original" && m.InteractionID != it.ID) {
			s.reject(req, it, kind, http.StatusNotFound, errUnknownMessage, "unknown interaction message "+rest[1])
			return
		}
		target = m
	}
	switch kind {
	case "":
		writeJSON(req.w, http.StatusOK, target)
	case KindDeleteOriginal:
		target.Deleted = true
		s.record(it, Response{Kind: kind, Status: http.StatusNoContent, Message: target.clone()})
		writeJSON(req.w, http.StatusNoContent, nil)
	case KindEditOriginal, KindEditFollowup:
		c, e := s.applyEdit(target, b, files)
		if e != nil {
			s.reject(req, it, kind, http.StatusBadRequest, e, "invalid message edit")
			return
		}
		c.Flags &^= FlagLoading
		s.replace(c)
		s.record(it, Response{Kind: kind, Status: http.StatusOK, Message: c.clone()})
		writeJSON(req.w, http.StatusOK, c)
	case KindFollowup:
		// After a deferred message the first follow-up replaces the
		// "thinking" placeholder, keeping its visibility.
		if orig, ok := s.byID[it.originalID]; ok && orig.Flags&FlagLoading != 0 && !orig.Deleted {
			c, e := s.applyEdit(orig, b, files)
			if e != nil {
				s.reject(req, it, kind, http.StatusBadRequest, e, "invalid follow-up")
				return
			}
			c.Flags &^= FlagLoading
			s.replace(c)
			s.record(it, Response{Kind: kind, Status: http.StatusOK, Message: c.clone()})
			s.writeWebhookResult(req, c)
			return
		}
		content := ""
		if b.Content != nil {
			content = *b.Content
		}
		var embeds []Embed
		if b.Embeds != nil {
			embeds = *b.Embeds
		}
		var comps []Component
		if b.Components != nil {
			comps = *b.Components
		}
		f := formErrors{}
		validateMessage(f, content, embeds, comps, len(files))
		if e := f.err(); e != nil {
			s.reject(req, it, kind, http.StatusBadRequest, e, "invalid follow-up")
			return
		}
		m := s.newMessage(it.ChannelID, b, files)
		m.WebhookID = s.AppID
		m.ApplicationID = s.AppID
		m.InteractionID = it.ID
		m.Type = 19
		s.store(m)
		s.record(it, Response{Kind: kind, Status: http.StatusOK, Message: m.clone()})
		s.writeWebhookResult(req, m)
	}
}

func (s *Server) writeWebhookResult(req *apiRequest, m *Message) {
	if req.r.URL.Query().Get("wait") == "true" {
		writeJSON(req.w, http.StatusOK, m)
		return
	}
	writeJSON(req.w, http.StatusNoContent, nil)
}

// ---- injecting interactions ----

func (s *Server) findCommand(guildID, name string) (Command, bool) {
	for _, g := range []string{guildID, ""} {
		for _, c := range s.commands[g] {
			if c.Name == name {
				return c, true
			}
		}
	}
	return Command{}, false
}

func (s *Server) channelFor(guildID, user string) string {
	if guildID == "" {
		return "dm" + user
	}
	return s.ChannelID
}

// SlashCommand dispatches a slash command invocation, as a user with the
// given guild roles would type it. guildID "" sends it from a DM. The
// command must be registered and the options must match its definition, as
// Discord's client enforces.
func (s *Server) SlashCommand(guildID, user string, roles []string, name string, options ...Option) *Interaction {
	s.t.Helper()
	s.mu.Lock()
	cmd, ok := s.findCommand(guildID, name)
	if !ok {
		s.mu.Unlock()
		s.t.Fatalf("discordtest: /%s is not registered", name)
		return nil
	}
	opts := s.typedOptions(cmd, options, false)
	it := s.newInteraction(InteractionCommand, guildID, user, roles)
	it.Name, it.Options = name, opts
	s.mu.Unlock()
	s.dispatchInteraction(it, map[string]any{"id": cmd.ID, "name": name, "type": 1, "options": opts, "guild_id": guildID}, nil)
	return it
}

// Autocomplete dispatches an autocomplete request while the user types the
// focused option; the option must be registered with autocomplete.
func (s *Server) Autocomplete(guildID, user string, roles []string, name string, focused Option, options ...Option) *Interaction {
	s.t.Helper()
	s.mu.Lock()
	cmd, ok := s.findCommand(guildID, name)
	if !ok {
		s.mu.Unlock()
		s.t.Fatalf("discordtest: /%s is not registered", name)
		return nil
	}
	focused.Focused = true
	opts := s.typedOptions(cmd, append(options, focused), true)
	var auto bool
	for _, o := range cmd.Options {
		if o.Name == focused.Name {
			auto = o.Autocomplete
		}
	}
	if !auto {
		s.mu.Unlock()
		s.t.Fatalf("discordtest: option %q of /%s has no autocomplete", focused.Name, name)
		return nil
	}
	it := s.newInteraction(InteractionAutocomplete, guildID, user, roles)
	it.Name, it.Options = name, opts
	s.mu.Unlock()
	s.dispatchInteraction(it, map[string]any{"id": cmd.ID, "name": name, "type": 1, "options": opts, "guild_id": guildID}, nil)
	return it
}

// Click dispatches a click on the button with customID of a message in the
// default guild. The button must exist and be enabled.
func (s *Server) Click(user string, roles []string, msg Message, customID string) *Interaction {
	s.t.Helper()
	s.mu.Lock()
	m, ok := s.byID[msg.ID]
	if !ok || m.Deleted {
		s.mu.Unlock()
		s.t.Fatalf("discordtest: click on unknown message %s", msg.ID)
		return nil
	}
	var found, disabled bool
	for _, b := range m.Buttons() {
		if b.CustomID == customID {
			found, disabled = true, b.Disabled
		}
	}
	if !found || disabled {
		s.mu.Unlock()
		s.t.Fatalf("discordtest: message %s has no enabled button %q", msg.ID, customID)
		return nil
	}
	guildID, _ := s.guildOf(m.ChannelID)
	it := s.newInteraction(InteractionComponent, guildID, user, roles)
	it.ChannelID = m.ChannelID
	it.CustomID, it.MessageID = customID, m.ID
	snapshot := m.clone()
	s.mu.Unlock()
	s.dispatchInteraction(it, map[string]any{"custom_id": customID, "component_type": ComponentButton}, &snapshot)
	return it
}

// typedOptions checks options against the command definition and fills in
// their types. Call with s.mu held.
func (s *Server) typedOptions(cmd Command, options []Option, partial bool) []Option {
	s.t.Helper()
	defs := map[string]CommandOption{}
	for _, o := range cmd.Options {
		defs[o.Name] = o
	}
	given := map[string]bool{}
	out := make([]Option, 0, len(options))
	for _, o := range options {
		d, ok := defs[o.Name]
		if !ok {
			s.mu.Unlock()
			s.t.Fatalf("discordtest: /%s has no option %q", cmd.Name, o.Name)
		}
		o.Type = d.Type
		switch v := o.Value.(type) {
		case int:
			o.Value = float64(v)
		case int64:
			o.Value = float64(v)
		}
		given[o.Name] = true
		out = append(out, o)
	}
	if !partial {
		for _, d := range cmd.Options {
			if d.Required && !given[d.Name] {
				s.mu.Unlock()
				s.t.Fatalf("discordtest: /%s requires option %q", cmd.Name, d.Name)
			}
		}
	}
	return out
}

// newInteraction registers an interaction; call with s.mu held.
func (s *Server) newInteraction(typ int, guildID, user string, roles []string) *Interaction {
	it := &Interaction{
		ID: s.newID(), Token: "itoken-" + s.newID(), Type: typ, GuildID: guildID,
		ChannelID: s.channelFor(guildID, user), User: User{ID: user, Username: "user" + user},
		Roles: roles,
	}
	s.interactions[it.ID] = it
	s.byToken[it.Token] = it
	return it
}

func (s *Server) dispatchInteraction(it *Interaction, data map[string]any, msg *Message) {
	s.t.Helper()
	payload := map[string]any{
		"id": it.ID, "application_id": s.AppID, "type": it.Type, "token": it.Token, "version": 1,
		"channel_id": it.ChannelID, "data": data, "locale": "en-US", "app_permissions": "0",
	}
	if it.GuildID != "" {
		roles := it.Roles
		if roles == nil {
			roles = []string{}
		}
		payload["guild_id"] = it.GuildID
		payload["member"] = map[string]any{
			"user": it.User, "roles": roles, "permissions": "0", "joined_at": "2024-01-02T03:04:05Z",
		}
	} else {
		payload["user"] = it.User
	}
	if msg != nil {
		payload["message"] = msg
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		s.t.Fatalf("discordtest: marshal interaction: %v", err)
	}
	s.waitReady(s.t, 5*time.Second)
	s.mu.Lock()
	it.DispatchedAt = s.now()
	s.mu.Unlock()
	s.dispatch("INTERACTION_CREATE", raw)
}

// WaitReady waits until a gateway connection has identified.
func (s *Server) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	s.waitReady(t, timeout)
}
