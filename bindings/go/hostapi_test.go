package icms_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"libicms.org/icms"
	"libicms.org/icms/scenario"
)

// newUser creates one user as admin (its user.created event is the only one of the call).
func newUser(t *testing.T, db *icms.DB, admin icms.Request, n int) string {
	t.Helper()
	u := must(t)(db.UserCreate(context.Background(), admin, map[string]any{"name": "U", "email": fmt.Sprintf("u%d@example.com", n)}))
	return u.Str("id")
}

func adminOf(t *testing.T, db *icms.DB) icms.Request {
	a := must(t)(db.UserBootstrapAdmin(context.Background(), icms.Host, map[string]any{"name": "Ada", "email": "ada@example.com"}))
	return icms.User(a.Str("id"))
}

// osThread is the calling goroutine's OS thread id (the callback runs on the committing one).
func osThread() int { return syscall.Gettid() }

func TestSubscriptionDeliversOnTheCommittingGoroutine(t *testing.T) {
	db := open(t, icms.Options{})
	admin := adminOf(t, db)
	type seen struct {
		ev  icms.Event
		tid int
		ctx context.Context
	}
	var mu sync.Mutex
	var got []seen
	sub, err := db.Subscribe("user.*", func(ctx context.Context, ev icms.Event) error {
		mu.Lock()
		got = append(got, seen{ev, osThread(), ctx})
		mu.Unlock()
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "mine")
	done := make(chan [2]any)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		u := must(t)(db.UserCreate(ctx, admin, map[string]any{"name": "B", "email": "b@example.com"}))
		done <- [2]any{u.Str("id"), osThread()}
	}()
	r := <-done
	if len(got) != 1 {
		t.Fatalf("got %d events", len(got))
	}
	e := got[0]
	if e.ev.Type != "user.created" || e.ev.Subject != r[0].(string) || e.tid != r[1].(int) {
		t.Fatalf("event %+v on thread %d, command on %v", e.ev, e.tid, r[1])
	}
	if e.ctx.Value(key{}) != "mine" {
		t.Fatal("the callback did not get the command's ctx")
	}
	whole, err := e.ev.Decode()
	if err != nil || whole.Int("seq") != e.ev.Seq || whole.Str("type") != "user.created" {
		t.Fatalf("%v %v", whole, err)
	}
	read := must(t)(db.EventsRead(context.Background(), icms.Host, "t", e.ev.Seq-1, 1))
	if read.List("events")[0].Str("event_id") != whole.Str("event_id") {
		t.Fatal("not the event the pull side reads")
	}
	// a pattern that does not match gets nothing
	other, _ := db.Subscribe("project.*", func(context.Context, icms.Event) error { t.Error("project event"); return nil }, nil)
	newUser(t, db, admin, 2)
	other.Close()
	if sub.Delivered() != 2 || sub.Failures() != 0 {
		t.Fatalf("delivered %d failures %d", sub.Delivered(), sub.Failures())
	}
}

func TestSubscriptionCloseStopsDelivery(t *testing.T) {
	db := open(t, icms.Options{})
	admin := adminOf(t, db)
	var n atomic.Int64
	sub, err := db.Subscribe("*", func(context.Context, icms.Event) error { n.Add(1); return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	newUser(t, db, admin, 1)
	sub.Close()
	sub.Close()
	newUser(t, db, admin, 2)
	if n.Load() != 1 || sub.Delivered() != 1 {
		t.Fatalf("%d events after close", n.Load())
	}
}

var errSubscriber = errors.New("subscriber failed")

func TestSubscriberErrorAndPanicDoNotFailTheCommand(t *testing.T) {
	db := open(t, icms.Options{})
	admin := adminOf(t, db)
	var reported []error
	sub, err := db.Subscribe("*", func(_ context.Context, ev icms.Event) error {
		if strings.HasSuffix(ev.Subject, "") && len(reported)%2 == 0 {
			return errSubscriber
		}
		panic("subscriber blew up")
	}, func(ev icms.Event, err error) { reported = append(reported, err) })
	if err != nil {
		t.Fatal(err)
	}
	id1 := newUser(t, db, admin, 1) // the error
	id2 := newUser(t, db, admin, 2) // the panic
	for _, id := range []string{id1, id2} {
		must(t)(db.UserGet(context.Background(), admin, id)) // committed all the same
	}
	if len(reported) != 2 || !errors.Is(reported[0], errSubscriber) || !strings.Contains(reported[1].Error(), "subscriber blew up") {
		t.Fatalf("reported %v", reported)
	}
	if sub.Delivered() != 2 || sub.Failures() != 2 {
		t.Fatalf("delivered %d failures %d", sub.Delivered(), sub.Failures())
	}
	// no onError: counted only; a panicking onError is contained too
	quiet, _ := db.Subscribe("*", func(context.Context, icms.Event) error { panic("again") },
		func(icms.Event, error) { panic("onError too") })
	newUser(t, db, admin, 3)
	if quiet.Failures() != 1 {
		t.Fatal("the panic was not counted")
	}
}

func TestSubscriptionCloseWaitsForACallbackInFlight(t *testing.T) {
	db := open(t, icms.Options{})
	admin := adminOf(t, db)
	entered, release := make(chan struct{}), make(chan struct{})
	var finished atomic.Int64
	sub, _ := db.Subscribe("*", func(context.Context, icms.Event) error {
		close(entered)
		<-release
		finished.Add(1)
		return nil
	}, nil)
	go newUser(t, db, admin, 1)
	<-entered
	closed := make(chan struct{})
	go func() { sub.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a callback was running")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if finished.Load() != 1 {
		t.Fatal("the callback did not finish before Close returned")
	}
}

func TestSubscriptionClosesItselfAndRunsCommands(t *testing.T) {
	db := open(t, icms.Options{})
	admin := adminOf(t, db)
	var types []string
	var sub *icms.Subscription
	sub, _ = db.Subscribe("user.*", func(ctx context.Context, ev icms.Event) error {
		types = append(types, ev.Type)
		if ev.Type == "user.created" {
			if _, err := db.UserGrantRole(ctx, admin, ev.Subject, "OWNER"); err != nil {
				return err
			}
			return sub.Close()
		}
		return nil
	}, nil)
	newUser(t, db, admin, 1)
	newUser(t, db, admin, 2)
	if strings.Join(types, ",") != "user.created,user.role_granted" {
		t.Fatalf("%v", types)
	}
}

func TestSubscriptionGoroutinesAndClose(t *testing.T) {
	db := open(t, icms.Options{})
	admin := adminOf(t, db)
	var mu sync.Mutex
	seqs := map[int64]bool{}
	sub, _ := db.Subscribe("user.created", func(_ context.Context, ev icms.Event) error {
		mu.Lock()
		seqs[ev.Seq] = true
		mu.Unlock()
		return nil
	}, nil)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				newUser(t, db, admin, 100+g*10+i)
			}
		}(g)
	}
	wg.Wait()
	if len(seqs) != 20 || sub.Delivered() != 20 {
		t.Fatalf("%d distinct events, %d delivered", len(seqs), sub.Delivered())
	}
	// refusals, and DB.Close closes the subscriptions
	if _, err := db.Subscribe("user.*.x", func(context.Context, icms.Event) error { return nil }, nil); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("bad pattern: %v", err)
	}
	if _, err := db.Subscribe("*", nil, nil); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("nil callback: %v", err)
	}
	db.Close()
	if _, err := db.Subscribe("*", func(context.Context, icms.Event) error { return nil }, nil); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("closed database: %v", err)
	}
	sub.Close()
	if sub.Delivered() != 20 || sub.Failures() != 0 { // kept after the database freed the C side
		t.Fatalf("after close: %d, %d", sub.Delivered(), sub.Failures())
	}
}

// ---- NATS

type natsServer struct {
	URL  string `json:"url"`
	Port int    `json:"port"`
	Skip string `json:"skip"`
	cmd  *exec.Cmd
}

func startNats(t *testing.T) *natsServer {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", filepath.Join(scenario.Root(), "tests/bindings/nats_helper.py"), "serve", t.TempDir())
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var s natsServer
	if err == nil {
		err = json.Unmarshal([]byte(line), &s)
	}
	if err != nil {
		t.Fatalf("nats_helper.py: %v", err)
	}
	if s.Skip != "" {
		t.Skip(s.Skip)
	}
	return &s
}

type streamItem struct {
	Subject string         `json:"subject"`
	Data    map[string]any `json:"data"`
	MsgID   string         `json:"msg_id"`
}

func readStream(t *testing.T, port int, stream string) []streamItem {
	t.Helper()
	out, err := exec.Command("/usr/bin/python3", filepath.Join(scenario.Root(), "tests/bindings/nats_helper.py"), "read", fmt.Sprint(port), stream).Output()
	if err != nil {
		t.Fatal(err)
	}
	var r struct{ Items []streamItem }
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r.Items
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestNatsPublishAndReadBack(t *testing.T) {
	if !icms.NatsAvailable() {
		t.Skip("libicms was built without NATS")
	}
	ctx := context.Background()
	db := open(t, icms.Options{})
	admin := adminOf(t, db)
	ids := []string{newUser(t, db, admin, 1), newUser(t, db, admin, 2)}
	// server down: ErrTransport, nothing acknowledged
	down, err := db.NewNatsPublisher(icms.NatsOptions{URL: fmt.Sprintf("nats://127.0.0.1:%d", freePort(t)), CreateStream: true, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := down.Drain(ctx); !errors.Is(err, icms.ErrTransport) {
		t.Fatalf("server down: %v", err)
	}
	down.Close()
	srv := startNats(t)
	// a stream that does not exist and may not be created
	p, _ := db.NewNatsPublisher(icms.NatsOptions{URL: srv.URL, Timeout: 2 * time.Second})
	if _, err := p.Drain(ctx); !errors.Is(err, icms.ErrTransport) {
		t.Fatalf("no stream: %v", err)
	}
	p.Close()
	p, err = db.NewNatsPublisher(icms.NatsOptions{URL: srv.URL, CreateStream: true, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := p.Drain(ctx); n != 3 || err != nil {
		t.Fatalf("drained %d, %v", n, err)
	}
	if n, err := p.Drain(ctx); n != 0 || err != nil {
		t.Fatalf("drained again %d, %v", n, err)
	}
	events := must(t)(db.EventsRead(ctx, icms.Host, "check", 0, 100)).List("events")
	items := readStream(t, srv.Port, "ICMS")
	if len(items) != 3 || len(events) != 3 {
		t.Fatalf("%d messages, %d events", len(items), len(events))
	}
	for i, e := range events {
		if items[i].Subject != "icms."+e.Str("type") || items[i].MsgID != e.Str("event_id") || items[i].Data["event_id"] != e.Str("event_id") {
			t.Fatalf("message %d: %+v for %v", i, items[i], e)
		}
	}
	if items[1].Data["subject"] != ids[0] || items[2].Data["subject"] != ids[1] {
		t.Fatal("not the users' events")
	}
	// refusals; DB.Close closes the publisher
	if _, err := db.NewNatsPublisher(icms.NatsOptions{Consumer: "bad name!"}); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("bad consumer: %v", err)
	}
	db.Close()
	if _, err := p.Drain(ctx); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := db.NewNatsPublisher(icms.NatsOptions{}); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("closed database: %v", err)
	}
}

// ---- the rate limiter

func TestRateLimiterRefusesPastItsRate(t *testing.T) {
	rl, err := icms.NewRateLimiter(icms.RateLimitOptions{AnonymousLimit: 3, AuthenticatedLimit: 5, Window: time.Second, FakeClockMs: now})
	if err != nil {
		t.Fatal(err)
	}
	defer rl.Close()
	var allowed []bool
	var last icms.RateDecision
	for i := 0; i < 4; i++ {
		last, err = rl.Hit("10.0.0.1", false)
		if err != nil {
			t.Fatal(err)
		}
		allowed = append(allowed, last.Allowed)
	}
	if fmt.Sprint(allowed) != "[true true true false]" || last.RetryAfterMs != 1000 || last.Limit != 3 || last.Remaining != 0 {
		t.Fatalf("%v %+v", allowed, last)
	}
	for i := 0; i < 5; i++ {
		if d, _ := rl.Hit("10.0.0.1", true); !d.Allowed {
			t.Fatal("the authenticated kind counts separately")
		}
	}
	if d, _ := rl.Hit("10.0.0.1", true); d.Allowed {
		t.Fatal("6th authenticated hit allowed")
	}
	if rl.Size() != 2 {
		t.Fatalf("size %d", rl.Size())
	}
	rl.Advance(999 * time.Millisecond)
	if d, _ := rl.Hit("10.0.0.1", false); d.Allowed {
		t.Fatal("allowed inside the window")
	}
	rl.Advance(time.Millisecond)
	if d, _ := rl.Hit("10.0.0.1", false); !d.Allowed {
		t.Fatal("refused after the window")
	}
}

func TestRateLimiterErrorsAndGoroutines(t *testing.T) {
	rl, err := icms.NewRateLimiter(icms.RateLimitOptions{AnonymousLimit: 50, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rl.Hit("", false); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("empty key: %v", err)
	}
	if _, err := rl.Hit(strings.Repeat("x", 257), false); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("long key: %v", err)
	}
	if err := rl.Advance(time.Second); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("no fake clock: %v", err)
	}
	var yes, no atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 5; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if d, _ := rl.Hit("k", false); d.Allowed {
					yes.Add(1)
				} else {
					no.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if yes.Load() != 50 || no.Load() != 50 {
		t.Fatalf("%d allowed, %d refused", yes.Load(), no.Load())
	}
	rl.Close()
	rl.Close()
	if _, err := rl.Hit("k", false); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("closed: %v", err)
	}
	if _, err := icms.NewRateLimiter(icms.RateLimitOptions{Window: -time.Second}); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("negative window: %v", err)
	}
}

// ---- the RPC client

func TestRPCClientAgainstTheFakeNode(t *testing.T) {
	ctx := context.Background()
	node, err := scenario.StartNode(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer node.Stop()
	for _, transport := range []icms.Transport{nil, scenario.HTTPTransport(node.User, node.Password)} {
		rpc, err := icms.NewRPCClient(icms.Gapcoin{URL: node.URL, Username: node.User, Password: node.Password, Transport: transport})
		if err != nil {
			t.Fatal(err)
		}
		if h, err := rpc.GetBlockCount(ctx); h != 2 || err != nil {
			t.Fatalf("height %d, %v", h, err)
		}
		genesis, err := rpc.GetBlockHash(ctx, 0)
		if err != nil || len(genesis) != 64 {
			t.Fatalf("%q %v", genesis, err)
		}
		header, err := rpc.GetBlockHeader(ctx, genesis)
		if err != nil {
			t.Fatal(err)
		}
		if h, err := icms.HeaderDecode(header); err != nil || h.Str("hash") != genesis {
			t.Fatalf("%v %v", h, err)
		}
		tx, err := rpc.GetRawTransaction(ctx, node.TxIDs["pay"], "")
		if err != nil || tx.TxID != node.TxIDs["pay"] || tx.Confirmations != 0 || tx.InBlock || len(tx.Raw) == 0 {
			t.Fatalf("%+v %v", tx, err)
		}
		if tx.Outputs[0].Value != node.Target {
			t.Fatalf("outputs %+v", tx.Outputs)
		}
		addr, err := rpc.GetNewAddress(ctx)
		if err != nil || addr == "" || !strings.Contains(strings.Join(node.Addresses, " "), addr) {
			t.Fatalf("%q %v", addr, err)
		}
		if info, err := rpc.ValidateAddress(ctx, addr); err != nil || !info.IsValid || info.Address != addr {
			t.Fatalf("%+v %v", info, err)
		}
		pay, err := rpc.CheckPayment(ctx, icms.PaymentQuery{TxID: node.TxIDs["pay"], Address: node.Addresses[0], MinAmount: node.Target, MinConfirmations: 1})
		if err != nil || pay.Status != "UNCONFIRMED" || pay.Amount != node.Target || len(pay.Vouts) != 1 {
			t.Fatalf("%+v %v", pay, err)
		}
		script, _ := icms.AddressToScript(node.Addresses[0], 0)
		pay, err = rpc.CheckPayment(ctx, icms.PaymentQuery{TxID: node.TxIDs["pay"], Script: script, MinAmount: node.Target + 1})
		if err != nil || pay.Status != "INSUFFICIENT" {
			t.Fatalf("%+v %v", pay, err)
		}
		// errors
		if _, err := rpc.GetBlockHash(ctx, 99); !errors.Is(err, icms.ErrNotFound) {
			t.Fatalf("past the tip: %v", err)
		}
		if _, err := rpc.GetRawTransaction(ctx, "nothex", ""); !errors.Is(err, icms.ErrInvalid) {
			t.Fatalf("bad txid: %v", err)
		}
		if _, err := rpc.CheckPayment(ctx, icms.PaymentQuery{TxID: node.TxIDs["pay"], Address: node.Addresses[0], MinAmount: -1}); !errors.Is(err, icms.ErrInvalid) {
			t.Fatalf("negative amount: %v", err)
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := rpc.GetBlockCount(cancelled); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled: %v", err)
		}
		rpc.Close()
		if _, err := rpc.GetBlockCount(ctx); !errors.Is(err, icms.ErrInvalid) {
			t.Fatalf("closed: %v", err)
		}
	}
	bad, _ := icms.NewRPCClient(icms.Gapcoin{URL: node.URL, Username: node.User, Password: "wrong"})
	if _, err := bad.GetBlockCount(ctx); !errors.Is(err, icms.ErrUnauthenticated) {
		t.Fatalf("wrong password: %v", err)
	}
	bad.Close()
	down, _ := icms.NewRPCClient(icms.Gapcoin{URL: fmt.Sprintf("http://127.0.0.1:%d/", freePort(t)), Timeout: 2 * time.Second})
	if _, err := down.GetBlockCount(ctx); !errors.Is(err, icms.ErrTransport) {
		t.Fatalf("unreachable: %v", err)
	}
	down.Close()
	if _, err := icms.NewRPCClient(icms.Gapcoin{URL: "ftp://127.0.0.1/"}); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("bad url: %v", err)
	}
	// a Go transport's error is wrapped; a panic is an error too
	hostErr := errors.New("host HTTP stack failed")
	failing, _ := icms.NewRPCClient(icms.Gapcoin{URL: node.URL, Transport: icms.TransportFunc(
		func(context.Context, string, []string, []byte, int64) (int, []byte, error) { return 0, nil, hostErr })})
	if _, err := failing.GetBlockCount(ctx); !errors.Is(err, icms.ErrCallback) || !errors.Is(err, hostErr) {
		t.Fatalf("transport error: %v", err)
	}
	failing.Close()
	// goroutines share one client
	rpc, _ := icms.NewRPCClient(icms.Gapcoin{URL: node.URL, Username: node.User, Password: node.Password})
	var wg sync.WaitGroup
	var bad2 atomic.Int64
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if h, err := rpc.GetBlockCount(ctx); h != 2 || err != nil {
				bad2.Add(1)
			}
		}()
	}
	wg.Wait()
	rpc.Close()
	if bad2.Load() != 0 {
		t.Fatal("a concurrent call failed")
	}
}

func TestNestedCommandKeepsTheOuterContext(t *testing.T) {
	db := open(t, icms.Options{})
	admin := adminOf(t, db)
	type key struct{}
	var seen []any
	// A runs a command with its own ctx from inside its callback; B, called
	// next for the same event, must still see the outer command's ctx.
	a, _ := db.Subscribe("user.created", func(ctx context.Context, ev icms.Event) error {
		inner := context.WithValue(context.Background(), key{}, "inner")
		_, err := db.UserGrantRole(inner, admin, ev.Subject, "OWNER")
		return err
	}, nil)
	b, _ := db.Subscribe("user.*", func(ctx context.Context, ev icms.Event) error {
		seen = append(seen, ev.Type, ctx.Value(key{}))
		return nil
	}, nil)
	outer := context.WithValue(context.Background(), key{}, "outer")
	must(t)(db.UserCreate(outer, admin, map[string]any{"name": "N", "email": "n@example.com"}))
	if fmt.Sprint(seen) != "[user.role_granted inner user.created outer]" {
		t.Fatalf("%v", seen)
	}
	if a.Failures() != 0 || b.Failures() != 0 {
		t.Fatal("a callback failed")
	}
}
