{{/*
How both services reach a secured Kafka: TLS (a CA bundle, optionally a client
certificate for mutual TLS) and SASL, from Kubernetes Secrets mounted as files
(Strimzi: the <cluster>-cluster-ca-cert Secret and the KafkaUser's Secret).
The services treat a variable that is set but empty as an error, so each one
is set only when it has a value; with the defaults none is.
*/}}

{{- define "streamgate.kafkaCADir" -}}/etc/streamgate/kafka/ca{{- end }}
{{- define "streamgate.kafkaUserDir" -}}/etc/streamgate/kafka/user{{- end }}

{{- define "streamgate.kafkaSecurityEnv" -}}
{{- $tls := .Values.kafka.tls }}
{{- $sasl := .Values.kafka.sasl }}
{{- if $tls.enabled }}
- name: KAFKA_TLS_ENABLED
  value: "true"
{{- end }}
{{- if $tls.caSecret.name }}
- name: KAFKA_TLS_CA_FILE
  value: {{ printf "%s/ca.crt" (include "streamgate.kafkaCADir" .) | quote }}
{{- end }}
{{- if $tls.clientCertSecret.name }}
- name: KAFKA_TLS_CERT_FILE
  value: {{ printf "%s/user.crt" (include "streamgate.kafkaUserDir" .) | quote }}
- name: KAFKA_TLS_KEY_FILE
  value: {{ printf "%s/user.key" (include "streamgate.kafkaUserDir" .) | quote }}
{{- end }}
{{- with $tls.serverName }}
- name: KAFKA_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- if $tls.insecureSkipVerify }}
- name: KAFKA_TLS_INSECURE_SKIP_VERIFY
  value: "true"
{{- end }}
{{- with $sasl.mechanism }}
- name: KAFKA_SASL_MECHANISM
  value: {{ . | quote }}
- name: KAFKA_SASL_USERNAME
  value: {{ $sasl.username | quote }}
- name: KAFKA_SASL_PASSWORD_FILE
  value: {{ printf "%s/password" (include "streamgate.kafkaUserDir" .) | quote }}
{{- end }}
{{- end }}

{{/*
The Secrets as read-only files, group-readable by the pod's fsGroup. No
subPath: the kubelet then updates the files when a Secret changes, and the
services read them at every connection attempt.
*/}}
{{- define "streamgate.kafkaVolumes" -}}
{{- $tls := .Values.kafka.tls }}
{{- $sasl := .Values.kafka.sasl }}
{{- if $tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ $tls.caSecret.name }}
    defaultMode: 0440
    items:
      - key: {{ $tls.caSecret.key }}
        path: ca.crt
{{- end }}
{{- if or $tls.clientCertSecret.name $sasl.mechanism }}
- name: kafka-user
  projected:
    defaultMode: 0440
    sources:
      {{- with $tls.clientCertSecret }}
      {{- if .name }}
      - secret:
          name: {{ .name }}
          items:
            - key: {{ .certKey }}
              path: user.crt
            - key: {{ .keyKey }}
              path: user.key
      {{- end }}
      {{- end }}
      {{- if $sasl.mechanism }}
      - secret:
          name: {{ $sasl.passwordSecret.name }}
          items:
            - key: {{ $sasl.passwordSecret.key }}
              path: password
      {{- end }}
{{- end }}
{{- end }}

{{- define "streamgate.kafkaVolumeMounts" -}}
{{- if .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: {{ include "streamgate.kafkaCADir" . }}
  readOnly: true
{{- end }}
{{- if or .Values.kafka.tls.clientCertSecret.name .Values.kafka.sasl.mechanism }}
- name: kafka-user
  mountPath: {{ include "streamgate.kafkaUserDir" . }}
  readOnly: true
{{- end }}
{{- end }}

{{/*
The combinations the services would refuse at start-up, refused at install.
*/}}
{{- define "streamgate.validateKafkaSecurity" -}}
{{- $tls := .Values.kafka.tls }}
{{- $sasl := .Values.kafka.sasl }}
{{- if not $tls.enabled }}
{{- range $name, $set := dict "caSecret.name" $tls.caSecret.name "clientCertSecret.name" $tls.clientCertSecret.name "serverName" $tls.serverName "insecureSkipVerify" $tls.insecureSkipVerify }}
{{- if $set }}
{{- fail (printf "kafka.tls.%s is set but kafka.tls.enabled is false: enable TLS or remove it" $name) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and $tls.insecureSkipVerify $tls.caSecret.name }}
{{- fail "kafka.tls.insecureSkipVerify and kafka.tls.caSecret.name contradict each other: skipping verification ignores the CA" }}
{{- end }}
{{- if $sasl.mechanism }}
{{- if not $sasl.username }}
{{- fail (printf "kafka.sasl.mechanism=%s needs kafka.sasl.username" $sasl.mechanism) }}
{{- end }}
{{- if not $sasl.passwordSecret.name }}
{{- fail (printf "kafka.sasl.mechanism=%s needs kafka.sasl.passwordSecret.name (Strimzi: the KafkaUser's Secret)" $sasl.mechanism) }}
{{- end }}
{{- else if or $sasl.username $sasl.passwordSecret.name }}
{{- fail "kafka.sasl.username and kafka.sasl.passwordSecret.name need kafka.sasl.mechanism" }}
{{- end }}
{{- end }}
