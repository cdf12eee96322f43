{{/* The store's namespace: store-<id>. */}}
{{- define "medusa.namespace" -}}
store-{{ .Values.store.id }}
{{- end }}

{{/* Labels on every object; the watcher selects on these (services/contracts/labels.py). */}}
{{- define "medusa.labels" -}}
{{ include "medusa.identityLabels" . }}
urumi.dev/plan: {{ .Values.plan }}
{{- end }}

{{/* The labels that never change for a store: for what cannot be updated in place
     (a StatefulSet's volume claim templates), since the plan can change. */}}
{{- define "medusa.identityLabels" -}}
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
{{- define "medusa.stableLabels" -}}
{{ include "medusa.identityLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Labels plus the component: `include "medusa.componentLabels" (list . "web")`.
     The watcher derives readiness per component: database and cache (Postgres,
     Redis), web and worker (Medusa server and worker), setup (the Job). */}}
{{- define "medusa.componentLabels" -}}
{{ include "medusa.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Stable pod selector of one tier (selectors are immutable: no plan or generation). */}}
{{- define "medusa.selector" -}}
app.kubernetes.io/instance: {{ (index . 0).Values.store.id }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "medusa.image" -}}
{{ .repository }}:{{ .tag }}
{{- end }}

{{/* The engine's own address: the store's first own domain, else its platform host. */}}
{{- define "medusa.url" -}}
{{ include "medusa.hostUrl" (list . (first .Values.store.domains | default .Values.store.host)) }}
{{- end }}

{{/* The URL of a host the store answers on: `include "medusa.hostUrl" (list . host)`. */}}
{{- define "medusa.hostUrl" -}}
{{- $v := (index . 0).Values -}}
{{ if ne $v.ingress.tls.mode "none" }}https{{ else }}http{{ end }}://{{ index . 1 }}{{ with $v.ingress.port }}:{{ . }}{{ end }}
{{- end }}

{{/* The TLS Secret (and cert-manager Certificate) of one of the store's own domains. */}}
{{- define "medusa.domainSecret" -}}
domain-{{ . | replace "." "-" | trunc 40 | trimSuffix "-" }}-{{ . | sha256sum | trunc 8 }}-tls
{{- end }}

{{/* Container hardening required by the `restricted` Pod Security level. */}}
{{- define "medusa.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Pod-level security context for a user id: `include "medusa.podSecurity" 999`. */}}
{{- define "medusa.podSecurity" -}}
runAsUser: {{ . }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
runAsNonRoot: true
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "medusa.secretEnv" -}}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ (index . 1).Values.secretName }}
      key: {{ index . 2 }}
{{- end }}

{{/* What every Medusa process needs: database, Redis, secrets, CORS. Passwords
     come from the Secret and are spliced into the URLs by Kubernetes' $(VAR)
     expansion (they are URL-safe), so no value ever holds them. */}}
{{- define "medusa.appEnv" -}}
{{- $db := .Values.database -}}
{{- $url := include "medusa.url" . -}}
{{- /* Browsers may call it from every host the store answers on. */ -}}
{{- $origins := list -}}
{{- range prepend .Values.store.domains .Values.store.host -}}
{{- $origins = append $origins (include "medusa.hostUrl" (list $ .)) -}}
{{- end -}}
- name: NODE_ENV
  value: production
- name: HOME
  value: /tmp
- name: npm_config_cache
  value: /tmp/.npm
- name: npm_config_update_notifier
  value: "false"
- name: MEDUSA_DISABLE_TELEMETRY
  value: "true"
{{ include "medusa.secretEnv" (list "POSTGRES_PASSWORD" . .Values.secretKeys.databasePassword) }}
- name: DATABASE_URL
  value: "postgres://{{ $db.user }}:$(POSTGRES_PASSWORD)@postgres:5432/{{ $db.name }}?sslmode=disable"
{{ include "medusa.secretEnv" (list "REDIS_PASSWORD" . .Values.secretKeys.redisPassword) }}
- name: REDIS_URL
  value: "redis://:$(REDIS_PASSWORD)@redis:6379"
{{ include "medusa.secretEnv" (list "JWT_SECRET" . .Values.secretKeys.jwtSecret) }}
{{ include "medusa.secretEnv" (list "COOKIE_SECRET" . .Values.secretKeys.cookieSecret) }}
- name: STORE_CORS
  value: {{ join "," $origins | quote }}
- name: ADMIN_CORS
  value: {{ join "," $origins | quote }}
- name: AUTH_CORS
  value: {{ join "," $origins | quote }}
# Where uploaded files are served (the server's /static, on the store's own
# host): medusa-config.ts hands it to the local file provider, whose default
# is http://localhost:9000/static.
- name: MEDUSA_FILE_URL
  value: {{ printf "%s/static" $url | quote }}
{{- end }}

{{/* Shell helpers over the app's own `pg` module. `db_query SQL [PARAM...]`
     exits 0 when the query returns a row, 1 when it returns none, 2 when the
     database cannot answer, 3 when the image has no `pg` module (127: no
     `node`), saying why on stderr. `wait_for SECONDS WHAT SQL [PARAM...]`
     polls until the query returns a row, logging why not each time; a broken
     image stops it at once, since waiting cannot mend it, and its message ends
     the container's log (the termination message the watcher reports). */}}
{{- define "medusa.dbHelpers" -}}
db_query() {
  node -e '
    let pg;
    try {
      pg = require(require.resolve("pg", { paths: [process.cwd()] }));
    } catch (e) { console.error(e.message); process.exit(3); }
    const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
    db.connect()
      .then(() => db.query(process.argv[1], process.argv.slice(2)))
      .then((r) => db.end().then(() => process.exit(r.rowCount > 0 ? 0 : 1)))
      .catch((e) => { console.error(e.message); process.exit(2); });
  ' "$@"
}
wait_for() {
  every=$1; what=$2; shift 2
  while :; do
    rc=0; out=$(db_query "$@" 2>&1) || rc=$?
    case $rc in
      0) return 0 ;;
      1) echo "waiting for $what" ;;
      2) echo "waiting for $what: the database does not answer: $out" ;;
      *) echo "this image cannot query the database (exit $rc): $out" >&2; exit "$rc" ;;
    esac
    sleep "$every"
  done
}
{{- end }}

{{/* An init container that holds a Medusa process until the setup Job has
     migrated the database and created the admin user, so the server and worker
     never start against a missing schema (and crash-loop meanwhile). In a
     generation that restores a backup it also waits for that restore's mark
     (its pod template names it, so the old pods go first: the server's
     strategy is Recreate), so no shopper is served half-loaded data. */}}
{{- define "medusa.waitForSetup" -}}
- name: wait-for-setup
  image: {{ include "medusa.image" .Values.images.medusa }}
  imagePullPolicy: {{ .Values.images.pullPolicy }}
  workingDir: {{ .Values.medusa.workdir }}
  command: [/bin/sh, -c]
  args:
    - |
      {{- include "medusa.dbHelpers" . | nindent 6 }}
      {{- with include "medusa.restoreMark" . }}
      wait_for 5 "the restore of {{ . }}" \
        'SELECT 1 FROM urumi_restores WHERE mark = $1' {{ . | squote }}
      {{- end }}
      wait_for 5 "the setup job (migrations, admin user)" \
        'SELECT 1 FROM "user" WHERE deleted_at IS NULL LIMIT 1'
  terminationMessagePolicy: FallbackToLogsOnError
  env:
    {{- include "medusa.appEnv" . | nindent 4 }}
  resources:
    {{- toYaml .Values.waitForSetup.resources | nindent 4 }}
  securityContext:
    {{- include "medusa.containerSecurity" . | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end }}

{{/* Where the store's pods run: the operator's node selector and tolerations
     (e.g. the devcluster's real node), the same for every tier. */}}
{{- define "medusa.scheduling" -}}
{{- with .Values.scheduling.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.scheduling.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* A workload's replicas: `n`, or none while the store is asleep:
     `include "medusa.replicas" (list . n)`. */}}
{{- define "medusa.replicas" -}}
{{ if (index . 0).Values.sleep.asleep }}0{{ else }}{{ index . 1 }}{{ end }}
{{- end }}

{{/* The Service the Ingress routes to: the tier's own, or the platform's
     "asleep" page (templates/sleep.yaml) while the store is asleep. */}}
{{- define "medusa.backend" -}}
{{ if (index . 0).Values.sleep.asleep }}sleep-page{{ else }}{{ index . 1 }}{{ end }}
{{- end }}


{{/* rclone's remote `store:` from the environment: the platform's object
     storage, its keys from the Secret the provisioner copies into the store's
     namespace (never a value). */}}
{{- define "medusa.backupStorageEnv" -}}
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
  value: {{ printf "store:%s/%s" $s.bucket (include "medusa.backupPath" (list . .Values.store.id)) | quote }}
{{- end }}

{{/* A store's backups under the bucket: `include "medusa.backupPath" (list . id)`. */}}
{{- define "medusa.backupPath" -}}
{{- $prefix := trimAll "/" (index . 0).Values.backup.storage.prefix -}}
{{ if $prefix }}{{ $prefix }}/{{ end }}{{ index . 1 }}
{{- end }}

{{/* Upload the backup, say its size (the Job's termination message, which the
     watcher reports), then drop what is past the plan's retention. */}}
{{- define "medusa.uploadScript" -}}
set -eu
rclone copy --s3-no-check-bucket /backup "$STORE_PATH/$BACKUP"
size=$(rclone size --json "$STORE_PATH/$BACKUP" | sed -n 's/.*"bytes":\([0-9]*\).*/\1/p')
echo "uploaded $BACKUP: ${size:-0} bytes"
rclone delete --min-age {{ .Values.backup.retentionDays }}d "$STORE_PATH" || echo "expired backups not removed"
rclone rmdirs --leave-root "$STORE_PATH" || true
printf '{"size_bytes": %s}' "${size:-0}" > /dev/termination-log
{{- end }}

{{/* A restore (or a clone's first generation): the setup Job's first steps
     fetch the backup, load its dump in place of the database (the dump drops
     what it re-creates) and unpack its files, then rewrite the address the
     uploaded files were stored with; migrations run after, as usual. */}}
{{/* What a generation restoring a backup marks in the database once the
     backup is loaded ("" without a restore): the backup and the generation,
     so restoring the same backup again waits for its own load. */}}
{{- define "medusa.restoreMark" -}}
{{- with .Values.backup.restore.backup -}}
{{ $.Values.backup.restore.store }}/{{ . }}@{{ $.Values.store.generation }}
{{- end -}}
{{- end }}

{{- define "medusa.restoreInit" -}}
{{- $r := .Values.backup.restore -}}
{{- $db := .Values.database -}}
- name: fetch-backup
  image: {{ include "medusa.image" .Values.images.rclone }}
  imagePullPolicy: {{ .Values.images.pullPolicy }}
  command: [/bin/sh, -c]
  args:
    - rclone copy --s3-no-check-bucket "$SOURCE_PATH" /restore && ls -l /restore
  terminationMessagePolicy: FallbackToLogsOnError
  env:
    {{- include "medusa.backupStorageEnv" . | nindent 4 }}
    - name: SOURCE_PATH
      value: {{ printf "store:%s/%s/%s" .Values.backup.storage.bucket (include "medusa.backupPath" (list . $r.store)) $r.backup | quote }}
  resources:
    {{- toYaml .Values.backup.resources | nindent 4 }}
  securityContext:
    {{- include "medusa.containerSecurity" . | nindent 4 }}
  volumeMounts:
    - {name: restore, mountPath: /restore}
    - {name: tmp, mountPath: /tmp}
- name: restore-data
  image: {{ include "medusa.image" .Values.images.postgres }}
  imagePullPolicy: {{ .Values.images.pullPolicy }}
  command: [/bin/sh, -c]
  args:
    - |
      set -eu
      until pg_isready --host=postgres --username={{ $db.user | squote }} --dbname={{ $db.name | squote }}; do sleep 2; done
      gunzip -c /restore/database.sql.gz \
        | psql --quiet --set ON_ERROR_STOP=1 --host=postgres --username={{ $db.user | squote }} --dbname={{ $db.name | squote }}
      psql --set ON_ERROR_STOP=1 --host=postgres --username={{ $db.user | squote }} --dbname={{ $db.name | squote }} \
        --set old="$OLD_URL" --set new="$NEW_URL" <<'SQL'
      SELECT to_regclass('public.image') IS NOT NULL AS has_image \gset
      \if :has_image
      UPDATE image SET url = replace(url, :'old', :'new');
      UPDATE product SET thumbnail = replace(thumbnail, :'old', :'new');
      \endif
      SQL
      find /files -mindepth 1 -delete
      tar -xzf /restore/files.tar.gz -C /files
      # Loaded: the server and worker waiting for it may start.
      psql --set ON_ERROR_STOP=1 --host=postgres --username={{ $db.user | squote }} --dbname={{ $db.name | squote }} \
        --set mark={{ include "medusa.restoreMark" . | squote }} <<'SQL'
      CREATE TABLE IF NOT EXISTS urumi_restores (mark text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
      INSERT INTO urumi_restores (mark) VALUES (:'mark') ON CONFLICT DO NOTHING;
      SQL
      echo "restored {{ $r.store }}/{{ $r.backup }}"
  terminationMessagePolicy: FallbackToLogsOnError
  env:
    {{- include "medusa.secretEnv" (list "PGPASSWORD" . .Values.secretKeys.databasePassword) | nindent 4 }}
    - name: OLD_URL
      value: {{ replace .Values.store.host $r.host (include "medusa.url" .) | quote }}
    - name: NEW_URL
      value: {{ include "medusa.url" . | quote }}
  resources:
    {{- toYaml .Values.backup.resources | nindent 4 }}
  securityContext:
    {{- include "medusa.containerSecurity" . | nindent 4 }}
  volumeMounts:
    - {name: restore, mountPath: /restore}
    - {name: uploads, mountPath: /files}
{{- end }}
