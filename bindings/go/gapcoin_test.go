package icms_test

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"libicms.org/icms"
)

func loadData(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "tests", "data", "gapcoin", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type genesis struct {
	CoinbaseTx struct {
		Hex     string `json:"hex"`
		TxID    string `json:"txid"`
		Size    int64  `json:"size"`
		Message string `json:"scriptsig_message"`
		Outputs []struct {
			AddressMainnet string `json:"address_mainnet"`
			AddressTestnet string `json:"address_testnet"`
		} `json:"outputs"`
	} `json:"coinbase_tx"`
	Mainnet struct {
		HeaderHex  string `json:"header_hex"`
		HeaderSize int64  `json:"header_size"`
		Hash       string `json:"hash"`
	} `json:"mainnet"`
}

func TestGapcoinGenesisCoinbase(t *testing.T) {
	var g genesis
	loadData(t, "genesis.json", &g)
	raw := unhex(t, g.CoinbaseTx.Hex)
	tx, err := icms.TxDecode(raw, icms.Mainnet, icms.Node2606)
	if err != nil {
		t.Fatal(err)
	}
	if tx.Str("txid") != g.CoinbaseTx.TxID || tx.Int("size") != g.CoinbaseTx.Size || tx["coinbase"] != true {
		t.Fatalf("tx %v", tx)
	}
	if !strings.Contains(tx.List("inputs")[0].Str("script_sig"), hex.EncodeToString([]byte(g.CoinbaseTx.Message))) {
		t.Fatal("script_sig")
	}
	out := tx.List("outputs")[0]
	if out.Int("value") != 0 || out.Str("type") != "p2pk" || out.Str("address") != g.CoinbaseTx.Outputs[0].AddressMainnet {
		t.Fatalf("output %v", out)
	}
	tx, err = icms.TxDecode(raw, icms.Testnet, icms.Node2606)
	if err != nil || tx.List("outputs")[0].Str("address") != g.CoinbaseTx.Outputs[0].AddressTestnet {
		t.Fatalf("testnet %v %v", tx, err)
	}
}

func TestGapcoinHeaders(t *testing.T) {
	var g genesis
	loadData(t, "genesis.json", &g)
	h, err := icms.HeaderDecode(unhex(t, g.Mainnet.HeaderHex))
	if err != nil || h.Str("hash") != g.Mainnet.Hash || h.Int("size") != g.Mainnet.HeaderSize {
		t.Fatalf("genesis header %v %v", h, err)
	}
	var headers struct {
		Headers []struct {
			Hash      string `json:"hash"`
			HeaderHex string `json:"header_hex"`
		} `json:"headers"`
	}
	loadData(t, "mainnet_headers_1_9.json", &headers)
	for _, want := range headers.Headers {
		h, err := icms.HeaderDecode(unhex(t, want.HeaderHex))
		if err != nil || h.Str("hash") != want.Hash {
			t.Fatalf("header %v %v", h, err)
		}
	}
}

func TestGapcoinAddressesAndScripts(t *testing.T) {
	var a map[string]any
	loadData(t, "addresses.json", &a)
	p2pkh, gp, gap := a["p2pkh_mainnet"].(string), a["bech32_v0_hrp_gp"].(string), a["bech32m_v0_hrp_gap_2606"].(string)
	script, err := icms.AddressToScript(p2pkh, icms.Mainnet)
	if err != nil || hex.EncodeToString(script) != "76a914"+a["hash160"].(string)+"88ac" {
		t.Fatalf("script %x %v", script, err)
	}
	if s, err := icms.ScriptToAddress(script, icms.Mainnet, icms.Node2606); err != nil || s != p2pkh {
		t.Fatalf("address %q %v", s, err)
	}
	witness, err := icms.AddressToScript(gp, icms.Mainnet)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := icms.ScriptToAddress(witness, icms.Mainnet, icms.Node0_16); s != gp {
		t.Fatalf("0.16 shows %q", s)
	}
	if s, _ := icms.ScriptToAddress(witness, icms.Mainnet, icms.Node2606); s != gap {
		t.Fatalf("2606 shows %q", s)
	}
}

func TestGapcoinRefusals(t *testing.T) {
	var g genesis
	loadData(t, "genesis.json", &g)
	raw := unhex(t, g.CoinbaseTx.Hex)
	_, err := icms.TxDecode(raw[:len(raw)-1], icms.Mainnet, icms.Node2606)
	wantErr(t, err, icms.ErrInvalid)
	_, err = icms.TxDecode(append(append([]byte{}, raw...), 0), icms.Mainnet, icms.Node2606)
	wantErr(t, err, icms.ErrInvalid)
	_, err = icms.TxDecode(raw, 7, icms.Node2606)
	wantErr(t, err, icms.ErrInvalid)
	_, err = icms.TxDecode(nil, icms.Mainnet, icms.Node2606)
	wantErr(t, err, icms.ErrInvalid)
	_, err = icms.HeaderDecode([]byte{1, 2, 3})
	wantErr(t, err, icms.ErrInvalid)
	_, err = icms.AddressToScript("GcwphVTaks2XGGB8RUk7auWdgmG8CV14TG", icms.Mainnet)
	wantErr(t, err, icms.ErrInvalid)
	_, err = icms.ScriptToAddress(unhex(t, "6a0568656c6c6f"), icms.Mainnet, icms.Node2606)
	wantErr(t, err, icms.ErrNotFound)
}
