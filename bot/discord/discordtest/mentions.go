package discordtest

import (
	"regexp"
	"slices"
)

// allowedMentions is the allowed_mentions object of a message body.
type allowedMentions struct {
	Parse *[]string `json:"parse"`
	Users []string  `json:"users"`
	Roles []string  `json:"roles"`
}

var mentionRe = regexp.MustCompile(`@everyone|@here|<@!?(\d+)>|<@&(\d+)>`)

// pings lists the mentions in content that notify someone. Only content
// is parsed (embeds never ping), and without allowed_mentions Discord
// parses everything: "If allowed_mentions is not passed in, the mentions
// will be parsed via the content", also on edits, "without regard to
// whether or not an allowed_mentions was present in the request that
// originally created the message".
func pings(content string, am *allowedMentions) []string {
	parse := []string{"everyone", "users", "roles"}
	if am != nil {
		parse = nil
		if am.Parse != nil {
			parse = *am.Parse
		}
	}
	var out []string
	for _, m := range mentionRe.FindAllStringSubmatch(content, -1) {
		var ok bool
		switch {
		case m[1] != "":
			ok = slices.Contains(parse, "users") || am != nil && slices.Contains(am.Users, m[1])
		case m[2] != "":
			ok = slices.Contains(parse, "roles") || am != nil && slices.Contains(am.Roles, m[2])
		default:
			ok = slices.Contains(parse, "everyone")
		}
		if ok {
			out = append(out, m[0])
		}
	}
	return out
}
