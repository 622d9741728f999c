package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunModes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "exit 3", args: []string{"exit", "3"}, wantCode: 3, wantStdout: "exiting with code 3"},
		{name: "exit default", args: []string{"exit"}, wantCode: 0, wantStdout: "exiting with code 0"},
		{name: "exit bad code", args: []string{"exit", "x"}, wantCode: 2, wantStderr: "bad exit code"},
		{name: "unknown mode", args: []string{"dance"}, wantCode: 2, wantStderr: "unknown mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := run(tt.args, &out, &errb); got != tt.wantCode {
				t.Fatalf("run(%q) = %d, want %d (stderr %q)", tt.args, got, tt.wantCode, errb.String())
			}
			if !strings.Contains(out.String(), tt.wantStdout) {
				t.Errorf("stdout %q, want it to contain %q", out.String(), tt.wantStdout)
			}
			if !strings.Contains(errb.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", errb.String(), tt.wantStderr)
			}
		})
	}
}

func TestHealthFollowsMarkerAndEnv(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "sub", "unhealthy")
	t.Setenv("TESTAPP_MARKER", marker)
	t.Setenv("TESTAPP_UNHEALTHY", "")

	srv := httptest.NewServer(newHandler())
	t.Cleanup(srv.Close)
	status := func() int {
		t.Helper()
		resp, err := http.Get(srv.URL + "/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	probe := func() int {
		var out, errb bytes.Buffer
		return run([]string{"healthcheck", srv.URL + "/health"}, &out, &errb)
	}

	if got := status(); got != http.StatusOK {
		t.Fatalf("healthy: status %d", got)
	}
	if got := probe(); got != 0 {
		t.Fatalf("healthy: healthcheck exit %d", got)
	}

	var out, errb bytes.Buffer
	if code := run([]string{"unhealthy"}, &out, &errb); code != 0 {
		t.Fatalf("unhealthy mode exit %d: %s", code, errb.String())
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("marker not created: %v", err)
	}
	if got := status(); got != http.StatusInternalServerError {
		t.Fatalf("marked unhealthy: status %d", got)
	}
	if got := probe(); got != 1 {
		t.Fatalf("marked unhealthy: healthcheck exit %d", got)
	}

	if code := run([]string{"healthy"}, &out, &errb); code != 0 {
		t.Fatalf("healthy mode exit %d: %s", code, errb.String())
	}
	if got := status(); got != http.StatusOK {
		t.Fatalf("marker removed: status %d", got)
	}

	t.Setenv("TESTAPP_UNHEALTHY", "true")
	if got := status(); got != http.StatusInternalServerError {
		t.Fatalf("TESTAPP_UNHEALTHY=true: status %d", got)
	}
}

func TestHealthcheckUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/health"
	srv.Close()
	var out, errb bytes.Buffer
	if got := run([]string{"healthcheck", url}, &out, &errb); got != 1 {
		t.Fatalf("healthcheck of a closed server exit %d, want 1", got)
	}
}

func TestRootSaysHello(t *testing.T) {
	rec := httptest.NewRecorder()
	newHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	host, _ := os.Hostname()
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "hello from "+host) {
		t.Fatalf("GET / = %d %q", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	newHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nope", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("GET /nope = %d, want 404", rec.Code)
	}
}
