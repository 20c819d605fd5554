// Push subscriptions and the rate limiter from Go:
//
//	cd bindings/go && CGO_LDFLAGS="-L$PWD/../../build/src -Wl,-rpath,$PWD/../../build/src" go run ./examples/pushevents
//
// A subscriber runs on the goroutine that ran the command, right after its
// commit, with that command's ctx; its error or panic never fails the
// command. With ICMS_NATS_URL set (a nats-server -js), the outbox is also
// drained to JetStream. Prints a JSON summary.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"libicms.org/icms"
)

type ctxKey struct{}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	work, err := os.MkdirTemp("", "icms-push-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	db, err := icms.Open(icms.Options{Path: filepath.Join(work, "icms.db"), FakeClockMs: 1767225600000})
	if err != nil {
		return err
	}
	defer db.Close()
	var seen []string
	sub, err := db.Subscribe("user.*", func(ctx context.Context, ev icms.Event) error {
		seen = append(seen, fmt.Sprintf("%s by %v", ev.Type, ctx.Value(ctxKey{})))
		return nil
	}, nil)
	if err != nil {
		return err
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "signup")
	admin, err := db.UserBootstrapAdmin(ctx, icms.Host, map[string]any{"name": "Ada", "email": "ada@example.com"})
	if err != nil {
		return err
	}
	if _, err := db.UserCreate(ctx, icms.User(admin.Str("id")), map[string]any{"name": "Bea", "email": "bea@example.com"}); err != nil {
		return err
	}
	sub.Close()
	published := -1
	if url := os.Getenv("ICMS_NATS_URL"); url != "" {
		pub, err := db.NewNatsPublisher(icms.NatsOptions{URL: url, CreateStream: true})
		if err != nil {
			return err
		}
		defer pub.Close()
		if published, err = pub.Drain(ctx); err != nil {
			return err
		}
	}
	limiter, err := icms.NewRateLimiter(icms.RateLimitOptions{AnonymousLimit: 2})
	if err != nil {
		return err
	}
	defer limiter.Close()
	var decisions []bool
	for i := 0; i < 3; i++ {
		d, err := limiter.Hit("203.0.113.7", false)
		if err != nil {
			return err
		}
		decisions = append(decisions, d.Allowed)
	}
	if len(seen) != 2 || fmt.Sprint(decisions) != "[true true false]" {
		return fmt.Errorf("unexpected: %v %v", seen, decisions)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"seen": seen, "delivered": sub.Delivered(), "published": published, "decisions": decisions})
}
