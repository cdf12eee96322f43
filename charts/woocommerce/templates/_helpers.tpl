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
