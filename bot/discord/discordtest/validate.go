package discordtest

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Discord's documented limits.
const (
	MaxContent          = 2000
	MaxEmbeds           = 10
	MaxEmbedTitle       = 256
	MaxEmbedDescription = 4096
	MaxEmbedFields      = 25
	MaxFieldName        = 256
	MaxFieldValue       = 1024
	MaxFooterText       = 2048
	MaxAuthorName       = 256
	MaxEmbedTotal       = 6000
	MaxActionRows       = 5
	MaxButtonsPerRow    = 5
	MaxCustomID         = 100
	MaxButtonLabel      = 80
	MaxNonce            = 25
	MaxChoices          = 25
	MaxChoiceName       = 100
	MaxCommands         = 100
	MaxCommandOptions   = 25
	MaxCommandDesc      = 100
	MaxButtonURL        = 512
)

var commandName = regexp.MustCompile(`^[-_a-z0-9]{1,32}$`)

// formErrors collects errors in Discord's nested "Invalid Form Body" shape:
// {"content": {"_errors": [{"code": ..., "message": ...}]}}.
type formErrors map[string]any

func (f formErrors) add(code, msg string, path ...string) {
	m := map[string]any(f)
	for _, p := range path {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	list, _ := m["_errors"].([]any)
	m["_errors"] = append(list, map[string]any{"code": code, "message": msg})
}

func (f formErrors) err() *APIError {
	if len(f) == 0 {
		return nil
	}
	return &APIError{Code: 50035, Message: "Invalid Form Body", Errors: f}
}

func runes(s string) int { return utf8.RuneCountInString(s) }

func maxLen(f formErrors, s string, n int, path ...string) {
	if runes(s) > n {
		f.add("BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", n), path...)
	}
}

// validateMessage checks a message body against Discord's limits. hasFiles
// counts uploaded files: a message needs content, an embed, a component or a
// file.
func validateMessage(f formErrors, content string, embeds []Embed, comps []Component, files int) {
	maxLen(f, content, MaxContent, "content")
	if len(embeds) > MaxEmbeds {
		f.add("BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", MaxEmbeds), "embeds")
	}
	total := 0
	for i, e := range embeds {
		p := strconv.Itoa(i)
		maxLen(f, e.Title, MaxEmbedTitle, "embeds", p, "title")
		maxLen(f, e.Description, MaxEmbedDescription, "embeds", p, "description")
		if e.URL != "" {
			checkURL(f, e.URL, "embeds", p, "url")
		}
		total += runes(e.Title) + runes(e.Description)
		if len(e.Fields) > MaxEmbedFields {
			f.add("BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", MaxEmbedFields), "embeds", p, "fields")
		}
		for j, fl := range e.Fields {
			q := strconv.Itoa(j)
			if fl.Name == "" {
				f.add("BASE_TYPE_REQUIRED", "This field is required", "embeds", p, "fields", q, "name")
			}
			if fl.Value == "" {
				f.add("BASE_TYPE_REQUIRED", "This field is required", "embeds", p, "fields", q, "value")
			}
			maxLen(f, fl.Name, MaxFieldName, "embeds", p, "fields", q, "name")
			maxLen(f, fl.Value, MaxFieldValue, "embeds", p, "fields", q, "value")
			total += runes(fl.Name) + runes(fl.Value)
		}
		if e.Footer != nil {
			maxLen(f, e.Footer.Text, MaxFooterText, "embeds", p, "footer", "text")
			total += runes(e.Footer.Text)
		}
		if e.Author != nil {
			maxLen(f, e.Author.Name, MaxAuthorName, "embeds", p, "author", "name")
			total += runes(e.Author.Name)
		}
	}
	if total > MaxEmbedTotal {
		f.add("MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000", "embeds")
	}
	validateComponents(f, comps)
	if content == "" && len(embeds) == 0 && len(comps) == 0 && files == 0 {
		f.add("BASE_TYPE_REQUIRED", "Cannot send an empty message", "content")
	}
}

func validateComponents(f formErrors, comps []Component) {
	if len(comps) > MaxActionRows {
		f.add("BASE_TYPE_BAD_LENGTH", fmt.Sprintf("Must be between 1 and %d in length.", MaxActionRows), "components")
	}
	seen := map[string]bool{}
	for i, row := range comps {
		p := strconv.Itoa(i)
		if row.Type != ComponentActionRow {
			f.add("UNION_TYPE_CHOICES", "Value of field \"type\" must be one of (1,).", "components", p, "type")
			continue
		}
		if len(row.Components) == 0 || len(row.Components) > MaxButtonsPerRow {
			f.add("BASE_TYPE_BAD_LENGTH", fmt.Sprintf("Must be between 1 and %d in length.", MaxButtonsPerRow), "components", p, "components")
		}
		for j, b := range row.Components {
			q := strconv.Itoa(j)
			path := []string{"components", p, "components", q}
			if b.Type != ComponentButton {
				f.add("UNION_TYPE_CHOICES", "Value of field \"type\" must be one of (2,).", append(path, "type")...)
				continue
			}
			maxLen(f, b.Label, MaxButtonLabel, append(path, "label")...)
			switch {
			case b.Style < StylePrimary || b.Style > StyleLink:
				f.add("BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5}.", append(path, "style")...)
			case b.Style == StyleLink:
				if b.URL == "" {
					f.add("BUTTON_COMPONENT_URL_REQUIRED", "A url is required", append(path, "url")...)
				} else {
					checkURL(f, b.URL, append(path, "url")...)
					maxLen(f, b.URL, MaxButtonURL, append(path, "url")...)
				}
				if b.CustomID != "" {
					f.add("BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED", "A custom id cannot be specified", append(path, "custom_id")...)
				}
			default:
				if b.CustomID == "" {
					f.add("BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A custom id required", append(path, "custom_id")...)
				}
				maxLen(f, b.CustomID, MaxCustomID, append(path, "custom_id")...)
				if seen[b.CustomID] {
					f.add("COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated", append(path, "custom_id")...)
				}
				seen[b.CustomID] = true
			}
			if b.Label == "" {
				f.add("BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A label or emoji is required", append(path, "label")...)
			}
		}
	}
}

// checkURL refuses what Discord refuses in embed and button URLs: schemes
// other than http and https, and hosts that are not fully qualified
// ("http://nas:8080", "http://localhost"), which Discord does not resolve
// and rejects with the whole message. IP addresses are accepted.
func checkURL(f formErrors, u string, path ...string) {
	p, err := url.Parse(u)
	switch {
	case err != nil || p.Host == "":
		f.add("URL_TYPE_INVALID_URL", "Not a well formed URL.", path...)
	case p.Scheme != "http" && p.Scheme != "https":
		f.add("URL_TYPE_INVALID_SCHEME", fmt.Sprintf("Scheme %q is not supported. Scheme must be one of ('http', 'https').", p.Scheme), path...)
	case !strings.Contains(strings.Trim(p.Hostname(), "."), "."):
		f.add("URL_TYPE_INVALID_URL", "Not a well formed URL.", path...)
	}
}

// validateCommands checks a bulk overwrite the way Discord does.
func validateCommands(f formErrors, cmds []Command) {
	if len(cmds) > MaxCommands {
		f.add("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
	}
	names := map[string]bool{}
	for i, c := range cmds {
		p := strconv.Itoa(i)
		if !commandName.MatchString(c.Name) {
			f.add("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid", p, "name")
		}
		if names[c.Name] {
			f.add("APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique", p, "name")
		}
		names[c.Name] = true
		if c.Type == 0 || c.Type == 1 {
			if n := runes(c.Description); n < 1 || n > MaxCommandDesc {
				f.add("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.", p, "description")
			}
		}
		validateOptions(f, c.Options, p, "options")
	}
}

func validateOptions(f formErrors, opts []CommandOption, path ...string) {
	if len(opts) > MaxCommandOptions {
		f.add("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.", path...)
	}
	optional := false
	names := map[string]bool{}
	for j, o := range opts {
		q := append(append([]string(nil), path...), strconv.Itoa(j))
		if !commandName.MatchString(o.Name) {
			f.add("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid", append(q, "name")...)
		}
		if names[o.Name] {
			f.add("APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option names must be unique", append(q, "name")...)
		}
		names[o.Name] = true
		if n := runes(o.Description); n < 1 || n > MaxCommandDesc {
			f.add("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.", append(q, "description")...)
		}
		if o.Type < 1 || o.Type > 11 {
			f.add("BASE_TYPE_CHOICES", "Value must be one of {1..11}.", append(q, "type")...)
		}
		if o.Required && optional {
			f.add("APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options", append(q, "required")...)
		}
		if !o.Required {
			optional = true
		}
		if o.Autocomplete && len(o.Choices) > 0 {
			f.add("APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_AND_CHOICES", "Autocomplete cannot be set with choices", append(q, "autocomplete")...)
		}
		if o.Autocomplete && o.Type != OptionString && o.Type != OptionInteger && o.Type != OptionNumber {
			f.add("APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_INVALID", "Autocomplete is only for string, integer and number options", append(q, "autocomplete")...)
		}
		if len(o.Options) > 0 {
			validateOptions(f, o.Options, append(q, "options")...)
		}
	}
}

// validateChoices checks an autocomplete result. The docs list choices
// without a "?": an empty list answers "no match", an absent one is refused.
func validateChoices(f formErrors, list *[]Choice) {
	if list == nil {
		f.add("BASE_TYPE_REQUIRED", "This field is required", "data", "choices")
		return
	}
	choices := *list
	if len(choices) > MaxChoices {
		f.add("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.", "data", "choices")
	}
	for i, c := range choices {
		if n := runes(c.Name); n < 1 || n > MaxChoiceName {
			f.add("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.", "data", "choices", strconv.Itoa(i), "name")
		}
		if s, ok := c.Value.(string); ok && runes(s) > MaxChoiceName {
			f.add("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.", "data", "choices", strconv.Itoa(i), "value")
		}
	}
}
