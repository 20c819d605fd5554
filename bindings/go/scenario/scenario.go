// Package scenario is the end-to-end scenario every binding plays, in Go:
// users, KYC, a project, a participation, a payment confirmed on the fake
// Gapcoin node (tests/bindings/scenario.py), approval (the escrow released
// to the owner), shipping, completion, the payout and the owner's release
// paid. examples/endtoend runs it; the tests assert on
// what it saw.
package scenario

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"libicms.org/icms"
)

// Node is what tests/bindings/scenario.py prints about the fake node.
type Node struct {
	URL           string            `json:"url"`
	User          string            `json:"user"`
	Password      string            `json:"password"`
	Addresses     []string          `json:"addresses"`
	RefundAddress string            `json:"refund_address"`
	OwnerAddress  string            `json:"owner_address"`
	TxIDs         map[string]string `json:"txids"`
	Target        int64             `json:"target"`
	Profit        int64             `json:"profit"`
	NowMs         int64             `json:"now_ms"`

	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// Root is the repository root (from this file's location).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// StartNode starts the scenario's fake node with its files in dir.
func StartNode(dir string) (*Node, error) {
	cmd := exec.Command("/usr/bin/python3", filepath.Join(Root(), "tests/bindings/scenario.py"), dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	n := &Node{cmd: cmd, stdin: stdin}
	if err == nil {
		err = json.Unmarshal([]byte(line), n)
	}
	if err != nil {
		n.Stop()
		return nil, fmt.Errorf("scenario.py: %v", err)
	}
	return n, nil
}

// Stop stops the node.
func (n *Node) Stop() {
	n.stdin.Close()
	n.cmd.Wait()
}

// HTTPTransport is an icms.Transport over net/http with HTTP Basic credentials.
func HTTPTransport(user, password string) icms.Transport {
	return icms.TransportFunc(func(ctx context.Context, url string, headers []string, body []byte,
		maxLen int64) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		for _, h := range headers {
			name, value, _ := strings.Cut(h, ":")
			req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
		}
		req.SetBasicAuth(user, password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		answer, err := io.ReadAll(io.LimitReader(resp.Body, maxLen+1))
		return resp.StatusCode, answer, err
	})
}

// Step advances the fake node's chain by one scenario step.
func (n *Node) Step(ctx context.Context) error {
	body := []byte(`{"jsonrpc":"1.0","id":1,"method":"fake_step","params":[]}`)
	status, _, err := HTTPTransport(n.User, n.Password).Post(ctx, n.URL,
		[]string{"Content-Type: application/json"}, body, 1<<20)
	if err == nil && status != 200 {
		err = fmt.Errorf("fake_step answered %d", status)
	}
	return err
}

// Seen is what the scenario observed.
type Seen struct {
	KYC           string
	TotalCost     int64
	AfterApproval string
	Address       string
	Amount        int64
	Confirmations []int64
	Payment       string
	Funded        int64
	AfterPayment  string
	Final         string
	PayoutAmount  int64
	Payout        string
	// Where the owner is paid: read by the owner, hidden from the investor.
	OwnerReadsAddress    string
	InvestorReadsAddress bool
	// The release made on approval: as the owner reads it, how many the host
	// finds DUE, then as the host's recording leaves it.
	ReleaseStatus, ReleaseAddress string
	ReleaseAmount                 int64
	ReleasesDue                   int
	Release, ReleaseTxID          string
	ReleasesPaid                  int
	CheckOK                       bool
}

// Run plays the scenario on a new database at dbPath; builtin picks the
// library's libcurl transport instead of HTTPTransport.
func Run(ctx context.Context, dbPath string, n *Node, builtin bool) (seen Seen, err error) {
	g := &icms.Gapcoin{URL: n.URL, Username: n.User, Password: n.Password}
	if !builtin {
		g.Transport = HTTPTransport(n.User, n.Password)
	}
	db, err := icms.Open(icms.Options{Path: dbPath, FakeClockMs: n.NowMs, Sync: 2, Gapcoin: g})
	if err != nil {
		return seen, err
	}
	defer db.Close()
	// Each step either succeeds or ends the scenario with its error.
	must := func(r icms.Result, e error) icms.Result {
		if e != nil && err == nil {
			err = e
		}
		return r
	}
	admin := must(db.UserBootstrapAdmin(ctx, icms.Host, map[string]any{"name": "Ada Admin", "email": "ada@example.com"}))
	if err != nil {
		return seen, err
	}
	asAdmin := icms.User(admin.Str("id"))
	owner := must(db.UserCreate(ctx, asAdmin, map[string]any{"name": "Otto Owner", "email": "otto@example.com", "roles": []string{"OWNER"}}))
	investor := must(db.UserCreate(ctx, asAdmin, map[string]any{"name": "Ines Investor", "email": "ines@example.com", "roles": []string{"INVESTOR"}}))
	if err != nil {
		return seen, err
	}
	asOwner, asInvestor := icms.User(owner.Str("id")), icms.User(investor.Str("id"))

	must(db.UserSetKYC(ctx, asInvestor, investor.Str("id"), "PENDING", map[string]any{"document": "passport"}))
	seen.KYC = must(db.UserSetKYC(ctx, asAdmin, investor.Str("id"), "VERIFIED", nil)).Str("kyc_status")

	project := must(db.ProjectCreate(ctx, asOwner, map[string]any{
		"title": "One crate", "expiry_date": "2026-02-01T00:00:00Z",
		"shipping_costs": map[string]int64{"freight": 50_000_000}, "min_ticket": 1,
		"payout_address": n.OwnerAddress, // where the owner is paid on approval
		"products":       []map[string]any{{"name": "Crate", "unit": "crate", "quantity": 1, "unit_price": int64(100_000_000)}},
	}))
	if err != nil {
		return seen, err
	}
	pid := project.Str("id")
	seen.TotalCost = project.Int("total_cost")
	must(db.ProjectPublish(ctx, asOwner, pid))

	part := must(db.ParticipationRequest(ctx, asInvestor, pid, map[string]any{"type": "PROFIT", "capital": n.Target}))
	if err != nil {
		return seen, err
	}
	must(db.ParticipationApprove(ctx, asOwner, part.Str("id")))
	seen.AfterApproval = must(db.ProjectGet(ctx, asAdmin, pid)).Str("state")

	payment := must(db.PaymentInitiate(ctx, asInvestor.WithKey("pay-1"), part.Str("id"),
		map[string]any{"refund_address": n.RefundAddress}))
	if err != nil {
		return seen, err
	}
	pay := payment.Str("id")
	seen.Address, seen.Amount = payment.Str("address"), payment.Int("amount")
	must(db.PaymentSubmit(ctx, asInvestor, pay, n.TxIDs["pay"]))
	seen.Confirmations = append(seen.Confirmations, must(db.PaymentVerify(ctx, icms.Host, pay)).Int("confirmations"))
	if e := n.Step(ctx); e != nil {
		return seen, e
	}
	seen.Confirmations = append(seen.Confirmations, must(db.PaymentVerify(ctx, icms.Host, pay)).Int("confirmations"))
	if e := n.Step(ctx); e != nil {
		return seen, e
	}
	seen.Payment = must(db.PaymentVerify(ctx, icms.Host, pay)).Str("status")
	funded := must(db.ProjectGet(ctx, asAdmin, pid))
	seen.Funded, seen.AfterPayment = funded.Int("funded"), funded.Str("state")

	// Only the owner, admins and the host read where the owner is paid.
	seen.OwnerReadsAddress = must(db.ProjectGet(ctx, asOwner, pid)).Str("payout_address")
	_, seen.InvestorReadsAddress = must(db.ProjectGet(ctx, asInvestor, pid))["payout_address"]

	// Approval releases the escrow to the owner: a release DUE, paid by the host's wallet.
	releaseID := must(db.ProjectApprove(ctx, asAdmin, pid)).Str("release_id")
	release := must(db.ReleaseGet(ctx, asOwner, releaseID))
	seen.ReleaseStatus, seen.ReleaseAmount = release.Str("status"), release.Int("amount")
	seen.ReleaseAddress = release.Str("address")
	seen.ReleasesDue = len(must(db.ReleaseList(ctx, icms.Host, map[string]any{"status": "DUE"})).List("items"))
	must(db.ProjectShip(ctx, asAdmin, pid, map[string]any{
		"container_number": "CSQU3054383", "vessel": "Ever", "bill_of_lading": "BL1",
		"port_of_loading": "Piraeus", "port_of_discharge": "Hamburg", "eta": "2026-03-01T00:00:00Z"}))
	must(db.ProjectComplete(ctx, asAdmin, pid))
	seen.Final = must(db.ProjectGet(ctx, asAdmin, pid)).Str("state")

	must(db.ProjectDistribute(ctx, asAdmin, pid, map[string]any{"profit": n.Profit}))
	items := must(db.PayoutList(ctx, asInvestor, nil)).List("items")
	if err != nil {
		return seen, err
	}
	if len(items) != 1 {
		return seen, fmt.Errorf("%d payouts due, want 1", len(items))
	}
	seen.PayoutAmount = items[0].Int("amount")
	if e := n.Step(ctx); e != nil {
		return seen, e
	}
	seen.Payout = must(db.PayoutRecord(ctx, icms.Host, items[0].Str("id"), n.TxIDs["payout"])).Str("status")
	paid := must(db.ReleaseRecord(ctx, icms.Host, releaseID, n.TxIDs["release"]))
	seen.Release, seen.ReleaseTxID = paid.Str("status"), paid.Str("txid")
	seen.ReleasesPaid = len(must(db.ReleaseList(ctx, asOwner, map[string]any{"status": "PAID"})).List("items"))
	check := must(db.Check(ctx, icms.Host))
	seen.CheckOK, _ = check["ok"].(bool)
	return seen, err
}
