/* Unit tests for lib/dburl.c and lib/db.c: URLs, configuration, faults. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "db_impl.h"
#include "dburl.h"

static void
test_tcp(void **state)
{
	char d[256];
	struct why why;
	struct dburl u;

	(void)state;
	assert_int_equal(dburl_parse("mysql://sm@127.0.0.1:33306/sm", &u,
	    &why), 0);
	assert_string_equal(u.user, "sm");
	assert_null(u.password);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 33306);
	assert_string_equal(u.database, "sm");
	assert_null(u.socket);
	dburl_describe(&u, d, sizeof(d));
	assert_string_equal(d, "sm@127.0.0.1:33306/sm");
	dburl_free(&u);

	/* no user, no port; another scheme name; IPv6 */
	assert_int_equal(dburl_parse("MariaDB://db.example/metrics", &u, &why),
	    0);
	assert_null(u.user);
	assert_int_equal(u.port, 0);
	assert_string_equal(u.host, "db.example");
	dburl_describe(&u, d, sizeof(d));
	assert_string_equal(d, "db.example/metrics");
	dburl_free(&u);
	assert_int_equal(dburl_parse("mysql://u@[::1]:3307/x", &u, &why), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 3307);
	dburl_describe(&u, d, sizeof(d));
	assert_string_equal(d, "u@[::1]:3307/x");
	dburl_free(&u);
}

static void
test_socket_and_params(void **state)
{
	char d[256];
	struct why why;
	struct dburl u;

	(void)state;
	assert_int_equal(dburl_parse("mysql://sm@localhost/sm?socket="
	    "/run/my%20sql/s.sock&ssl-mode=REQUIRED&ssl-ca=/etc/ca.pem", &u,
	    &why), 0);
	assert_string_equal(u.socket, "/run/my sql/s.sock");
	assert_string_equal(u.ssl_mode, "REQUIRED");
	assert_string_equal(u.ssl_ca, "/etc/ca.pem");
	dburl_describe(&u, d, sizeof(d));
	assert_string_equal(d, "sm@localhost/sm?socket=/run/my sql/s.sock");
	dburl_free(&u);
	/* an empty host with a socket means localhost */
	assert_int_equal(dburl_parse("mysql:///sm?socket=/s", &u, &why), 0);
	assert_string_equal(u.host, "localhost");
	dburl_free(&u);
}

static void
test_password(void **state)
{
	const char *url = "mysql://sm:p%40ss:w@rd@h:1/db";
	char d[256];
	struct why why;
	struct dburl u;
	size_t off, len;

	(void)state;
	/* the last @ ends the user part; %40 is an @ too */
	assert_int_equal(dburl_parse(url, &u, &why), 0);
	assert_string_equal(u.user, "sm");
	assert_string_equal(u.password, "p@ss:w@rd");
	assert_string_equal(u.host, "h");
	dburl_describe(&u, d, sizeof(d));
	assert_null(strstr(d, "ss"));
	dburl_free(&u);
	assert_int_equal(dburl_password_span(url, &off, &len), 0);
	assert_int_equal(off, strlen("mysql://sm:"));
	assert_int_equal(len, strlen("p%40ss:w@rd"));
	assert_int_equal(dburl_password_span("mysql://sm@h/db", &off, &len),
	    -1);
	assert_int_equal(dburl_password_span("mysql://h/db?x=a:b@c", &off,
	    &len), -1);
}

static void
test_bad(void **state)
{
	static const char *bad[] = {
		"postgres://h/db", "mysql:/h/db", "mysql://h", "mysql://h/",
		"mysql://h/a/b", "mysql://h:/db", "mysql://h:0/db",
		"mysql://h:65536/db", "mysql://h:12a/db", "mysql://[::1/db",
		"mysql://[::1]x/db", "mysql://h/db#frag", "mysql://h/d%2",
		"mysql://h/d%zz", "mysql://h/d%00b", "mysql://h/db?socket",
		"mysql://h/db?socket=", "mysql://h/db?port=1",
		"mysql://h/db?socket=rel/path",
		"mysql://h/db?socket=/a&socket=/b",
	};
	struct why why;
	struct dburl u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dburl_parse(bad[i], &u, &why) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_true(why.msg[0] != '\0');
	}
	/* the reason never carries the password */
	assert_int_equal(dburl_parse("mysql://u:hunter2@h:99999/db", &u, &why),
	    -1);
	assert_null(strstr(why.msg, "hunter2"));
}

static void
test_config(void **state)
{
	struct why why;
	struct db_config c;
	enum db_ssl_mode m;

	(void)state;
	unsetenv("SM_DB");
	unsetenv("SM_DB_PASSWORD");
	assert_int_equal(db_config_init(&c, NULL, NULL, NULL, NULL, &why), -1);
	assert_string_equal(why.msg, "no database: give --db URL or set SM_DB");

	setenv("SM_DB", "mysql://a@h/db?ssl-mode=verify_identity", 1);
	setenv("SM_DB_PASSWORD", "from-env", 1);
	assert_int_equal(db_config_init(&c, NULL, NULL, NULL, NULL, &why), 0);
	assert_string_equal(c.password, "from-env");
	assert_false(c.password_in_url);
	assert_int_equal(c.ssl_mode, DB_SSL_VERIFY_IDENTITY);
	db_config_free(&c);

	/* the URL's password wins; --ssl-mode wins over the URL's */
	assert_int_equal(db_config_init(&c, "mysql://a:in-url@h/db"
	    "?ssl-mode=REQUIRED", NULL, "disabled", NULL, &why), 0);
	assert_string_equal(c.password, "in-url");
	assert_true(c.password_in_url);
	assert_int_equal(c.ssl_mode, DB_SSL_DISABLED);
	db_config_free(&c);

	assert_int_equal(db_config_init(&c, "mysql://h/db", NULL, "sometimes",
	    NULL, &why), -1);
	assert_non_null(strstr(why.msg, "ssl-mode"));
	assert_int_equal(db_config_init(&c, "mysql://h/db", "/nonexistent/f",
	    NULL, NULL, &why), -1);
	assert_string_equal(why.msg,
	    "/nonexistent/f: No such file or directory");
	assert_int_equal(db_config_init(&c, "mysql://h/db", NULL, NULL,
	    "/nonexistent/ca", &why), -1);
	unsetenv("SM_DB");
	unsetenv("SM_DB_PASSWORD");

	assert_int_equal(db_ssl_mode_parse("Verify_CA", &m), 0);
	assert_int_equal(m, DB_SSL_VERIFY_CA);
	assert_int_equal(db_ssl_mode_parse("", &m), -1);
}

static void
test_faults(void **state)
{
	(void)state;
	assert_int_equal(db_fault_of(0), DB_FAULT_NONE);
	assert_int_equal(db_fault_of(CR_SERVER_GONE_ERROR),
	    DB_FAULT_CONNECTION);
	assert_int_equal(db_fault_of(CR_SERVER_LOST), DB_FAULT_CONNECTION);
	assert_int_equal(db_fault_of(CR_CONN_HOST_ERROR), DB_FAULT_CONNECTION);
	assert_int_equal(db_fault_of(ER_SERVER_SHUTDOWN), DB_FAULT_CONNECTION);
	assert_int_equal(db_fault_of(ER_ACCESS_DENIED_ERROR),
	    DB_FAULT_CONFIG);
	assert_int_equal(db_fault_of(ER_BAD_DB_ERROR), DB_FAULT_CONFIG);
	assert_int_equal(db_fault_of(ER_LOCK_DEADLOCK), DB_FAULT_RETRY);
	assert_int_equal(db_fault_of(ER_LOCK_WAIT_TIMEOUT), DB_FAULT_RETRY);
	assert_int_equal(db_fault_of(ER_WARN_DATA_OUT_OF_RANGE),
	    DB_FAULT_DATA);
	assert_int_equal(db_fault_of(ER_DATA_TOO_LONG), DB_FAULT_DATA);
	assert_int_equal(db_fault_of(ER_NO_SUCH_TABLE), DB_FAULT_OTHER);
	/* a TLS stream cut short under a statement: the server went */
	assert_int_equal(db_fault_of(CR_SSL_CONNECTION_ERROR),
	    DB_FAULT_CONNECTION);
	assert_true(db_is_lost(CR_SSL_CONNECTION_ERROR));
	assert_true(db_is_lost(CR_SERVER_LOST));
	assert_true(db_is_lost(CR_SERVER_GONE_ERROR));
	assert_false(db_is_lost(CR_CONN_HOST_ERROR));
	assert_false(db_is_lost(ER_ACCESS_DENIED_ERROR));
}

static void
test_hints_and_local(void **state)
{
	static const struct {
		const char *url;
		bool local;
	} urls[] = {
		{ "mysql://a@localhost/db", true },
		{ "mysql://a@127.0.0.1:3307/db", true },
		{ "mysql://a@127.1.2.3/db", true },
		{ "mysql://a@[::1]:3307/db", true },
		{ "mysql://a@localhost/db?socket=/run/x.sock", true },
		{ "mysql://a@db.example:3306/db", false },
		{ "mysql://a@10.0.0.1/db", false },
		{ "mysql://a@127.example/db", false },
	};
	struct db_config c;
	struct why why;
	size_t i;

	(void)state;
	assert_non_null(strstr(db_connect_hint(ER_ACCESS_DENIED_ERROR),
	    "SM_DB_PASSWORD"));
	assert_non_null(strstr(db_connect_hint(ER_ACCESS_DENIED_ERROR),
	    "option file"));
	assert_non_null(strstr(db_connect_hint(CR_CONN_HOST_ERROR),
	    "host and port"));
	assert_non_null(strstr(db_connect_hint(CR_CONNECTION_ERROR),
	    "host and port"));
	assert_null(db_connect_hint(ER_NO_SUCH_TABLE));
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		assert_int_equal(db_config_init(&c, urls[i].url, NULL, NULL,
		    NULL, &why), 0);
		if (db_is_local(&c) != urls[i].local)
			fail_msg("%s: local %d", urls[i].url, !urls[i].local);
		db_config_free(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_socket_and_params),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_hints_and_local),
	};

	return cmocka_run_group_tests_name("dburl", tests, NULL, NULL);
}
