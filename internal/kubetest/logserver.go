package kubetest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// LogSource holds the containers' logs a Kubelet serves; PodRunner is one.
type LogSource interface {
	// ContainerLog returns what the container wrote, stdout and stderr
	// interleaved; its error wraps fs.ErrNotExist when the container
	// never ran.
	ContainerLog(namespace, pod, container string) ([]byte, error)
}

// logServer is the one part of a kubelet's HTTPS API the stand-in serves:
// GET /containerLogs/{namespace}/{pod}/{container}, which the API server
// calls for pods/log. It listens on the node's address, with a serving
// certificate of the cluster's CA for that address, and takes only
// clients with a certificate of that CA (the API server's kubelet client).
type logServer struct {
	srv  *http.Server
	port int
	done chan struct{}
}

// startLogServer listens on ip (an address of this machine) and serves
// src's logs there.
func (c *Cluster) startLogServer(ip netip.Addr, src LogSource, logf func(string, ...any)) (*logServer, error) {
	pair, err := c.certs.issue(&c.certs.ca, kubeletServingTemplate(net.IP(ip.AsSlice())))
	if err != nil {
		return nil, fmt.Errorf("create kubelet serving certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(pair.cert, pair.key)
	if err != nil {
		return nil, fmt.Errorf("load kubelet serving certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c.certs.ca.parsed)
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		return nil, fmt.Errorf("kubelet log server (NodeIP must be an address of this machine, such as netnstest's AddAddr): %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", func(w http.ResponseWriter, r *http.Request) {
		serveLog(w, r, src)
	})
	ls := &logServer{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}},
		port: ln.Addr().(*net.TCPAddr).Port,
		done: make(chan struct{}),
	}
	go func() {
		defer close(ls.done)
		if err := ls.srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("kubelet: log server: %v", err)
		}
	}()
	return ls, nil
}

// serveLog answers one request for a container's log, honouring tailLines
// and limitBytes. follow, previous and timestamps are not supported: the
// log so far is sent, whole.
func serveLog(w http.ResponseWriter, r *http.Request, src LogSource) {
	b, err := src.ContainerLog(r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	q := r.URL.Query()
	if n, err := strconv.Atoi(q.Get("tailLines")); err == nil && n >= 0 {
		b = tailLines(b, n)
	}
	if n, err := strconv.Atoi(q.Get("limitBytes")); err == nil && n >= 0 && n < len(b) {
		b = b[:n]
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(b)
}

// tailLines returns the last n lines of b.
func tailLines(b []byte, n int) []byte {
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end--
	}
	i := end
	for range n {
		j := bytes.LastIndexByte(b[:i], '\n')
		if j < 0 {
			return b
		}
		i = j
	}
	if n == 0 {
		return nil
	}
	return b[i+1:]
}

func (ls *logServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ls.srv.Shutdown(ctx)
	<-ls.done
}
