package tracing

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// spanNames collects the names of the spans an OTLP receiver got.
type spanNames struct {
	mu    sync.Mutex
	names []string
}

func (s *spanNames) keep(req *coltracepb.ExportTraceServiceRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, span := range ss.GetSpans() {
				s.names = append(s.names, span.GetName())
			}
		}
	}
}

func (s *spanNames) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.names...)
}

type grpcReceiver struct {
	coltracepb.UnimplementedTraceServiceServer
	got *spanNames
}

func (r grpcReceiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	r.got.keep(req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// exportOne sets tracing up from the environment vars, ends one span and shuts down,
// which exports it. The exporters read the process environment themselves.
func exportOne(t *testing.T, vars map[string]string) {
	t.Helper()
	for k, v := range vars {
		t.Setenv(k, v)
	}
	tr, err := Setup(context.Background(), Options{Service: "svc", Version: "1", Getenv: os.LookupEnv})
	if err != nil || !tr.Enabled() {
		t.Fatalf("Setup: enabled %v, %v", err == nil && tr.Enabled(), err)
	}
	_, span := tr.StartSend(context.Background(), "topic")
	span.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestExportsOverHTTP(t *testing.T) {
	got := &spanNames{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		got.keep(&req)
		answer, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(answer)
	}))
	defer srv.Close()
	exportOne(t, map[string]string{EnvEndpoint: srv.URL})
	if names := got.list(); len(names) != 1 || names[0] != "send topic" {
		t.Fatalf("received %v, want the one span", names)
	}
}

func TestExportsOverGRPC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := &spanNames{}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, grpcReceiver{got: got})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		srv.Stop()
		<-served
	}()
	exportOne(t, map[string]string{
		EnvTracesExporter: "otlp", EnvProtocol: ProtocolGRPC, EnvEndpoint: "http://" + ln.Addr().String(),
	})
	if names := got.list(); len(names) != 1 || names[0] != "send topic" {
		t.Fatalf("received %v, want the one span", names)
	}
}
