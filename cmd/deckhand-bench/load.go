package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// loadTest fetches url with header (nil for none) over conns concurrent
// keep-alive connections for d (or until ctx ends) and reports successful
// requests per second and the 99th percentile latency. Failed requests and
// non-200 answers are not counted, so a broken target shows as a low rate.
// The client asks for no compression of its own and reads bodies as they
// arrive (a gzip body stays compressed), so that the figures compare
// servers, not gzip; "Accept-Encoding: gzip" in header measures what a
// browser receives.
func loadTest(ctx context.Context, url string, header http.Header, conns int, d time.Duration) (rps float64, p99 time.Duration) {
	if conns < 1 {
		conns = 1
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		DisableCompression:  true,
	}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()

	lat := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t0 := time.Now()
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if err != nil {
					return
				}
				for k, v := range header {
					req.Header[k] = v
				}
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if err == nil && resp.StatusCode == http.StatusOK {
					lat[i] = append(lat[i], time.Since(t0))
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	if len(all) == 0 || elapsed <= 0 {
		return 0, 0
	}
	slices.Sort(all)
	return float64(len(all)) / elapsed.Seconds(), all[min(len(all)-1, len(all)*99/100)]
}
