package discord

import (
	"slices"

	"github.com/bwmarrin/discordgo"

	"github.com/deckhand/deckhand"
)

// actorFor maps a Discord user to a deckhand actor. guildRoles are the
// member's roles in the configured guild (nil in DMs and other guilds).
// The highest role among the matching bindings wins, whether it comes from
// a guild role or from the user's own entry; a user entry therefore grants
// but never takes away. The host scope is that of the winning bindings: if
// any of them is unscoped, the actor reaches every host.
func (c Config) actorFor(userID, name string, guildRoles []string) deckhand.Actor {
	type binding struct {
		id   string
		role deckhand.Role
	}
	var bs []binding
	for _, rid := range guildRoles {
		if r, ok := c.Roles[rid]; ok {
			bs = append(bs, binding{rid, r})
		}
	}
	if r, ok := c.Users[userID]; ok {
		bs = append(bs, binding{userID, r})
	}
	a := deckhand.Actor{Platform: deckhand.PlatformDiscord, UserID: userID, Name: name}
	for _, b := range bs {
		a.Role = max(a.Role, b.role)
	}
	if a.Role == deckhand.RoleNone {
		return a
	}
	var hosts []string
	for _, b := range bs {
		if b.role != a.Role {
			continue
		}
		scope, scoped := c.RoleHosts[b.id]
		if !scoped {
			return a // an unscoped binding at the winning level
		}
		for _, h := range scope {
			if !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
	}
	a.Hosts = hosts
	return a
}

// actorOf maps the user behind an interaction.
func (b *Bot) actorOf(i *discordgo.Interaction) deckhand.Actor {
	var u *discordgo.User
	var roles []string
	if i.Member != nil {
		u = i.Member.User
		// Roles only mean something in the configured guild.
		if i.GuildID == b.cfg.GuildID {
			roles = i.Member.Roles
		}
	} else {
		u = i.User
	}
	if u == nil {
		return deckhand.Actor{Platform: deckhand.PlatformDiscord}
	}
	name := u.GlobalName
	if name == "" {
		name = u.Username
	}
	return b.cfg.actorFor(u.ID, name, roles)
}
