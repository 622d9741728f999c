package discordtest

import "time"

// User is a Discord user as the fake shows it.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Bot      bool   `json:"bot,omitempty"`
}

// EmbedField is one name/value pair of an embed.
type EmbedField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}

// EmbedFooter is the footer of an embed.
type EmbedFooter struct {
	Text string `json:"text"`
}

// EmbedAuthor is the author line of an embed.
type EmbedAuthor struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// Embed is a rich embed.
type Embed struct {
	Type        string       `json:"type,omitempty"`
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	URL         string       `json:"url,omitempty"`
	Timestamp   string       `json:"timestamp,omitempty"`
	Color       int          `json:"color,omitempty"`
	Footer      *EmbedFooter `json:"footer,omitempty"`
	Author      *EmbedAuthor `json:"author,omitempty"`
	Fields      []EmbedField `json:"fields,omitempty"`
}

// Component types and button styles the fake understands.
const (
	ComponentActionRow = 1
	ComponentButton    = 2

	StylePrimary   = 1
	StyleSecondary = 2
	StyleSuccess   = 3
	StyleDanger    = 4
	StyleLink      = 5
)

// Component is an action row or a button.
type Component struct {
	Type       int         `json:"type"`
	Style      int         `json:"style,omitempty"`
	Label      string      `json:"label,omitempty"`
	CustomID   string      `json:"custom_id,omitempty"`
	URL        string      `json:"url,omitempty"`
	Disabled   bool        `json:"disabled,omitempty"`
	Components []Component `json:"components,omitempty"`
}

// Attachment is a file uploaded with a message.
type Attachment struct {
	ID       string `json:"id"`
	Filename string `json:"filename"`
	Size     int    `json:"size"`
	URL      string `json:"url"`
	Data     []byte `json:"-"`
}

// Message flags.
const (
	FlagEphemeral = 1 << 6
	FlagLoading   = 1 << 7 // a deferred response still "thinking"
)

// Message is a message the fake holds, as Discord would return it.
type Message struct {
	ID            string       `json:"id"`
	ChannelID     string       `json:"channel_id"`
	GuildID       string       `json:"guild_id,omitempty"`
	Author        User         `json:"author"`
	Content       string       `json:"content"`
	Embeds        []Embed      `json:"embeds"`
	Components    []Component  `json:"components"`
	Attachments   []Attachment `json:"attachments"`
	Flags         int          `json:"flags"`
	Nonce         string       `json:"nonce,omitempty"`
	Type          int          `json:"type"`
	Timestamp     time.Time    `json:"timestamp"`
	EditedAt      *time.Time   `json:"edited_timestamp"`
	WebhookID     string       `json:"webhook_id,omitempty"`
	ApplicationID string       `json:"application_id,omitempty"`
	// InteractionID is the interaction this message answers, if any (not
	// part of Discord's JSON: the fake keeps it for assertions).
	InteractionID string `json:"-"`
	// Pings are the mentions in Content that notified someone (@everyone,
	// <@id>, ...), as Discord parses them under allowed_mentions.
	Pings []string `json:"-"`
	// Edits counts the PATCHes applied to the message.
	Edits int `json:"-"`
	// Deleted is set when the message was deleted; deleted messages stay
	// listed so that tests can see them.
	Deleted bool `json:"-"`
}

// Ephemeral reports whether only the invoking user can see the message.
func (m Message) Ephemeral() bool { return m.Flags&FlagEphemeral != 0 }

// Buttons lists every button of the message, row by row.
func (m Message) Buttons() []Component {
	var out []Component
	for _, row := range m.Components {
		out = append(out, row.Components...)
	}
	return out
}

// Button returns the button with the given label.
func (m Message) Button(label string) (Component, bool) {
	for _, b := range m.Buttons() {
		if b.Label == label {
			return b, true
		}
	}
	return Component{}, false
}

func (m Message) clone() Message {
	c := m
	c.Embeds = append([]Embed(nil), m.Embeds...)
	c.Components = append([]Component(nil), m.Components...)
	c.Attachments = append([]Attachment(nil), m.Attachments...)
	c.Pings = append([]string(nil), m.Pings...)
	return c
}

// Interaction types.
const (
	InteractionPing         = 1
	InteractionCommand      = 2
	InteractionComponent    = 3
	InteractionAutocomplete = 4
)

// Interaction callback (response) types.
const (
	CallbackPong               = 1
	CallbackMessage            = 4
	CallbackDeferredMessage    = 5
	CallbackDeferredUpdate     = 6
	CallbackUpdateMessage      = 7
	CallbackAutocompleteResult = 8
	CallbackModal              = 9
)

// Option types of application commands.
const (
	OptionSubCommand = 1
	OptionString     = 3
	OptionInteger    = 4
	OptionBoolean    = 5
	OptionNumber     = 10
)

// Option is a slash command option value sent with an interaction.
type Option struct {
	Name    string `json:"name"`
	Type    int    `json:"type"`
	Value   any    `json:"value"`
	Focused bool   `json:"focused,omitempty"`
}

// Opt builds an option; its type is taken from the registered command.
func Opt(name string, value any) Option { return Option{Name: name, Value: value} }

// Interaction is one interaction the fake dispatched.
type Interaction struct {
	ID           string
	Token        string
	Type         int
	GuildID      string
	ChannelID    string
	User         User
	Roles        []string
	Name         string   // command name (types 2 and 4)
	Options      []Option // types 2 and 4
	CustomID     string   // type 3
	MessageID    string   // type 3: the message holding the clicked button
	DispatchedAt time.Time

	acked        bool
	callbackType int
	originalID   string // message created by the callback, if any
}

// Response kinds recorded for an interaction.
const (
	KindCallback       = "callback"
	KindFollowup       = "followup"
	KindEditOriginal   = "edit_original"
	KindDeleteOriginal = "delete_original"
	KindEditFollowup   = "edit_followup"
)

// Choice is one autocomplete choice.
type Choice struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// Response is one request the application made about an interaction, with
// the status the fake answered. Rejected requests are recorded too.
type Response struct {
	Kind    string
	Type    int // callback type for KindCallback
	Message Message
	Choices []Choice
	Status  int
	Error   *APIError // nil when accepted
	At      time.Time
}

// APIError is Discord's JSON error body.
type APIError struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Errors  map[string]any `json:"errors,omitempty"`
}

func (e *APIError) Error() string { return e.Message }

// Command is a registered application command.
type Command struct {
	ID            string          `json:"id"`
	ApplicationID string          `json:"application_id"`
	GuildID       string          `json:"guild_id,omitempty"`
	Name          string          `json:"name"`
	Description   string          `json:"description"`
	Type          int             `json:"type,omitempty"`
	Options       []CommandOption `json:"options,omitempty"`
	Version       string          `json:"version"`
}

// CommandOption is an option of a registered command.
type CommandOption struct {
	Type         int             `json:"type"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	Required     bool            `json:"required,omitempty"`
	Autocomplete bool            `json:"autocomplete,omitempty"`
	Choices      []Choice        `json:"choices,omitempty"`
	Options      []CommandOption `json:"options,omitempty"`
}

// Failure is a protocol violation the application committed against the
// fake: a late or second acknowledgement, a request during a rate limit, an
// invalid body. Tests assert there are none.
type Failure struct {
	Code   int
	Reason string
	Path   string
}
