package statuspage

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// LoadTest fetches url with conns concurrent keep-alive connections for d
// (or until ctx ends) and reports successful requests per second and the
// 99th percentile latency. Failed requests and non-200 answers are not
// counted, so a broken target shows as a low rate. Compression is off so
// that the figures compare servers, not gzip.
func LoadTest(ctx context.Context, url string, conns int, d time.Duration) (rps float64, p99 time.Duration) {
	return LoadTestHeader(ctx, url, nil, conns, d)
}

// LoadTestHeader is LoadTest with extra request headers, e.g.
// "Accept-Encoding: gzip" to measure what a browser receives. The body is
// read as it arrives (not decompressed).
func LoadTestHeader(ctx context.Context, url string, header http.Header, conns int, d time.Duration) (rps float64, p99 time.Duration) {
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
