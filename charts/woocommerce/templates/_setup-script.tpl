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
if ! wp core is-installed; then
  wp core install --url="$STORE_URL" --title="$STORE_TITLE" \
    --admin_user="$WP_ADMIN_USER" --admin_password="$WP_ADMIN_PASSWORD" \
    --admin_email="$ADMIN_EMAIL" --skip-email
fi
wp option update home "$STORE_URL"
wp option update siteurl "$STORE_URL"
wp rewrite structure '/%postname%/'
wp plugin is-installed woocommerce || wp plugin install woocommerce
{{- with $setup.woocommerceVersion }} --version={{ . | squote }}{{ end }}
wp plugin activate woocommerce
wp theme is-installed storefront || wp theme install storefront
{{- with $setup.storefrontVersion }} --version={{ . | squote }}{{ end }}
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
