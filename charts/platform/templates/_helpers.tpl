{{/* Object name prefix: the release name, so two releases never collide
(ClusterRoles are cluster-wide). */}}
{{- define "platform.fullname" -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end }}

{{- define "platform.name" -}}
{{ include "platform.fullname" (index . 0) }}-{{ index . 1 }}
{{- end }}

{{- define "platform.labels" -}}
app.kubernetes.io/name: urumi
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: urumi-platform
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* `include "platform.componentLabels" (list . "gateway")` */}}
{{- define "platform.componentLabels" -}}
{{ include "platform.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Immutable selector: release + component only. */}}
{{- define "platform.selector" -}}
app.kubernetes.io/name: urumi
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "platform.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "platform.secretName" -}}
{{ include "platform.fullname" . }}-secrets
{{- end }}

{{- define "platform.adminSecretName" -}}
{{ .Values.adminToken.existingSecret | default (include "platform.secretName" .) }}
{{- end }}

{{- define "platform.adminSecretKey" -}}
{{ ternary .Values.adminToken.existingSecretKey "admin-token" (ne .Values.adminToken.existingSecret "") }}
{{- end }}

{{- define "platform.ticketSecretName" -}}
{{ .Values.ticketSecret.existingSecret | default (include "platform.secretName" .) }}
{{- end }}

{{- define "platform.ticketSecretKey" -}}
{{ ternary .Values.ticketSecret.existingSecretKey "ticket-secret" (ne .Values.ticketSecret.existingSecret "") }}
{{- end }}

{{- define "platform.natsBundled" -}}
{{- if not (or .Values.nats.external.url .Values.nats.external.existingSecret) }}true{{ end -}}
{{- end }}

{{/* Client Service of the bundled NATS. */}}
{{- define "platform.natsHost" -}}
{{ include "platform.fullname" . }}-nats.{{ .Release.Namespace }}.svc
{{- end }}

{{/* URUMI_NATS_URL for one service: `include "platform.natsEnv" (list . "gateway")`.
Bundled NATS: the service's own user, its password from the generated Secret
and expanded by the kubelet ($(VAR) needs the variable defined first). */}}
{{- define "platform.natsEnv" -}}
{{- $ := index . 0 }}{{ $user := index . 1 -}}
{{- if include "platform.natsBundled" $ -}}
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "platform.secretName" $ }}
      key: nats-{{ $user }}-password
- name: URUMI_NATS_URL
  value: nats://{{ $user }}:$(NATS_PASSWORD)@{{ include "platform.natsHost" $ }}:4222
{{- else if $.Values.nats.external.existingSecret -}}
- name: URUMI_NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.nats.external.existingSecret }}
      key: {{ $user }}
{{- else -}}
- name: URUMI_NATS_URL
  value: {{ $.Values.nats.external.url | quote }}
{{- end }}
{{- end }}

{{/* Public URL of the platform host. */}}
{{- define "platform.scheme" -}}
{{ if .Values.ingress.tls.enabled }}https{{ else }}http{{ end }}
{{- end }}

{{- define "platform.wsScheme" -}}
{{ if .Values.ingress.tls.enabled }}wss{{ else }}ws{{ end }}
{{- end }}

{{/* Probes on the service's HTTP port: liveness is the process, readiness its
dependencies (NATS, database, consumer, lease). */}}
{{- define "platform.probes" -}}
startupProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: http}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 3
{{- end }}

{{/* The parts every service pod shares: `include "platform.podCommon" (list . "gateway")`. */}}
{{- define "platform.podCommon" -}}
{{- $ := index . 0 }}{{ $svc := index . 1 }}{{ $cfg := index $.Values $svc -}}
serviceAccountName: {{ include "platform.name" (list $ $svc) }}
securityContext:
  {{- toYaml $.Values.podSecurityContext | nindent 2 }}
{{- with $.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $cfg.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $cfg.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $cfg.affinity }}
affinity:
  {{- toYaml $cfg.affinity | nindent 2 }}
{{- else }}
affinity:
  # Spread replicas over nodes when there are several.
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "platform.selector" (list $ $svc) | nindent 14 }}
{{- end }}
{{- end }}

{{/* The container parts every service shares. */}}
{{- define "platform.containerCommon" -}}
{{- $ := index . 0 }}{{ $svc := index . 1 -}}
image: {{ include "platform.image" $ }}
imagePullPolicy: {{ $.Values.image.pullPolicy }}
args: [{{ $svc }}]
ports:
  - name: http
    containerPort: 8080
    protocol: TCP
envFrom:
  - configMapRef:
      name: {{ include "platform.name" (list $ "config") }}
securityContext:
  {{- toYaml $.Values.securityContext | nindent 2 }}
resources:
  {{- toYaml (index $.Values $svc).resources | nindent 2 }}
{{ include "platform.probes" $ }}
{{- end }}

{{/* Restart pods when the shared settings change. */}}
{{- define "platform.configChecksum" -}}
checksum/config: {{ include (print .Template.BasePath "/config.yaml") . | sha256sum }}
{{- end }}

{{/* "true" when the gateway keeps its data in PostgreSQL (replicas may share it). */}}
{{- define "platform.gatewayPostgres" -}}
{{- if or .Values.gateway.database.url .Values.gateway.database.existingSecret }}true{{ end }}
{{- end }}

{{/* Where store backups go (stores.backups), for the provisioner. */}}
{{- define "platform.backupEnv" -}}
{{- with .Values.stores.backups }}
- name: URUMI_BACKUP_ENDPOINT
  value: {{ .endpoint | quote }}
- name: URUMI_BACKUP_BUCKET
  value: {{ .bucket | quote }}
- name: URUMI_BACKUP_PREFIX
  value: {{ .prefix | quote }}
- name: URUMI_BACKUP_REGION
  value: {{ .region | quote }}
{{- end }}
{{- end }}
