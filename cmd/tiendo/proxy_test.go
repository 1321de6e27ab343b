package main

// The reverse-proxy set-up that deploy/ ships, run for real: Debian's nginx
// with deploy/nginx/tiendo.conf in front of the tiendo binary started with
// the flags of deploy/systemd/tiendo.service. What it must hold: the client
// address is the real one whatever the client writes in X-Forwarded-For,
// sign-in cookies are Secure, /metrics is not public, live streams pass,
// and a client that sends its whole body first reads its 413.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// shippedServeFlags are the flags of the systemd unit's ExecStart, less
// those that name this host's paths and ports; --metrics-addr gets a free port.
func shippedServeFlags(t *testing.T) (flags []string, metricsAddr string) {
	b, err := os.ReadFile("../../deploy/systemd/tiendo.service")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ExecStart=\S+ serve (.*)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("tiendo.service has no ExecStart=… serve line")
	}
	args := strings.Fields(string(m[1]))
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--data", "--addr", "--clickhouse":
			i++
		case "--metrics-addr":
			i++
			metricsAddr = freeAddr(t)
			flags = append(flags, "--metrics-addr", metricsAddr)
		default:
			flags = append(flags, args[i])
		}
	}
	for _, want := range []string{"--trusted-proxies", "--secure-cookies"} {
		if !strings.Contains(string(m[1]), want) {
			t.Errorf("the shipped unit lacks %s", want)
		}
	}
	return flags, metricsAddr
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tiendo-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// startNginx runs deploy/nginx/tiendo.conf on 127.0.0.1:port in front of
// upstream and returns the port.
func startNginx(t *testing.T, upstream, certFile, keyFile string) string {
	site, err := os.ReadFile("../../deploy/nginx/tiendo.conf")
	if err != nil {
		t.Fatal(err)
	}
	port := strings.TrimPrefix(freeAddr(t), "127.0.0.1:")
	conf := string(site)
	for _, r := range [][2]string{
		{"listen 443 ssl;", "listen 127.0.0.1:" + port + " ssl;"},
		{"listen [::]:443 ssl;", ""},
		{"server 127.0.0.1:8080;", "server " + upstream + ";"},
		{"/etc/ssl/tiendo/fullchain.pem", certFile},
		{"/etc/ssl/tiendo/privkey.pem", keyFile},
	} {
		if !strings.Contains(conf, r[0]) {
			t.Fatalf("deploy/nginx/tiendo.conf no longer has %q", r[0])
		}
		conf = strings.Replace(conf, r[0], r[1], 1)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "site.conf"), []byte(conf), 0o600)
	// One process, so that nginx run as root needs no user of its own.
	main := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events {}
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/site.conf;
}
`, dir)
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600)
	cmd := exec.Command("/usr/sbin/nginx", "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("nginx (scripts/install-deps.sh installs nginx-light): %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not listen: %s\n%s", out.String(), log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clientFrom is a person at source address src (another loopback address,
// so not a trusted proxy) talking HTTPS to the proxy.
func clientFrom(src string, pool *x509.CertPool) (*http.Client, func(ctx context.Context, network, addr string) (net.Conn, error)) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: false}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, d.DialContext
}

func TestShippedReverseProxySetUp(t *testing.T) {
	flags, metricsAddr := shippedServeFlags(t)
	p := startServer(t, t.TempDir(), "", flags...)
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	port := startNginx(t, p.addr, certFile, keyFile)
	site := "https://127.0.0.1:" + port
	admin, err := readAdminToken(p.data)
	if err != nil {
		t.Fatal(err)
	}
	adminPost := func(path, body string) {
		req, _ := http.NewRequest(http.MethodPost, p.url()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("%s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	adminPost("/api/v1/admin/users", `{"name":"chief1","role":"leader","password":"dung-mat-khau-1"}`)

	attacker, _ := clientFrom("127.0.0.2", pool)
	user, userDial := clientFrom("127.0.0.3", pool)
	login := func(c *http.Client, password, spoof string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, site+"/login", strings.NewReader(url.Values{"name": {"chief1"}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", site) // as a browser sends it, port and all
		if spoof != "" {
			req.Header.Set("X-Forwarded-For", spoof)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	// Guessing from one address is slowed down even when every try claims
	// another address on the left of X-Forwarded-For.
	limited := false
	for i := 0; i < 15 && !limited; i++ {
		limited = login(attacker, fmt.Sprintf("sai-%d", i), fmt.Sprintf("9.9.9.%d", i)).StatusCode == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("15 wrong passwords from one address, each with a made-up X-Forwarded-For, were never limited")
	}
	// The real user, elsewhere, is not locked out by it, and gets a Secure cookie.
	resp := login(user, "dung-mat-khau-1", "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the real user's sign-in after the attack: %d", resp.StatusCode)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "tiendo_session" {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly {
		t.Fatalf("session cookie %+v: want Secure and HttpOnly", session)
	}
	if log, _ := os.ReadFile(p.logFile); !bytes.Contains(log, []byte("127.0.0.2")) || bytes.Contains(log, []byte("9.9.9.")) {
		t.Errorf("the server's log should name the attacker's real address 127.0.0.2 and never the made-up ones:\n%s", log)
	}

	// /metrics is not served through the proxy, with or without a token;
	// the host's scraper has its own loopback listener.
	for _, tok := range []string{"", admin} {
		req, _ := http.NewRequest(http.MethodGet, site+"/metrics", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := user.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("/metrics through the proxy: %d, want 404", resp.StatusCode)
		}
	}
	if resp, err := http.Get("http://" + metricsAddr + "/metrics"); err != nil || resp.StatusCode != 200 {
		t.Errorf("metrics listener: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// A browser's live stream passes: its Origin carries the port, and so
	// does the Host the proxy forwards.
	d := websocket.Dialer{NetDialContext: userDial, TLSClientConfig: &tls.Config{RootCAs: pool}, HandshakeTimeout: 5 * time.Second}
	ws, wresp, err := d.Dial("wss://127.0.0.1:"+port+"/ws?scope=province",
		http.Header{"Origin": {site}, "Cookie": {session.Name + "=" + session.Value}})
	if err != nil {
		t.Fatalf("live stream through the proxy: %v %v", wresp, err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var first struct{ Type string }
	if err := ws.ReadJSON(&first); err != nil || first.Type != "snapshot" {
		t.Fatalf("first live message: %+v %v", first, err)
	}
	ws.Close()

	// A client that sends its whole body before reading reads the 413.
	tok := p.stationToken("LS-BS-VULE")
	conn, err := tls.DialWithDialer(&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}}, "tcp",
		"127.0.0.1:"+port, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := bytes.Repeat([]byte(" "), 12<<20)
	fmt.Fprintf(conn, "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", port, tok, len(body))
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(body); err != nil {
		t.Fatalf("sending the whole body first: %v", err)
	}
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("after the whole 12 MB body: %v %v; want 413", r, err)
	}
}
