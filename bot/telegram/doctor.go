package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/deckhand/deckhand"
)

const doctorSubject = "telegram"

// Doctor checks the token with getMe and the alert chat with getChat,
// which send nothing. serverURL replaces https://api.telegram.org when set.
// The token is in every request's path, so no line quotes a URL.
func Doctor(ctx context.Context, cfg Config, serverURL string, client *http.Client) []deckhand.Check {
	api := doctorAPI{base: "https://api.telegram.org", token: cfg.Token, client: client}
	if serverURL != "" {
		api.base = strings.TrimSuffix(serverURL, "/")
	}
	var me struct {
		Username string `json:"username"`
	}
	if err := api.call(ctx, "getMe", nil, &me); err != nil {
		return []deckhand.Check{deckhand.Fail(doctorSubject, "getMe: "+err.Error(), tokenFix(err))}
	}
	out := []deckhand.Check{deckhand.Pass(doctorSubject, "token valid, bot @"+me.Username)}
	if cfg.AlertChatID == 0 {
		return out
	}
	chat := strconv.FormatInt(cfg.AlertChatID, 10)
	var c struct {
		Type string `json:"type"`
	}
	if err := api.call(ctx, "getChat", url.Values{"chat_id": {chat}}, &c); err != nil {
		return append(out, deckhand.Fail(doctorSubject, "alert chat "+chat+": "+err.Error(),
			"add the bot to the chat and check telegram.alert_chat_id (a group's ID is negative; forward a message to @userinfobot to see it)"))
	}
	return append(out, deckhand.Pass(doctorSubject, "alert chat "+chat+" reachable ("+c.Type+")"))
}

// apiError is Telegram's answer to a refused call.
type apiError struct {
	Code        int
	Description string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Code, e.Description) }

func tokenFix(err error) string {
	var ae *apiError
	if errors.As(err, &ae) && (ae.Code == http.StatusUnauthorized || ae.Code == http.StatusNotFound) {
		return "telegram.token is wrong or revoked: copy it again from @BotFather"
	}
	return "check that this machine reaches api.telegram.org (or telegram.api_url)"
}

type doctorAPI struct {
	base, token string
	client      *http.Client
}

func (a doctorAPI) call(ctx context.Context, method string, params url.Values, result any) error {
	u := a.base + "/bot" + a.token + "/" + method
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return errors.New("telegram.token or telegram.api_url does not make a valid URL")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		// *url.Error quotes the URL, and with it the token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("no answer: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		OK          bool            `json:"ok"`
		Result      json.RawMessage `json:"result"`
		Description string          `json:"description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil || !body.OK {
		if body.Description == "" {
			body.Description = http.StatusText(resp.StatusCode)
		}
		return &apiError{Code: resp.StatusCode, Description: body.Description}
	}
	return json.Unmarshal(body.Result, result)
}
