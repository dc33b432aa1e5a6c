// Command kube-apiserver-test runs a real Kubernetes API server for Mortar's
// test suite: etcd embedded in the same process, kube-apiserver from the
// Kubernetes module itself, both on loopback, with RBAC authorization and a
// service-account issuer so ServiceAccount tokens can be minted
// (TokenRequest) and used. No kubelet, no controllers: objects are admitted
// and stored, pods never run.
//
// Usage: kube-apiserver-test --dir DIR
//
// It writes DIR/admin.kubeconfig (a system:masters token) and then prints
// one line, "ready https://127.0.0.1:PORT". It exits when its standard
// input reaches end of file (so a test process that dies takes it along)
// or on SIGTERM.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	dir := flag.String("dir", "", "directory for etcd data, certificates and the admin kubeconfig")
	flag.Parse()
	if *dir == "" {
		fail("--dir is required")
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		fail("cannot create %s: %v", *dir, err)
	}
	// The parent closing our stdin is the signal to go.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()

	etcdURL := startEtcd(filepath.Join(*dir, "etcd"))
	port := freePort()
	ca, caKey := newCA()
	writePEM(filepath.Join(*dir, "ca.crt"), "CERTIFICATE", ca.Raw)
	serving, servingKey := newServingCert(ca, caKey)
	writePEM(filepath.Join(*dir, "serving.crt"), "CERTIFICATE", serving)
	writeKey(filepath.Join(*dir, "serving.key"), servingKey)
	_, saKey := newCA()
	writeKey(filepath.Join(*dir, "sa.key"), saKey)
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	check(err)
	writePEM(filepath.Join(*dir, "sa.pub"), "PUBLIC KEY", saPub)
	token := randomHex(24)
	check(os.WriteFile(filepath.Join(*dir, "tokens.csv"),
		[]byte(fmt.Sprintf("%s,admin,admin,\"system:masters\"\n", token)), 0o600))

	server := fmt.Sprintf("https://127.0.0.1:%d", port)
	cmd := app.NewAPIServerCommand()
	cmd.SetArgs([]string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		"--tls-cert-file=" + filepath.Join(*dir, "serving.crt"),
		"--tls-private-key-file=" + filepath.Join(*dir, "serving.key"),
		"--cert-dir=" + filepath.Join(*dir, "certs"),
		"--authorization-mode=RBAC",
		"--token-auth-file=" + filepath.Join(*dir, "tokens.csv"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + filepath.Join(*dir, "sa.pub"),
		"--service-account-signing-key-file=" + filepath.Join(*dir, "sa.key"),
		"--api-audiences=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		"--watch-cache=true",
		"--profiling=false",
		"--v=0",
	})
	go func() {
		if err := cmd.Execute(); err != nil {
			fail("kube-apiserver: %v", err)
		}
		os.Exit(0)
	}()

	waitReady(server, token, ca)
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: admin
  context: { cluster: test, user: admin, namespace: default }
current-context: admin
`, server, filepath.Join(*dir, "ca.crt"), token)
	check(os.WriteFile(filepath.Join(*dir, "admin.kubeconfig"), []byte(kubeconfig), 0o600))
	fmt.Printf("ready %s\n", server)
	select {}
}

func startEtcd(dir string) string {
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.LogLevel = "error"
	client := &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", freePort())}
	peer := &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", freePort())}
	cfg.ListenClientUrls = []url.URL{*client}
	cfg.AdvertiseClientUrls = []url.URL{*client}
	cfg.ListenPeerUrls = []url.URL{*peer}
	cfg.AdvertisePeerUrls = []url.URL{*peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fail("etcd: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		fail("etcd did not start within 60 s")
	}
	return client.String()
}

// waitReady polls /readyz until the server answers 200.
func waitReady(server, token string, ca *x509.Certificate) {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("GET", server+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	fail("kube-apiserver was not ready within 120 s")
}

func newCA() (*x509.Certificate, *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kube-apiserver-test-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	check(err)
	cert, err := x509.ParseCertificate(der)
	check(err)
	return cert, key
}

func newServingCert(ca *x509.Certificate, caKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	check(err)
	return der, key
}

func writePEM(path, kind string, der []byte) {
	check(os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600))
}

func writeKey(path string, key *ecdsa.PrivateKey) {
	der, err := x509.MarshalECPrivateKey(key)
	check(err)
	writePEM(path, "EC PRIVATE KEY", der)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, err := rand.Read(b)
	check(err)
	return hex.EncodeToString(b)
}

func check(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kube-apiserver-test: "+format+"\n", args...)
	os.Exit(1)
}
