{{/* The store's namespace: store-<id>. */}}
{{- define "woocommerce.namespace" -}}
store-{{ .Values.store.id }}
{{- end }}

{{/* Labels on every object; the watcher selects on these (services/contracts/labels.py). */}}
{{- define "woocommerce.labels" -}}
{{ include "woocommerce.identityLabels" . }}
urumi.dev/plan: {{ .Values.plan }}
{{- end }}

{{/* The labels that never change for a store: for what cannot be updated in place
     (a StatefulSet's volume claim templates), since the plan can change. */}}
{{- define "woocommerce.identityLabels" -}}
app.kubernetes.io/managed-by: urumi
app.kubernetes.io/part-of: urumi-store
app.kubernetes.io/instance: {{ .Values.store.id }}
urumi.dev/store: {{ .Values.store.id }}
urumi.dev/tenant: {{ .Values.store.tenant }}
urumi.dev/engine: {{ .Values.store.engine }}
{{- end }}

{{/* Identity labels plus the component, for what a plan change must leave alone:
     volume claim templates (immutable) and the setup Job's pod (a changed pod is a
     new Job, which would run the setup again). */}}
{{- define "woocommerce.stableLabels" -}}
{{ include "woocommerce.identityLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Labels plus the component: `include "woocommerce.componentLabels" (list . "web")`. */}}
{{- define "woocommerce.componentLabels" -}}
{{ include "woocommerce.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Stable pod selector of one tier (selectors are immutable: no plan or generation). */}}
{{- define "woocommerce.selector" -}}
app.kubernetes.io/instance: {{ (index . 0).Values.store.id }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "woocommerce.image" -}}
{{ .repository }}:{{ .tag }}
{{- end }}

{{/* The engine's own address: the store's first own domain, else its platform host. */}}
{{- define "woocommerce.url" -}}
{{ include "woocommerce.hostUrl" (list . (first .Values.store.domains | default .Values.store.host)) }}
{{- end }}

{{/* The URL of a host the store answers on: `include "woocommerce.hostUrl" (list . host)`. */}}
{{- define "woocommerce.hostUrl" -}}
{{- $v := (index . 0).Values -}}
{{ if ne $v.ingress.tls.mode "none" }}https{{ else }}http{{ end }}://{{ index . 1 }}{{ with $v.ingress.port }}:{{ . }}{{ end }}
{{- end }}

{{/* The TLS Secret (and cert-manager Certificate) of one of the store's own domains. */}}
{{- define "woocommerce.domainSecret" -}}
domain-{{ . | replace "." "-" | trunc 40 | trimSuffix "-" }}-{{ . | sha256sum | trunc 8 }}-tls
{{- end }}

{{/* Container hardening required by the `restricted` Pod Security level. */}}
{{- define "woocommerce.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "woocommerce.secretEnv" -}}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ (index . 1).Values.secretName }}
      key: {{ index . 2 }}
{{- end }}

{{/* WordPress's database settings, shared by the web tier and the setup Job. */}}
{{- define "woocommerce.wordpressEnv" -}}
- name: WORDPRESS_DB_HOST
  value: mariadb:3306
- name: WORDPRESS_DB_NAME
  value: {{ .Values.database.name | quote }}
- name: WORDPRESS_DB_USER
  value: {{ .Values.database.user | quote }}
{{ include "woocommerce.secretEnv" (list "WORDPRESS_DB_PASSWORD" . .Values.secretKeys.databasePassword) }}
{{- end }}

{{/* Where the store's pods run: the operator's node selector and tolerations
     (e.g. the devcluster's real node), the same for every tier. */}}
{{- define "woocommerce.scheduling" -}}
{{- with .Values.scheduling.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.scheduling.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Refuse a WooCommerce the chart has no WordPress minimum for, or a WordPress
     image older than that minimum (its tag starts with major.minor). */}}
{{- define "woocommerce.checkVersions" -}}
{{- $woo := .Values.setup.woocommerceVersion -}}
{{- $minor := regexFind "^[0-9]+\\.[0-9]+" $woo -}}
{{- $needs := index .Values.setup.wordpressFor $minor -}}
{{- if not $needs -}}
{{- fail (printf "setup.woocommerceVersion %s: no minimum WordPress for %s in setup.wordpressFor" $woo $minor) -}}
{{- end -}}
{{- $wp := regexFind "^[0-9]+\\.[0-9]+" .Values.images.wordpress.tag -}}
{{- if not (and $wp (semverCompare (printf ">=%s" $needs) $wp)) -}}
{{- fail (printf "setup.woocommerceVersion %s needs WordPress %s or newer; images.wordpress.tag is %s" $woo $needs .Values.images.wordpress.tag) -}}
{{- end -}}
{{- end }}

{{/* A workload's replicas: `n`, or none while the store is asleep:
     `include "woocommerce.replicas" (list . n)`. */}}
{{- define "woocommerce.replicas" -}}
{{ if (index . 0).Values.sleep.asleep }}0{{ else }}{{ index . 1 }}{{ end }}
{{- end }}

{{/* The Service the Ingress routes to: the tier's own, or the platform's
     "asleep" page (templates/sleep.yaml) while the store is asleep. */}}
{{- define "woocommerce.backend" -}}
{{ if (index . 0).Values.sleep.asleep }}sleep-page{{ else }}{{ index . 1 }}{{ end }}
{{- end }}

{{/* rclone's remote `store:` from the environment: the platform's object
     storage, its keys from the Secret the provisioner copies into the store's
     namespace (never a value). */}}
{{- define "woocommerce.backupStorageEnv" -}}
{{- $s := .Values.backup.storage -}}
- name: HOME
  value: /tmp
- name: RCLONE_CONFIG
  value: /tmp/rclone.conf
- name: RCLONE_CONFIG_STORE_TYPE
  value: s3
- name: RCLONE_CONFIG_STORE_PROVIDER
  value: Other
- name: RCLONE_CONFIG_STORE_ENDPOINT
  value: {{ $s.endpoint | quote }}
- name: RCLONE_CONFIG_STORE_REGION
  value: {{ $s.region | quote }}
- name: RCLONE_CONFIG_STORE_FORCE_PATH_STYLE
  value: "true"
- name: RCLONE_CONFIG_STORE_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef: {name: {{ $s.secretName }}, key: access-key-id}
- name: RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef: {name: {{ $s.secretName }}, key: secret-access-key}
- name: STORE_PATH
  value: {{ printf "store:%s/%s" $s.bucket (include "woocommerce.backupPath" (list . .Values.store.id)) | quote }}
{{- end }}

{{/* A store's backups under the bucket: `include "woocommerce.backupPath" (list . id)`. */}}
{{- define "woocommerce.backupPath" -}}
{{- $prefix := trimAll "/" (index . 0).Values.backup.storage.prefix -}}
{{ if $prefix }}{{ $prefix }}/{{ end }}{{ index . 1 }}
{{- end }}

{{/* Upload the backup, say its size (the Job's termination message, which the
     watcher reports), then drop what is past the plan's retention. */}}
{{- define "woocommerce.uploadScript" -}}
set -eu
rclone copy --s3-no-check-bucket /backup "$STORE_PATH/$BACKUP"
size=$(rclone size --json "$STORE_PATH/$BACKUP" | sed -n 's/.*"bytes":\([0-9]*\).*/\1/p')
echo "uploaded $BACKUP: ${size:-0} bytes"
rclone delete --min-age {{ .Values.backup.retentionDays }}d "$STORE_PATH" || echo "expired backups not removed"
rclone rmdirs --leave-root "$STORE_PATH" || true
printf '{"size_bytes": %s}' "${size:-0}" > /dev/termination-log
{{- end }}

{{/* Egress rules to the store's database and to DNS, for the pods that use both. */}}
{{- define "woocommerce.databaseAndDns" -}}
{{- $np := .Values.networkPolicy -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "woocommerce.selector" (list . "database") | nindent 10 }}
  ports:
    - protocol: TCP
      port: 3306
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ $np.dns.namespace }}
      {{- with $np.dns.podLabels }}
      podSelector:
        matchLabels:
          {{- toYaml . | nindent 10 }}
      {{- end }}
    {{- range $np.dns.ipBlocks }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end }}
