<?php
/*
 * wp-config.php of Urumi's wordpress image: the entrypoint copies this file to
 * the web root on first start when WORDPRESS_* variables are set, with each
 * 'put your unique phrase here' replaced by a random string. Every setting
 * comes from the environment at run time (VAR, or the file named by VAR_FILE),
 * as in the official image, so the setup Job's wp-cli reads the same values.
 */

if (!function_exists('getenv_docker')) {
	// Same name as the official image's helper: WORDPRESS_CONFIG_EXTRA may call it.
	function getenv_docker($name, $default) {
		$file = getenv($name . '_FILE');
		if ($file) {
			return rtrim(file_get_contents($file), "\r\n");
		}
		$value = getenv($name);
		return $value === false ? $default : $value;
	}
}

foreach (array(
	'DB_NAME' => 'wordpress',
	'DB_USER' => 'example username',
	'DB_PASSWORD' => 'example password',
	'DB_HOST' => 'mysql',
	'DB_CHARSET' => 'utf8mb4',
	'DB_COLLATE' => '',
) as $constant => $default) {
	define($constant, getenv_docker('WORDPRESS_' . $constant, $default));
}

define('AUTH_KEY',         getenv_docker('WORDPRESS_AUTH_KEY',         'put your unique phrase here'));
define('SECURE_AUTH_KEY',  getenv_docker('WORDPRESS_SECURE_AUTH_KEY',  'put your unique phrase here'));
define('LOGGED_IN_KEY',    getenv_docker('WORDPRESS_LOGGED_IN_KEY',    'put your unique phrase here'));
define('NONCE_KEY',        getenv_docker('WORDPRESS_NONCE_KEY',        'put your unique phrase here'));
define('AUTH_SALT',        getenv_docker('WORDPRESS_AUTH_SALT',        'put your unique phrase here'));
define('SECURE_AUTH_SALT', getenv_docker('WORDPRESS_SECURE_AUTH_SALT', 'put your unique phrase here'));
define('LOGGED_IN_SALT',   getenv_docker('WORDPRESS_LOGGED_IN_SALT',   'put your unique phrase here'));
define('NONCE_SALT',       getenv_docker('WORDPRESS_NONCE_SALT',       'put your unique phrase here'));

$table_prefix = getenv_docker('WORDPRESS_TABLE_PREFIX', 'wp_');

define('WP_DEBUG', (bool) getenv_docker('WORDPRESS_DEBUG', ''));

// Behind an ingress that terminates TLS: trust its X-Forwarded-Proto.
if (isset($_SERVER['HTTP_X_FORWARDED_PROTO']) && strpos($_SERVER['HTTP_X_FORWARDED_PROTO'], 'https') !== false) {
	$_SERVER['HTTPS'] = 'on';
}

$urumi_config_extra = getenv_docker('WORDPRESS_CONFIG_EXTRA', '');
if ($urumi_config_extra !== '') {
	eval($urumi_config_extra);
}
unset($urumi_config_extra);

/* That's all, stop editing! Happy publishing. */

if (!defined('ABSPATH')) {
	define('ABSPATH', __DIR__ . '/');
}

require_once ABSPATH . 'wp-settings.php';
