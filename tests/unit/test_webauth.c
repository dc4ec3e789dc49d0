/*
 * Unit tests for lib/webauth.c and lib/tls.c's option checks: the viewers'
 * file read line by line (what is refused names the file and line), the
 * counter appended to /metrics' text, TLS options that do not go
 * together.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"
#include "tls.h"
#include "webauth.h"

/* "$6$salt$..." of "pw", as openssl passwd -6 -salt abcdefgh pw makes */
#define SHA_CRYPT "$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8" \
	"PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG."

static struct webauth *
auth_of(const char *text, struct why *why)
{
	char path[256];

	put("users", text);
	snprintf(path, sizeof(path), "%s/users", root);
	chmod(path, 0600);
	return webauth_new(path, NULL, why);
}

static void
test_file(void **state)
{
	struct webauth *a;
	struct why why;

	(void)state;
	a = auth_of("# viewers\n\nana:" SHA_CRYPT "\n", &why);
	assert_non_null(a);
	assert_int_equal(webauth_failures(a), 0);
	webauth_free(a);

	assert_null(auth_of("ana:" SHA_CRYPT "\nbo:plain\n", &why));
	assert_non_null(strstr(why.msg, "/users: line 2: bo: not a hash"));
	assert_null(auth_of("no colon\n", &why));
	assert_non_null(strstr(why.msg, "line 1: want name:hash"));
	assert_null(auth_of(":" SHA_CRYPT "\n", &why));
	assert_non_null(strstr(why.msg, "line 1: want name:hash"));
	assert_null(auth_of("# nobody\n", &why));
	assert_non_null(strstr(why.msg, "no user"));
	assert_null(webauth_new("/nonexistent/users", NULL, &why));
	assert_string_equal(why.msg, "--auth-file: /nonexistent/users: "
	    "No such file or directory");
}

static void
test_metrics(void **state)
{
	struct webauth *a;
	struct why why;
	char *text;

	(void)state;
	a = auth_of("ana:" SHA_CRYPT "\n", &why);
	assert_non_null(a);
	text = webauth_metrics(a, strdup("x 1\n"));
	assert_non_null(text);
	assert_non_null(strstr(text,
	    "x 1\n# HELP sm_tail_auth_failures_total"));
	assert_non_null(strstr(text, "\n# TYPE sm_tail_auth_failures_total "
	    "counter\nsm_tail_auth_failures_total 0\n"));
	free(text);
	/* no authentication: the text as it was */
	text = strdup("x 1\n");
	assert_ptr_equal(webauth_metrics(NULL, text), text);
	free(text);
	webauth_free(a);
}

static void
test_tls_options(void **state)
{
	struct tls_opts o = { 0 };
	struct why why;

	(void)state;
	assert_false(tls_given(&o));
	assert_int_equal(tls_load(&o, &why), 0);
	assert_int_equal(tls_opt(&o, 'x', "f"), 0);
	assert_int_equal(tls_opt(&o, TLS_OPT_CERT, "/nonexistent/c.pem"), 1);
	assert_true(tls_given(&o));
	assert_int_equal(tls_load(&o, &why), -1);
	assert_string_equal(why.msg, "--tls-cert and --tls-key go together");
	assert_int_equal(tls_opt(&o, TLS_OPT_KEY, "/nonexistent/k.pem"), 1);
	assert_int_equal(tls_load(&o, &why), -1);
	assert_string_equal(why.msg, "/nonexistent/c.pem: No such file or "
	    "directory");
	assert_null(o.cert);
	assert_null(o.key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_tls_options),
	};

	return cmocka_run_group_tests(tests, fixture_new, fixture_remove);
}
