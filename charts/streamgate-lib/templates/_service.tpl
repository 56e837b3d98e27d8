{{/*
The ClusterIP Service in front of the service port. Takes
(dict "root" $ "portName" "http").
*/}}
{{- define "streamgate.service" -}}
{{- with .root -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "streamgate.fullname" . }}
  labels:
    {{- include "streamgate.labels" . | nindent 4 }}
  {{- with .Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - name: {{ $.portName }}
      port: {{ .Values.service.port }}
      targetPort: {{ $.portName }}
      protocol: TCP
  selector:
    {{- include "streamgate.selectorLabels" . | nindent 4 }}
{{- end }}
{{- end }}
