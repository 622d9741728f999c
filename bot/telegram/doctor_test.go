package telegram

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/deckhand/deckhand/bot/telegram/telegramtest"
)

func TestDoctorChecksTokenAndAlertChat(t *testing.T) {
	const chatID = -1001234
	tests := []struct {
		name   string
		token  string
		chat   int64
		want   []string // "ok …" or "FAIL …", matched as prefixes of the detail
		failed []bool
	}{
		{name: "good", token: token, chat: chatID, want: []string{"token valid, bot @deckhand_bot", "alert chat -1001234 reachable (supergroup)"}, failed: []bool{false, false}},
		{name: "bot not in chat", token: token, chat: -42, want: []string{"token valid", "alert chat -42: HTTP 400: Bad Request: chat not found"}, failed: []bool{false, true}},
		{name: "wrong token", token: "123456789:AAH-wrong_token_abcdefghijklmnopq", chat: chatID, want: []string{"getMe: HTTP 401: Unauthorized"}, failed: []bool{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New(t, token, telegramtest.Options{})
			srv.AddChat(chatID, "supergroup")
			got := Doctor(context.Background(), Config{Token: tt.token, AlertChatID: tt.chat}, srv.URL(), http.DefaultClient)
			if len(got) != len(tt.want) {
				t.Fatalf("Doctor = %+v, want %d checks", got, len(tt.want))
			}
			for i, c := range got {
				if !strings.HasPrefix(c.Detail, tt.want[i]) || c.Failed != tt.failed[i] || c.Failed != (c.Fix != "") {
					t.Errorf("check %d = %+v, want detail %q failed=%v", i, c, tt.want[i], tt.failed[i])
				}
				if strings.Contains(c.Detail+c.Fix, tt.token) {
					t.Errorf("check %d leaks the token", i)
				}
			}
		})
	}
}

func TestDoctorNeverQuotesTheTokenOnANetworkError(t *testing.T) {
	got := Doctor(context.Background(), Config{Token: token}, "http://127.0.0.1:1", http.DefaultClient)
	if len(got) != 1 || !got[0].Failed || strings.Contains(got[0].Detail, token) {
		t.Errorf("Doctor = %+v", got)
	}
}
