package ntfytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Action is one action button as ntfy stores and returns it.
type Action struct {
	ID      string            `json:"id"`
	Action  string            `json:"action"` // view, broadcast, http, copy
	Label   string            `json:"label"`
	Clear   bool              `json:"clear"`
	URL     string            `json:"url,omitempty"`
	Method  string            `json:"method,omitempty"` // http only; empty means POST
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	Intent  string            `json:"intent,omitempty"`
	Extras  map[string]string `json:"extras,omitempty"`
	Value   string            `json:"value,omitempty"` // copy only
}

const maxActions = 3

var actionKey = regexp.MustCompile(`^([-.\w]+)\s*=\s*`)

// parseActions reads the Actions header (or the actions of a JSON publish,
// re-encoded as JSON the way ntfy does) and validates it like ntfy: either
// a JSON array, or the simple format
//
//	http, Label, https://url, method=POST, clear=true; view, Open, https://…
func parseActions(s string) ([]Action, error) {
	s = strings.TrimSpace(s)
	var actions []Action
	var err error
	if strings.HasPrefix(s, "[") {
		err = json.Unmarshal([]byte(s), &actions)
	} else {
		actions, err = parseSimpleActions(s)
	}
	if err != nil {
		return nil, err
	}
	if len(actions) > maxActions {
		return nil, fmt.Errorf("only %d actions allowed", maxActions)
	}
	for i := range actions {
		a := &actions[i]
		a.ID = randomID(10)
		a.Action = strings.ToLower(a.Action)
		a.Method = strings.ToUpper(a.Method)
		switch {
		case a.Action != "view" && a.Action != "broadcast" && a.Action != "http" && a.Action != "copy":
			return nil, fmt.Errorf("action '%s' unknown", a.Action)
		case a.Label == "":
			return nil, errors.New("parameter 'label' is required")
		case (a.Action == "view" || a.Action == "http") && a.URL == "":
			return nil, fmt.Errorf("parameter 'url' is required for action '%s'", a.Action)
		case a.Action == "copy" && a.Value == "":
			return nil, errors.New("parameter 'value' is required for action 'copy'")
		case a.Action == "http" && (a.Method == "GET" || a.Method == "HEAD") && a.Body != "":
			return nil, fmt.Errorf("parameter 'body' cannot be set if method is %s", a.Method)
		}
	}
	return actions, nil
}

// parseSimpleActions splits on ';' between actions and ',' between fields,
// honouring single or double quotes (with backslash escapes) around values.
// Positional fields are action, label and, for view/http, url.
func parseSimpleActions(s string) ([]Action, error) {
	if !utf8.ValidString(s) {
		return nil, errors.New("invalid string")
	}
	var out []Action
	pos := 0
	for pos < len(s) {
		a := Action{Headers: map[string]string{}, Extras: map[string]string{}}
		for field := 0; ; field++ {
			pos = skipSpaces(s, pos)
			key := ""
			if m := actionKey.FindStringSubmatch(s[pos:]); m != nil {
				key = m[1]
				pos += len(m[0])
			}
			var value string
			var last bool
			if pos < len(s) && (s[pos] == '"' || s[pos] == '\'') {
				q := s[pos]
				end := pos + 1
				var b strings.Builder
				for ; end < len(s) && s[end] != q; end++ {
					if s[end] == '\\' && end+1 < len(s) && s[end+1] == q {
						end++
					}
					b.WriteByte(s[end])
				}
				if end >= len(s) {
					return nil, fmt.Errorf("unexpected end of input, quote started at position %d", pos)
				}
				value = b.String()
				pos = skipSpaces(s, end+1)
				if pos < len(s) && s[pos] != ',' && s[pos] != ';' {
					return nil, fmt.Errorf("unexpected character '%c' at position %d", s[pos], pos)
				}
			} else {
				end := pos
				for end < len(s) && s[end] != ',' && s[end] != ';' {
					end++
				}
				value = strings.TrimSpace(s[pos:end])
				pos = end
			}
			last = pos >= len(s) || s[pos] == ';'
			if pos < len(s) {
				pos++
			}
			if err := setActionField(&a, field, key, value); err != nil {
				return nil, err
			}
			if last {
				break
			}
		}
		if len(a.Headers) == 0 {
			a.Headers = nil
		}
		if len(a.Extras) == 0 {
			a.Extras = nil
		}
		out = append(out, a)
	}
	return out, nil
}

func setActionField(a *Action, field int, key, value string) error {
	if key == "" {
		switch {
		case field == 0:
			key = "action"
		case field == 1:
			key = "label"
		case field == 2 && (strings.EqualFold(a.Action, "view") || strings.EqualFold(a.Action, "http")):
			key = "url"
		case field == 2 && strings.EqualFold(a.Action, "copy"):
			key = "value"
		default:
			return fmt.Errorf("term '%s' unknown", value)
		}
	}
	switch {
	case strings.HasPrefix(key, "headers."):
		a.Headers[strings.TrimPrefix(key, "headers.")] = value
		return nil
	case strings.HasPrefix(key, "extras."):
		a.Extras[strings.TrimPrefix(key, "extras.")] = value
		return nil
	}
	switch strings.ToLower(key) {
	case "action":
		a.Action = value
	case "label":
		a.Label = value
	case "clear":
		switch strings.ToLower(value) {
		case "true", "yes", "1":
			a.Clear = true
		case "false", "no", "0":
			a.Clear = false
		default:
			return fmt.Errorf("'clear=%s' not allowed", value)
		}
	case "url":
		a.URL = value
	case "method":
		a.Method = value
	case "body":
		a.Body = value
	case "intent":
		a.Intent = value
	case "value":
		a.Value = value
	default:
		return fmt.Errorf("key '%s' unknown", key)
	}
	return nil
}

func skipSpaces(s string, pos int) int {
	for pos < len(s) && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\r' || s[pos] == '\n') {
		pos++
	}
	return pos
}
