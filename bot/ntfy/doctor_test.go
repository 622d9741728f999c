package ntfy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/deckhand/deckhand/bot/ntfy"
	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
)

func TestDoctorChecksReadAccessAndPublishesOnlyOnRequest(t *testing.T) {
	const token, topic = "tk_doctorGoodToken", "doctor_topic_s3cret"
	tests := []struct {
		name       string
		token      string
		sendTest   bool
		wantFailed []bool
		wantDetail []string
		wantMsgs   int
	}{
		{name: "good", token: token, wantFailed: []bool{false, false},
			wantDetail: []string{"read access to the topic", "publish not tested"}},
		{name: "good send-test", token: token, sendTest: true, wantFailed: []bool{false, false},
			wantDetail: []string{"read access", "test message published"}, wantMsgs: 1},
		{name: "bad token", token: "tk_doctorWrongToken", sendTest: true, wantFailed: []bool{true, true},
			wantDetail: []string{"HTTP 401", "HTTP 401"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ntfytest.NewServer(t)
			srv.RequireToken(token)
			s, err := ntfy.New(ntfy.Config{Server: srv.URL, Topic: topic, Token: tt.token}, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := s.Doctor(context.Background(), tt.sendTest)
			if len(got) != len(tt.wantFailed) {
				t.Fatalf("Doctor = %+v", got)
			}
			for i, c := range got {
				if c.Failed != tt.wantFailed[i] || !strings.Contains(c.Detail, tt.wantDetail[i]) || c.Failed != (c.Fix != "") {
					t.Errorf("check %d = %+v, want failed=%v detail ~%q", i, c, tt.wantFailed[i], tt.wantDetail[i])
				}
				if line := c.Detail + c.Fix; strings.Contains(line, topic) || strings.Contains(line, tt.token) {
					t.Errorf("check %d leaks a secret: %q", i, line)
				}
			}
			if n := len(srv.Messages()); n != tt.wantMsgs {
				t.Errorf("published %d messages, want %d", n, tt.wantMsgs)
			}
		})
	}
}
