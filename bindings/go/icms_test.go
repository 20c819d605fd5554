package icms_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"libicms.org/icms"
	"libicms.org/icms/scenario"
)

const now = int64(1767225600000)

func open(t *testing.T, opts icms.Options) *icms.DB {
	t.Helper()
	if opts.Path == "" {
		opts.Path = filepath.Join(t.TempDir(), "icms.db")
	}
	if opts.FakeClockMs == 0 {
		opts.FakeClockMs = now
	}
	opts.Sync = 2
	db, err := icms.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type actors struct{ admin, owner, inv icms.Request }

// must(t)(call()) is call's result, failing the test on its error.
func must(t *testing.T) func(icms.Result, error) icms.Result {
	return func(r icms.Result, err error) icms.Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func users(t *testing.T, db *icms.DB) actors {
	ctx := context.Background()
	a := must(t)(db.UserBootstrapAdmin(ctx, icms.Host, map[string]any{"name": "Ada", "email": "ada@example.com"}))
	admin := icms.User(a.Str("id"))
	o := must(t)(db.UserCreate(ctx, admin, map[string]any{"name": "Otto", "email": "otto@example.com", "roles": []string{"OWNER"}}))
	i := must(t)(db.UserCreate(ctx, admin, map[string]any{"name": "Ines", "email": "ines@example.com"}))
	return actors{admin, icms.User(o.Str("id")), icms.User(i.Str("id"))}
}

func crate(price int64) map[string]any {
	return map[string]any{
		"title": "Crate", "expiry_date": "2026-02-01T00:00:00Z",
		"shipping_costs": map[string]int64{"freight": 50_000_000}, "min_ticket": 1,
		"products": []map[string]any{{"name": "Crate", "unit": "crate", "quantity": 1, "unit_price": price}},
	}
}

func TestEndToEnd(t *testing.T) {
	for _, builtin := range []bool{false, true} {
		t.Run(fmt.Sprintf("builtin=%v", builtin), func(t *testing.T) {
			dir := t.TempDir()
			node, err := scenario.StartNode(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer node.Stop()
			seen, err := scenario.Run(context.Background(), filepath.Join(dir, "icms.db"), node, builtin)
			if err != nil {
				t.Fatal(err)
			}
			want := scenario.Seen{
				KYC: "VERIFIED", TotalCost: node.Target, AfterApproval: "FUNDING",
				Address: node.Addresses[0], Amount: node.Target, Confirmations: []int64{0, 1},
				Payment: "CONFIRMED", Funded: node.Target, AfterPayment: "PENDING_ADMIN_APPROVAL",
				Final: "COMPLETED", PayoutAmount: node.Target + node.Profit, Payout: "PAID",
				OwnerReadsAddress: node.OwnerAddress, InvestorReadsAddress: false,
				ReleaseStatus: "DUE", ReleaseAddress: node.OwnerAddress, ReleaseAmount: node.Target,
				ReleasesDue: 1, Release: "PAID", ReleaseTxID: node.TxIDs["release"], ReleasesPaid: 1,
				CheckOK: true,
			}
			if fmt.Sprint(seen) != fmt.Sprint(want) {
				t.Fatalf("saw  %+v\nwant %+v", seen, want)
			}
		})
	}
}

func TestIntegersBeyond2To53AreExact(t *testing.T) {
	db := open(t, icms.Options{})
	u := users(t, db)
	// Out: 2^62 + 1 reaches the library exactly: it names the sum it refuses
	// (no funding target may exceed Gapcoin's supply).
	price := int64(1)<<62 + 1
	_, err := db.ProjectCreate(context.Background(), u.owner, crate(price))
	if !errors.Is(err, icms.ErrInvalid) || !strings.Contains(err.Error(), strconv.FormatInt(price+50_000_000, 10)) {
		t.Fatalf("a target of 2^62 + 1: %v", err)
	}
	// Back: money near the top of what a project may hold comes back exact.
	near := int64(1)<<50 + 1
	p := must(t)(db.ProjectCreate(context.Background(), u.owner, crate(near)))
	if got := p.Int("total_cost"); got != near+50_000_000 {
		t.Fatalf("total_cost %d, want %d", got, near+50_000_000)
	}
}

func TestErrorMapping(t *testing.T) {
	ctx := context.Background()
	db := open(t, icms.Options{})
	u := users(t, db)
	cases := []struct {
		want error
		code int
		call func() (icms.Result, error)
	}{
		{icms.ErrInvalid, -3, func() (icms.Result, error) { return db.UserGet(ctx, icms.Host, "not-a-uuid") }},
		{icms.ErrNotFound, -4, func() (icms.Result, error) {
			return db.ProjectGet(ctx, u.admin, "019b76da-a800-772e-94bb-16096678d52d")
		}},
		{icms.ErrForbidden, -7, func() (icms.Result, error) {
			return db.UserCreate(ctx, u.owner, map[string]any{"name": "X", "email": "x@example.com"})
		}},
		{icms.ErrExists, -5, func() (icms.Result, error) {
			return db.UserCreate(ctx, u.admin, map[string]any{"name": "Y", "email": "otto@example.com"})
		}},
		{icms.ErrUnauthenticated, -15, func() (icms.Result, error) { return db.ProjectList(ctx, icms.Token("garbage"), nil) }},
	}
	for _, c := range cases {
		_, err := c.call()
		if !errors.Is(err, c.want) {
			t.Fatalf("got %v, want %v", err, c.want)
		}
		var e *icms.Error
		if !errors.As(err, &e) || e.Code != c.code || e.Message == "" || !strings.HasPrefix(e.Name(), "ICMS_E") {
			t.Fatalf("bad *Error: %#v", err)
		}
		if errors.Is(err, icms.ErrStorage) {
			t.Fatalf("%v matches ErrStorage", err)
		}
	}
	p := must(t)(db.ProjectCreate(ctx, u.owner, crate(100_000_000)))
	must(t)(db.ProjectPublish(ctx, u.owner, p.Str("id")))
	if _, err := db.ProjectPublish(ctx, u.owner, p.Str("id")); !errors.Is(err, icms.ErrInvalidTransition) {
		t.Fatalf("second publish: %v", err)
	}
	keyed := u.admin.WithKey("k1")
	must(t)(db.UserCreate(ctx, keyed, map[string]any{"name": "A", "email": "a1@example.com"}))
	if _, err := db.UserCreate(ctx, keyed, map[string]any{"name": "B", "email": "b1@example.com"}); !errors.Is(err, icms.ErrIdempotency) {
		t.Fatalf("reused key: %v", err)
	}
	if _, err := db.UserCreate(ctx, u.admin, map[string]any{"bad": make(chan int)}); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("unencodable argument: %v", err)
	}
}

func TestFailedCallChangesNothing(t *testing.T) {
	ctx := context.Background()
	db := open(t, icms.Options{})
	u := users(t, db)
	before := must(t)(db.ProjectList(ctx, u.admin, nil))
	if _, err := db.ProjectCreate(ctx, u.owner, map[string]any{"title": ""}); !errors.Is(err, icms.ErrInvalid) {
		t.Fatal(err)
	}
	after := must(t)(db.ProjectList(ctx, u.admin, nil))
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("%v != %v", before, after)
	}
}

func TestPayoutAddressAndReleases(t *testing.T) {
	ctx := context.Background()
	db := open(t, icms.Options{})
	u := users(t, db)
	const address, missing = "GcwphVTaks2XGGB8RUk7auWdgmG8CV14TF", "019b76da-a800-772e-94bb-16096678d52d"
	pid := must(t)(db.ProjectCreate(ctx, u.owner, crate(100_000_000))).Str("id")
	if got := must(t)(db.ProjectSetPayoutAddress(ctx, u.owner, pid, address)).Str("payout_address"); got != address {
		t.Fatalf("owner set %q", got)
	}
	if got := must(t)(db.ProjectSetPayoutAddress(ctx, icms.Host, pid, address)).Str("payout_address"); got != address {
		t.Fatalf("host set %q", got)
	}
	refusals := []struct {
		want error
		call func() (icms.Result, error)
	}{
		{icms.ErrForbidden, func() (icms.Result, error) { return db.ProjectSetPayoutAddress(ctx, u.admin, pid, address) }},
		{icms.ErrInvalid, func() (icms.Result, error) { return db.ProjectSetPayoutAddress(ctx, u.owner, pid, "not-an-address") }},
		{icms.ErrNotFound, func() (icms.Result, error) { return db.ProjectSetPayoutAddress(ctx, u.owner, missing, address) }},
		{icms.ErrInvalid, func() (icms.Result, error) { return db.ReleaseList(ctx, icms.Host, nil) }},
		{icms.ErrForbidden, func() (icms.Result, error) {
			return db.ReleaseList(ctx, icms.Anonymous, map[string]any{"status": "DUE"})
		}},
		{icms.ErrNotFound, func() (icms.Result, error) { return db.ReleaseGet(ctx, u.admin, missing) }},
		{icms.ErrInvalid, func() (icms.Result, error) { return db.ReleaseGet(ctx, u.admin, "not-a-uuid") }},
		{icms.ErrForbidden, func() (icms.Result, error) {
			return db.ReleaseRecord(ctx, u.owner, missing, strings.Repeat("ab", 32))
		}},
		{icms.ErrInvalid, func() (icms.Result, error) { return db.ReleaseRecord(ctx, icms.Host, missing, "nothex") }},
	}
	for i, r := range refusals {
		if out, err := r.call(); !errors.Is(err, r.want) || out != nil {
			t.Fatalf("refusal %d: %v, %v (want %v)", i, out, err, r.want)
		}
	}
	must(t)(db.ProjectPublish(ctx, u.owner, pid))
	if _, err := db.ProjectSetPayoutAddress(ctx, u.inv, pid, address); !errors.Is(err, icms.ErrForbidden) {
		t.Fatalf("investor: %v", err)
	}
	for _, who := range []icms.Request{u.owner, u.admin, icms.Host} {
		if got := must(t)(db.ProjectGet(ctx, who, pid)).Str("payout_address"); got != address {
			t.Fatalf("%+v reads %q", who, got)
		}
	}
	for _, who := range []icms.Request{u.inv, icms.Anonymous} {
		if _, seen := must(t)(db.ProjectGet(ctx, who, pid))["payout_address"]; seen {
			t.Fatalf("%+v reads the payout address", who)
		}
		items := must(t)(db.ProjectList(ctx, who, map[string]any{"state": "PUBLISHED"})).List("items")
		if len(items) != 1 || items[0].Str("id") != pid {
			t.Fatalf("%+v lists %v", who, items)
		}
		if _, seen := items[0]["payout_address"]; seen {
			t.Fatalf("%+v lists the payout address", who)
		}
	}
	if n := len(must(t)(db.ReleaseList(ctx, icms.Host, map[string]any{"status": "DUE"})).List("items")); n != 0 {
		t.Fatalf("%d releases before approval", n)
	}
	if n := len(must(t)(db.ReleaseList(ctx, u.owner, map[string]any{"project_id": pid})).List("items")); n != 0 {
		t.Fatalf("owner lists %d releases", n)
	}
}

// fundedParticipation: a published project and an approved participation; returns its id.
func fundedParticipation(t *testing.T, db *icms.DB, u actors) string {
	ctx := context.Background()
	p := must(t)(db.ProjectCreate(ctx, u.owner, crate(100_000_000)))
	must(t)(db.ProjectPublish(ctx, u.owner, p.Str("id")))
	part := must(t)(db.ParticipationRequest(ctx, u.inv, p.Str("id"), map[string]any{"type": "PROFIT", "capital": 150_000_000}))
	must(t)(db.ParticipationApprove(ctx, u.owner, part.Str("id")))
	return part.Str("id")
}

var refund = map[string]any{"refund_address": "GXr5onuXCxtRNLBYYbTW7qhy6UM1fTGDuU"}

func TestTransportErrorIsWrapped(t *testing.T) {
	hostDown := errors.New("the host's HTTP stack failed")
	var sawDeadline bool
	tr := icms.TransportFunc(func(ctx context.Context, url string, headers []string, body []byte, maxLen int64) (int, []byte, error) {
		_, sawDeadline = ctx.Deadline()
		return 0, nil, hostDown
	})
	db := open(t, icms.Options{KYCOptional: true, Gapcoin: &icms.Gapcoin{URL: "http://127.0.0.1:9/", Transport: tr}})
	u := users(t, db)
	part := fundedParticipation(t, db, u)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := db.PaymentInitiate(ctx, u.inv.WithKey("k"), part, refund)
	if !errors.Is(err, hostDown) || !errors.Is(err, icms.ErrCallback) {
		t.Fatalf("got %v", err)
	}
	if !sawDeadline {
		t.Fatal("the transport did not get the call's context")
	}
	list := must(t)(db.PaymentList(context.Background(), u.admin, map[string]any{"investor_id": u.inv.ActorID}))
	if n := len(list.List("items")); n != 0 {
		t.Fatalf("%d payments after a failed initiate", n)
	}
}

func TestTransportPanicIsAnError(t *testing.T) {
	tr := icms.TransportFunc(func(context.Context, string, []string, []byte, int64) (int, []byte, error) {
		panic("boom")
	})
	db := open(t, icms.Options{KYCOptional: true, Gapcoin: &icms.Gapcoin{URL: "http://127.0.0.1:9/", Transport: tr}})
	u := users(t, db)
	part := fundedParticipation(t, db, u)
	if _, err := db.PaymentInitiate(context.Background(), u.inv.WithKey("k"), part, refund); !errors.Is(err, icms.ErrCallback) ||
		!strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v", err)
	}
}

func TestUnreachableNodeIsErrTransport(t *testing.T) {
	db := open(t, icms.Options{KYCOptional: true, Gapcoin: &icms.Gapcoin{URL: "http://127.0.0.1:9/", Timeout: 2 * time.Second}})
	u := users(t, db)
	part := fundedParticipation(t, db, u)
	if _, err := db.PaymentInitiate(context.Background(), u.inv.WithKey("k"), part, refund); !errors.Is(err, icms.ErrTransport) {
		t.Fatalf("got %v", err)
	}
}

func TestCancelledContext(t *testing.T) {
	db := open(t, icms.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.ProjectList(ctx, icms.Host, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestClosedAndClock(t *testing.T) {
	ctx := context.Background()
	db := open(t, icms.Options{})
	if err := db.Clock().Advance(time.Minute); err != nil {
		t.Fatal(err)
	}
	if ms, _ := db.Clock().Now(); ms != now+60_000 {
		t.Fatalf("clock %d", ms)
	}
	a := must(t)(db.UserBootstrapAdmin(ctx, icms.Host, map[string]any{"name": "Ada", "email": "ada@example.com"}))
	if a.Str("created_at") != "2026-01-01T00:01:00.000Z" {
		t.Fatalf("created_at %s", a.Str("created_at"))
	}
	db.Close()
	db.Close()
	if _, err := db.ProjectList(ctx, icms.Host, nil); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("closed: %v", err)
	}
	if _, err := db.Clock().Now(); !errors.Is(err, icms.ErrInvalid) {
		t.Fatalf("closed clock: %v", err)
	}
	if _, err := icms.Open(icms.Options{Path: "/nonexistent-dir/x/icms.db"}); err == nil {
		t.Fatal("opened a path in a missing directory")
	}
}

func TestGoroutinesShareOneDB(t *testing.T) {
	ctx := context.Background()
	db := open(t, icms.Options{})
	u := users(t, db)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if _, err := db.UserCreate(ctx, u.admin, map[string]any{"name": "T", "email": fmt.Sprintf("t%d-%d@example.com", g, j)}); err != nil {
					errs <- err
				}
				if _, err := db.UserGet(ctx, u.admin, "bad"); !errors.Is(err, icms.ErrInvalid) {
					errs <- fmt.Errorf("want ErrInvalid, got %v", err)
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func rssKiB(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	pages, _ := strconv.ParseInt(strings.Fields(string(b))[1], 10, 64)
	return pages * int64(os.Getpagesize()) / 1024
}

func TestMemoryNoGrowthOver10000Calls(t *testing.T) {
	ctx := context.Background()
	db := open(t, icms.Options{})
	u := users(t, db)
	p := must(t)(db.ProjectCreate(ctx, u.owner, crate(100)))
	loop := func(n int) {
		for i := 0; i < n; i++ {
			if _, err := db.ProjectGet(ctx, u.admin, p.Str("id")); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ProjectGet(ctx, u.admin, "bad"); !errors.Is(err, icms.ErrInvalid) {
				t.Fatal(err)
			}
		}
	}
	// Go's heap keeps freed pages until told: FreeOSMemory (a GC that
	// returns them) before each reading, so RSS shows what is live.
	loop(2000) // warm up
	debug.FreeOSMemory()
	before := rssKiB(t)
	loop(10_000)
	debug.FreeOSMemory()
	after := rssKiB(t)
	t.Logf("memory: 10000 iterations (2 calls each): RSS %d KiB -> %d KiB (%+d KiB)", before, after, after-before)
	if after-before > 2048 {
		t.Fatalf("RSS grew by %d KiB", after-before)
	}
}

func notified(t *testing.T, n icms.Notifier) icms.Result {
	ctx := context.Background()
	db := open(t, icms.Options{KYCOptional: true})
	u := users(t, db)
	if err := db.SetNotifier(n); err != nil {
		t.Fatal(err)
	}
	p := must(t)(db.ProjectCreate(ctx, u.owner, crate(100_000_000)))
	must(t)(db.ProjectPublish(ctx, u.owner, p.Str("id")))
	must(t)(db.ParticipationRequest(ctx, u.inv, p.Str("id"), map[string]any{"type": "PROFIT", "capital": 1000}))
	return must(t)(db.NotifyRun(ctx))
}

func TestNotifier(t *testing.T) {
	var got []icms.Notification
	report := notified(t, icms.NotifierFunc(func(ctx context.Context, n icms.Notification) error {
		got = append(got, n)
		return nil
	}))
	if len(got) == 0 || int64(len(got)) != report.Int("sent") {
		t.Fatalf("got %d, report %v", len(got), report)
	}
	if got[0].TemplateKey != "participation.requested.owner" || got[0].Attempt != 1 ||
		!strings.Contains(string(got[0].Data), `"commitment":1000`) {
		t.Fatalf("%+v", got[0])
	}
}

func TestNotifierErrors(t *testing.T) {
	retry := notified(t, icms.NotifierFunc(func(context.Context, icms.Notification) error {
		return errors.New("smtp down")
	}))
	if retry.Int("sent") != 0 || retry.Int("failed") == 0 || retry.Int("dead") != 0 {
		t.Fatalf("retry: %v", retry)
	}
	dead := notified(t, icms.NotifierFunc(func(context.Context, icms.Notification) error {
		return fmt.Errorf("no such mailbox: %w", icms.ErrInvalid)
	}))
	if dead.Int("dead") == 0 || dead.Int("dead") != dead.Int("failed") {
		t.Fatalf("dead: %v", dead)
	}
	panicked := notified(t, icms.NotifierFunc(func(context.Context, icms.Notification) error { panic("boom") }))
	if panicked.Int("failed") == 0 || panicked.Int("dead") != 0 {
		t.Fatalf("panic: %v", panicked)
	}
}
