{{/* The setup Job's script. Every step checks before it changes, so a re-run
     (retry, re-apply, new generation) converges instead of failing. */}}
{{- define "woocommerce.setupScript" -}}
{{- $setup := .Values.setup -}}
set -eu
mkdir -p /tmp/php
echo 'memory_limit = {{ $setup.phpMemoryLimit }}' > /tmp/php/urumi.ini
# The web container copies WordPress and writes wp-config.php on first start;
# wait for that and for the database (the Job's deadline bounds the wait).
until [ -f wp-config.php ] && wp db query 'SELECT 1' >/dev/null 2>&1; do
  echo "waiting for WordPress files and the database"; sleep 5
done
{{- with .Values.backup.dumpBefore }}
{{- $name := printf "pre-%s-gen%v.sql.gz" . $.Values.store.generation }}
# Before release {{ . }} touches the database (the updates below): a dump it
# can be restored from, under a temporary name then renamed, so a dump that
# exists is whole; a retried Job keeps the first (taken before any update ran).
# On the web volume, where Apache is told not to serve it.
mkdir -p wp-content/urumi-backups
printf 'Require all denied\n' > wp-content/urumi-backups/.htaccess
if [ ! -f wp-content/urumi-backups/{{ $name | squote }} ]; then
  wp db export /tmp/dump.part.sql
  gzip -f /tmp/dump.part.sql
  mv /tmp/dump.part.sql.gz wp-content/urumi-backups/{{ $name | squote }}
  echo "database dumped to wp-content/urumi-backups/{{ $name }}"
fi
ls -1t wp-content/urumi-backups/pre-*.sql.gz | tail -n +{{ add1 $.Values.backup.keep }} \
  | xargs -r rm -f --
{{- end }}
if ! wp core is-installed; then
  wp core install --url="$STORE_URL" --title="$STORE_TITLE" \
    --admin_user="$WP_ADMIN_USER" --admin_password="$WP_ADMIN_PASSWORD" \
    --admin_email="$ADMIN_EMAIL" --skip-email
fi
if [ -n "${RESTORED_HOST:-}" ] && [ "$RESTORED_HOST" != {{ .Values.store.host | squote }} ]; then
  # A clone: its data names the source's host (links, media, options, some
  # serialized). WordPress's own way to move a site; GUIDs stay as they were.
  wp search-replace "$RESTORED_HOST" {{ .Values.store.host | squote }} --skip-columns=guid \
    --all-tables-with-prefix --report-changed-only
fi
{{- if .Values.backup.restore.backup }}
# A restore or a clone: the data's admin has the password of the backup's
# time, or the source store's. The store's own credentials (its Secret, which
# the platform gives the tenant) sign in again; the user is made if the data
# has none of that name. The password comes from the environment.
if wp user get "$WP_ADMIN_USER" --field=ID >/dev/null 2>&1; then
  wp user update "$WP_ADMIN_USER" --user_pass="$WP_ADMIN_PASSWORD" --skip-email
else
  wp user create "$WP_ADMIN_USER" "$ADMIN_EMAIL" --role=administrator \
    --user_pass="$WP_ADMIN_PASSWORD"
fi
{{- end }}
wp option update home "$STORE_URL"
wp option update siteurl "$STORE_URL"
wp rewrite structure '/%postname%/'
{{- /* The WordPress the web image brings (its tag starts with major.minor). */}}
{{- with regexFind "^[0-9]+\\.[0-9]+" .Values.images.wordpress.tag }}
# A release upgrade: a newer web image never replaces the WordPress on the
# volume (its entrypoint copies one only into an empty volume), so bring the
# files up to the image's version, never down (database updates are one-way).
if wp eval 'exit(version_compare(get_bloginfo("version"), "{{ . }}", "<") ? 0 : 1);'; then
  wp core update --version={{ . | squote }}
fi
{{- end }}
# WordPress's database updates for the files it now has (none pending: no-op).
wp core update-db
{{- with $setup.woocommerceVersion }}
if ! wp plugin is-installed woocommerce; then
  wp plugin install woocommerce --version={{ . | squote }}
elif [ "$(wp plugin get woocommerce --field=version)" != {{ . | squote }} ]; then
  wp plugin update woocommerce --version={{ . | squote }}
fi
{{- else }}
wp plugin is-installed woocommerce || wp plugin install woocommerce
{{- end }}
wp plugin activate woocommerce
# WooCommerce's database updates for the version now active (none pending: no-op).
wp wc update
{{- with $setup.storefrontVersion }}
if ! wp theme is-installed storefront; then
  wp theme install storefront --version={{ . | squote }}
elif [ "$(wp theme get storefront --field=version)" != {{ . | squote }} ]; then
  wp theme update storefront --version={{ . | squote }}
fi
{{- else }}
wp theme is-installed storefront || wp theme install storefront
{{- end }}
wp theme activate storefront
wp option update woocommerce_currency {{ $setup.currency | squote }}
wp option update woocommerce_default_country {{ $setup.country | squote }}
wp option update woocommerce_cod_settings --format=json \
  '{"enabled":"yes","title":"Cash on delivery","description":"Pay with cash upon delivery.","instructions":"Pay with cash upon delivery.","enable_for_methods":[],"enable_for_virtual":"yes"}'
wp option update woocommerce_coming_soon no
wp option update woocommerce_store_pages_only no
{{- range $setup.products }}
if [ -z "$(wp wc product list --user="$WP_ADMIN_USER" --sku={{ .sku | squote }} --field=id)" ]; then
  wp wc product create --user="$WP_ADMIN_USER" --name={{ .name | squote }} \
    --sku={{ .sku | squote }} --regular_price={{ .price | squote }} --status=publish
fi
{{- end }}
echo "store configured"
{{- end }}
