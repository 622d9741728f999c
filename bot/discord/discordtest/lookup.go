package discordtest

import (
	"net/http"
	"strconv"
)

// Permission bits of the documented permission set that deckhand needs.
const (
	PermViewChannel  int64 = 1 << 10
	PermSendMessages int64 = 1 << 11
	PermEmbedLinks   int64 = 1 << 14
	PermAttachFiles  int64 = 1 << 15
)

var (
	errUnknownGuild   = &APIError{Code: 10004, Message: "Unknown Guild"}
	errUnknownChannel = &APIError{Code: 10003, Message: "Unknown Channel"}
)

// handleLookup answers the read-only lookups deckhand doctor makes: the
// current application, the guild with its roles, the bot's membership and
// a channel. It reports whether the path was one of them.
func (s *Server) handleLookup(req *apiRequest) bool {
	seg := req.seg
	switch {
	case len(seg) == 2 && seg[0] == "applications" && seg[1] == "@me":
		writeJSON(req.w, http.StatusOK, map[string]any{"id": s.AppID, "name": "deckhand", "bot": s.BotUser})
	case len(seg) == 2 && seg[0] == "guilds":
		if seg[1] != s.GuildID {
			writeError(req.w, http.StatusNotFound, errUnknownGuild)
			return true
		}
		everyone := map[string]any{"id": s.GuildID, "name": "@everyone", "permissions": strconv.FormatInt(s.BotPermissions, 10)}
		writeJSON(req.w, http.StatusOK, map[string]any{"id": s.GuildID, "name": "homelab", "owner_id": "1", "roles": []any{everyone}})
	case len(seg) == 4 && seg[0] == "guilds" && seg[2] == "members":
		if seg[1] != s.GuildID || seg[3] != s.BotUser.ID {
			writeError(req.w, http.StatusNotFound, errNotFound)
			return true
		}
		writeJSON(req.w, http.StatusOK, map[string]any{"user": s.BotUser, "roles": []string{}})
	case len(seg) == 2 && seg[0] == "channels":
		if seg[1] != s.ChannelID {
			writeError(req.w, http.StatusNotFound, errUnknownChannel)
			return true
		}
		writeJSON(req.w, http.StatusOK, map[string]any{"id": s.ChannelID, "guild_id": s.GuildID, "type": 0, "name": "alerts", "permission_overwrites": []any{}})
	default:
		return false
	}
	return true
}
