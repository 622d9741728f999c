// Command testapp is the program inside deckhand's test container image. The
// image is built FROM scratch (no registry is reachable in tests), so this one
// static binary is the whole image: an HTTP server, its own healthcheck probe,
// a way to crash with a chosen exit code, and a way to flip its health at run
// time through `docker exec`.
//
// Usage:
//
//	testapp [serve]           serve HTTP on $TESTAPP_ADDR (default :8080)
//	testapp healthcheck [url] GET url (default http://127.0.0.1:8080/health); exit 0 when 200, else 1
//	testapp exit N            print a line and exit with code N at once
//	testapp crash             (through docker exec) make the serving process exit with code 3 by itself, as a crash does
//	testapp unhealthy         create the marker file so /health answers 500
//	testapp healthy           remove the marker file
//
// /health answers 500 when the marker file exists (TESTAPP_MARKER, default
// /tmp/unhealthy) or when TESTAPP_UNHEALTHY is set to a true value.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	mode := "serve"
	if len(args) > 0 {
		mode, args = args[0], args[1:]
	}
	switch mode {
	case "serve":
		return serve(stdout, stderr)
	case "healthcheck":
		url := "http://" + listenAddr() + "/health"
		if strings.HasPrefix(listenAddr(), ":") {
			url = "http://127.0.0.1" + listenAddr() + "/health"
		}
		if len(args) > 0 {
			url = args[0]
		}
		return healthcheck(url, stderr)
	case "exit":
		code := 0
		if len(args) > 0 {
			n, err := strconv.Atoi(args[0])
			if err != nil {
				fmt.Fprintf(stderr, "testapp: bad exit code %q\n", args[0])
				return 2
			}
			code = n
		}
		fmt.Fprintf(stdout, "testapp exiting with code %d\n", code)
		return code
	case "crash":
		// SIGUSR1 to the container's init, which serve turns into exit 3:
		// a crash of the main process, not a stop Docker was asked for, so
		// a restart policy applies to it.
		if err := syscall.Kill(1, syscall.SIGUSR1); err != nil {
			fmt.Fprintln(stderr, "testapp crash:", err)
			return 1
		}
		return 0
	case "unhealthy":
		if err := os.MkdirAll(filepath.Dir(marker()), 0o755); err != nil {
			fmt.Fprintln(stderr, "testapp:", err)
			return 1
		}
		if err := os.WriteFile(marker(), []byte("unhealthy\n"), 0o644); err != nil {
			fmt.Fprintln(stderr, "testapp:", err)
			return 1
		}
		return 0
	case "healthy":
		if err := os.Remove(marker()); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(stderr, "testapp:", err)
			return 1
		}
		return 0
	default:
		fmt.Fprintf(stderr, "testapp: unknown mode %q\n", mode)
		return 2
	}
}

func listenAddr() string {
	if a := os.Getenv("TESTAPP_ADDR"); a != "" {
		return a
	}
	return ":8080"
}

func marker() string {
	if m := os.Getenv("TESTAPP_MARKER"); m != "" {
		return m
	}
	return "/tmp/unhealthy"
}

func unhealthy() bool {
	switch strings.ToLower(os.Getenv("TESTAPP_UNHEALTHY")) {
	case "1", "true", "yes", "on":
		return true
	}
	_, err := os.Stat(marker())
	return err == nil
}

func newHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		host, _ := os.Hostname()
		fmt.Fprintf(w, "hello from %s\n", host)
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		if unhealthy() {
			http.Error(w, "unhealthy", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

func serve(stdout, stderr io.Writer) int {
	// Docker stops containers with SIGTERM and waits 10 s before SIGKILL; a
	// prompt exit keeps stop/restart tests fast.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	srv := &http.Server{Addr: listenAddr(), Handler: newHandler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Fprintf(stdout, "testapp listening on %s\n", listenAddr())
	crash := make(chan os.Signal, 1)
	signal.Notify(crash, syscall.SIGUSR1)

	select {
	case err := <-errc:
		fmt.Fprintln(stderr, "testapp:", err)
		return 1
	case <-crash:
		fmt.Fprintln(stderr, "testapp crashing on purpose (exit 3)")
		return 3
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "testapp got signal, shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}

func healthcheck(url string, stderr io.Writer) int {
	client := &http.Client{Timeout: 900 * time.Millisecond}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintln(stderr, "testapp healthcheck:", err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "testapp healthcheck: status", resp.StatusCode)
		return 1
	}
	return 0
}
