package statuspage

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// /metrics tells how many hosts and containers exist and which are down:
// an owner may move it off the public page to its own listener, or turn it
// off.
func TestMetricsPlacement(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewMetrics(reg).SetHostsUp(2)
	for _, tc := range []struct {
		metrics string
		onPage  bool
		ownAddr string
	}{
		{"", true, ""},
		{MetricsOnPage, true, ""},
		{MetricsOff, false, ""},
		{"127.0.0.1:9100", false, "127.0.0.1:9100"},
		{"[::1]:9100", false, "[::1]:9100"},
	} {
		cfg := Config{Gatherer: reg, Metrics: tc.metrics}
		p := newTestPage(t, cfg)
		code := get(t, p.Handler(), "GET", "/metrics", nil).Code
		if (code == 200) != tc.onPage {
			t.Errorf("metrics = %q: page /metrics answers %d", tc.metrics, code)
		}
		if got := cfg.MetricsAddr(); got != tc.ownAddr {
			t.Errorf("metrics = %q: MetricsAddr() = %q, want %q", tc.metrics, got, tc.ownAddr)
		}
	}
	h := MetricsHandler(reg)
	if rec := get(t, h, "GET", "/metrics", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "deckhand_hosts_up 2") {
		t.Errorf("own listener: %d %s", rec.Code, rec.Body.String())
	}
	if rec := get(t, h, "GET", "/", nil); rec.Code != 404 {
		t.Errorf("own listener /: %d, want 404", rec.Code)
	}
	if rec := get(t, h, "POST", "/metrics", nil); rec.Code != 405 {
		t.Errorf("own listener POST: %d, want 405", rec.Code)
	}
}

func TestMetricsSettingValidated(t *testing.T) {
	for v, want := range map[string]string{
		"everywhere":      `statuspage.metrics: "everywhere" is not "page", "off" or host:port (e.g. 127.0.0.1:9100)`,
		"127.0.0.1:99999": `statuspage.metrics: port "99999" is not 0..65535`,
		"9100":            `statuspage.metrics: "9100" is not "page", "off" or host:port (e.g. 127.0.0.1:9100)`,
	} {
		if err := (Config{Metrics: v}).Validate(); err == nil || err.Error() != want {
			t.Errorf("metrics = %q: got %v, want %s", v, err, want)
		}
	}
	for _, ok := range []string{"", "page", "off", "127.0.0.1:9100", ":9100", "127.0.0.1:0"} {
		if err := (Config{Metrics: ok}).Validate(); err != nil {
			t.Errorf("metrics = %q: %v", ok, err)
		}
	}
}
