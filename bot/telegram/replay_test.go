package telegram

import (
	"context"
	"strings"
	"testing"

	"github.com/deckhand/deckhand"
)

// TestDoubleTapRestartsOnce: a Restart pressed twice (a double tap, or a
// press delivered again) restarts once; the second is answered, as an
// alert, that the button was already used.
func TestDoubleTapRestartsOnce(t *testing.T) {
	h := start(t, setup{})
	ref, err := h.bot.Send(context.Background(), deckhand.OutboxItem{Notice: deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: h.alert(12)}})
	if err != nil {
		t.Fatal(err)
	}
	_, msgID, _ := parseRef(ref)
	restart := button(t, h.fake.BotMessages(alertChat)[0], "Restart").CallbackData
	var answers []string
	for range 2 {
		q, err := h.fake.Click(alertChat, alice, msgID, restart)
		if err != nil {
			t.Fatal(err)
		}
		ans := h.fake.WaitCallbackAnswer(t, q, wait)
		answers = append(answers, ans.Answer)
	}
	if !strings.Contains(answers[1], "already used") {
		t.Errorf("second press answered %q, want already used", answers[1])
	}
	restarts := 0
	for _, c := range h.env.Docker.Calls() {
		if c.Op == "restart" {
			restarts++
		}
	}
	if restarts != 1 {
		t.Fatalf("%d restarts for a double tap, want 1 (answers %q)", restarts, answers)
	}
}
