{{/*
Labels of the helm test Pods: not the Deployment's selector labels, so the
Service never picks them.
*/}}
{{- define "streamgate.testSelectorLabels" -}}
app.kubernetes.io/name: {{ include "streamgate.name" . }}-test
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
A helm test Pod running a busybox shell script, as hardened as the service.
Bound calls with `timeout N wget`: some busybox builds (Debian's) crash on
`wget -T`.
Takes (dict "root" $ "name" "ping" "env" "<EnvVar list>" "script" "...").
*/}}
{{- define "streamgate.testPod" -}}
{{- with .root -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "streamgate.fullname" . }}-test-{{ $.name }}
  # Not the Deployment's selector labels: the Service must not pick this Pod.
  labels:
    helm.sh/chart: {{ include "streamgate.chart" . }}
    {{- include "streamgate.testSelectorLabels" . | nindent 4 }}
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    app.kubernetes.io/component: test
    app.kubernetes.io/part-of: streamgate
  annotations:
    helm.sh/hook: test
    # Kept after the run, so `helm test --logs` can read its log; the next
    # `helm test` replaces it. (hook-succeeded would delete it first.)
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  containers:
    - name: {{ $.name }}
      image: {{ printf "%s:%s" .Values.tests.image.repository .Values.tests.image.tag | quote }}
      imagePullPolicy: {{ .Values.tests.image.pullPolicy }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      env:
        {{- $.env | nindent 8 }}
      command:
        - sh
        - -c
        - |
          {{- $.script | nindent 10 }}
      resources:
        requests:
          cpu: 10m
          memory: 16Mi
        limits:
          cpu: 100m
          memory: 32Mi
{{- end }}
{{- end }}
