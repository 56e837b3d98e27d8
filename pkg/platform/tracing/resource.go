package tracing

import (
	"strings"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// The variables the charts fill from the downward API (metadata.name, metadata.namespace),
// so a span says which pod sent it.
const (
	EnvPodName      = "POD_NAME"
	EnvPodNamespace = "POD_NAMESPACE"
)

// instanceAttributes say which instance of the service a span comes from:
// service.instance.id (the pod's name in Kubernetes, where it is unique in its
// namespace; otherwise a UUID for this process), k8s.pod.name and k8s.namespace.name.
// host.name comes from resource.WithHost.
func instanceAttributes(getenv func(string) (string, bool)) []attribute.KeyValue {
	get := func(name string) string {
		v, _ := getenv(name)
		return strings.TrimSpace(v)
	}
	pod, namespace := get(EnvPodName), get(EnvPodNamespace)
	var attrs []attribute.KeyValue
	switch {
	case pod != "" && namespace != "":
		attrs = append(attrs, semconv.ServiceInstanceID(namespace+"/"+pod))
	case pod != "":
		attrs = append(attrs, semconv.ServiceInstanceID(pod))
	default:
		attrs = append(attrs, semconv.ServiceInstanceID(uuid.NewString()))
	}
	if pod != "" {
		attrs = append(attrs, semconv.K8SPodName(pod))
	}
	if namespace != "" {
		attrs = append(attrs, semconv.K8SNamespaceName(namespace))
	}
	return attrs
}
