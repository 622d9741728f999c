package discord

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/commands"
)

// Discord's limits the adapter renders within.
const (
	maxContent     = 2000
	maxEmbedTitle  = 256
	maxEmbedDesc   = 4096
	maxFooter      = 2048
	maxFieldValue  = 1024
	maxEmbedTotal  = 6000 // title, description, field names and values, footer, author: together
	maxRows        = 5
	maxRowButtons  = 5
	maxCustomID    = 100
	maxLabel       = 80
	maxChoices     = 25
	maxChoiceLen   = 100
	maxDescription = 100
	maxURL         = 2048
	logsFile       = "logs.txt"
)

// Colours of replies (alerts use bot.Render's colours).
const (
	colorReply = 0x5865F2 // Discord blurple
	colorError = 0xF05252
)

// truncate cuts s to at most n characters (runes), marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// outgoing is one message to send, in discordgo's terms.
type outgoing struct {
	content    string
	embeds     []*discordgo.MessageEmbed
	components []discordgo.MessageComponent
	files      []*discordgo.File
}

// renderReply turns a router reply into a message that fits Discord's
// limits: text longer than a message becomes logs.txt.
func renderReply(r commands.Reply) outgoing {
	var out outgoing
	text := r.Text
	if r.Title != "" {
		e := &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Title: truncate(r.Title, maxEmbedTitle), Color: colorReply}
		if r.Error {
			e.Color = colorError
		}
		if utf8.RuneCountInString(text) <= maxEmbedDesc {
			e.Description = text
			text = ""
		}
		out.embeds = []*discordgo.MessageEmbed{e}
	}
	if utf8.RuneCountInString(text) > maxContent {
		out.files = append(out.files, &discordgo.File{Name: logsFile, ContentType: "text/plain; charset=utf-8", Reader: strings.NewReader(text)})
		text = fmt.Sprintf("Output is %d lines; attached as %s.", strings.Count(text, "\n")+1, logsFile)
	}
	out.content = text
	if r.File != nil {
		name := r.File.Name
		if name == "" {
			name = logsFile
		}
		out.files = append(out.files, &discordgo.File{Name: name, ContentType: "text/plain; charset=utf-8", Reader: bytes.NewReader(r.File.Data)})
	}
	out.components = buttonRows(r.Buttons)
	if out.content == "" && len(out.embeds) == 0 && len(out.files) == 0 && len(out.components) == 0 {
		out.content = "Done."
	}
	return out
}

var buttonStyles = map[commands.ButtonStyle]discordgo.ButtonStyle{
	commands.Primary:   discordgo.PrimaryButton,
	commands.Secondary: discordgo.SecondaryButton,
	commands.Danger:    discordgo.DangerButton,
	commands.Success:   discordgo.SuccessButton,
}

// buttonRows lays buttons out five to a row, at most five rows. Buttons
// whose payload cannot be a custom_id are dropped rather than failing the
// whole message; the router never produces them.
func buttonRows(bs []commands.Button) []discordgo.MessageComponent {
	rows := []discordgo.MessageComponent{}
	var row discordgo.ActionsRow
	seen := map[string]bool{}
	for _, b := range bs {
		if b.Payload == "" || len(b.Payload) > maxCustomID || seen[b.Payload] {
			continue
		}
		seen[b.Payload] = true
		style, ok := buttonStyles[b.Style]
		if !ok {
			style = discordgo.SecondaryButton
		}
		label := truncate(b.Label, maxLabel)
		if label == "" {
			label = "…"
		}
		row.Components = append(row.Components, discordgo.Button{Label: label, Style: style, CustomID: b.Payload})
		if len(row.Components) == maxRowButtons {
			rows = append(rows, row)
			row = discordgo.ActionsRow{}
		}
		if len(rows) == maxRows {
			return rows
		}
	}
	if len(row.Components) > 0 {
		rows = append(rows, row)
	}
	return rows
}

// alertEmbed maps a rendered notice to an embed: the title (linked to the
// status page when Discord accepts the link), the body, the facts as
// inline fields.
func alertEmbed(m bot.Message, at time.Time) *discordgo.MessageEmbed {
	title := m.Title
	if m.Emoji != "" {
		title = m.Emoji + " " + title
	}
	e := &discordgo.MessageEmbed{
		Type:        discordgo.EmbedTypeRich,
		Title:       truncate(title, maxEmbedTitle),
		Description: truncate(m.Body(), maxEmbedDesc),
		Color:       m.Color,
	}
	if linkable(m.URL) {
		e.URL = m.URL
	}
	if !at.IsZero() {
		e.Timestamp = at.UTC().Format(time.RFC3339)
	}
	used := utf8.RuneCountInString(e.Title)
	for _, f := range m.Fields {
		field := &discordgo.MessageEmbedField{Name: truncate(f.Name, maxEmbedTitle), Value: truncate(f.Value, maxFieldValue), Inline: true}
		e.Fields = append(e.Fields, field)
		used += utf8.RuneCountInString(field.Name) + utf8.RuneCountInString(field.Value)
	}
	// Discord refuses the whole message when the embed's texts exceed
	// 6000 characters together: the body gives way.
	if room := maxEmbedTotal - used; utf8.RuneCountInString(e.Description) > room {
		e.Description = truncate(e.Description, max(room, 1))
	}
	return e
}

// linkable reports whether Discord accepts u as an embed URL: http or
// https with a dotted host (an IP address or a fully qualified name).
// Discord refuses the whole message otherwise ("http://nas:8080"), and an
// alert matters more than its link.
func linkable(u string) bool {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || len(u) > maxURL {
		return false
	}
	return strings.Contains(strings.Trim(p.Hostname(), "."), ".")
}

// applicationCommands turns the router's specs into guild commands.
func applicationCommands(specs []commands.Spec) ([]*discordgo.ApplicationCommand, error) {
	out := make([]*discordgo.ApplicationCommand, 0, len(specs))
	for _, sp := range specs {
		c := &discordgo.ApplicationCommand{
			Name:        sp.Name,
			Description: describeOr(sp.Description, sp.Name),
			Type:        discordgo.ChatApplicationCommand,
		}
		for _, a := range sp.Args {
			o := &discordgo.ApplicationCommandOption{
				Name:        a.Name,
				Description: describeOr(a.Description, a.Name),
				Required:    a.Required,
				Type:        discordgo.ApplicationCommandOptionString,
			}
			switch a.Kind {
			case commands.ArgInt:
				o.Type = discordgo.ApplicationCommandOptionInteger
			case commands.ArgHost, commands.ArgContainer, commands.ArgProject:
				o.Autocomplete = true
			}
			c.Options = append(c.Options, o)
		}
		if len(c.Options) > 25 {
			return nil, fmt.Errorf("discord: command %s has %d options (Discord allows 25): %w", sp.Name, len(c.Options), deckhand.ErrInvalidInput)
		}
		out = append(out, c)
	}
	return out, nil
}

func describeOr(desc, name string) string {
	if strings.TrimSpace(desc) == "" {
		desc = name
	}
	return truncate(desc, maxDescription)
}

// argsFrom turns named options into the router's positional arguments, in
// the order of the spec. A missing optional argument followed by a given
// one becomes "", which the router treats as not given.
func argsFrom(sp commands.Spec, opts []*discordgo.ApplicationCommandInteractionDataOption) []string {
	byName := map[string]string{}
	for _, o := range opts {
		switch v := o.Value.(type) {
		case string:
			byName[o.Name] = v
		case float64:
			byName[o.Name] = fmt.Sprintf("%.0f", v)
		case bool:
			byName[o.Name] = fmt.Sprint(v)
		default:
			byName[o.Name] = fmt.Sprint(v)
		}
	}
	args := make([]string, len(sp.Args))
	last := -1
	for i, a := range sp.Args {
		if v, ok := byName[a.Name]; ok {
			args[i] = v
			last = i
		}
	}
	return args[:last+1]
}
