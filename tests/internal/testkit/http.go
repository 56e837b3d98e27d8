package testkit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Get sends GET url with header through client and returns the response
// with its whole body read (and closed).
func Get(client *http.Client, url string, header http.Header) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// Poll calls check every interval until it returns nil; after within, or
// once ctx ends, it returns check's last error.
func Poll(ctx context.Context, within, interval time.Duration, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not true after %s: %w", within, err)
		case <-time.After(interval):
		}
	}
}

// WaitOK polls url every interval until it answers 200, within at most.
// alive (may be nil) is asked between attempts, to stop at once when the
// process behind url has exited.
func WaitOK(ctx context.Context, url string, within, interval time.Duration, alive func() error) error {
	client := &http.Client{Timeout: time.Second}
	return Poll(ctx, within, interval, func() error {
		resp, body, err := Get(client, url, nil)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: status %d %s", url, resp.StatusCode, body)
		}
		if err != nil && alive != nil {
			if dead := alive(); dead != nil {
				return fmt.Errorf("%w (%w)", dead, err)
			}
		}
		return err
	})
}
