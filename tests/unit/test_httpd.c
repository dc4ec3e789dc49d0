/*
 * Unit tests for lib/httpd_listen.c (listen addresses) and lib/token.c
 * (the bearer token).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "httpd_listen.h"
#include "token.h"

static void
test_listen(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	char a[64];
	struct why why;
	socklen_t len;

	(void)state;
	/* a bare port is loopback only */
	assert_int_equal(httpd_parse_listen("8080", &ss, &len, &why), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(in->sin_port), 8080);
	inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
	assert_string_equal(a, "127.0.0.1");
	assert_int_equal(httpd_parse_listen("0.0.0.0:0", &ss, &len, &why), 0);
	assert_int_equal(ntohs(in->sin_port), 0);
	assert_int_equal(in->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(httpd_parse_listen("*:81", &ss, &len, &why), 0);
	assert_int_equal(in->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(httpd_parse_listen("[::1]:9", &ss, &len, &why), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(in6->sin6_port), 9);
	assert_int_equal(httpd_parse_listen("localhost:7", &ss, &len, &why),
	    0);

	assert_int_equal(httpd_parse_listen("", &ss, &len, &why), -1);
	assert_int_equal(httpd_parse_listen("65536", &ss, &len, &why), -1);
	assert_int_equal(httpd_parse_listen("80a", &ss, &len, &why), -1);
	assert_int_equal(httpd_parse_listen("1.2.3.4:", &ss, &len, &why), -1);
	assert_int_equal(httpd_parse_listen("::1:80", &ss, &len, &why), -1);
	assert_int_equal(httpd_parse_listen("[::1]", &ss, &len, &why), -1);
	assert_int_equal(httpd_parse_listen("300.1.1.1:80", &ss, &len, &why),
	    -1);
}

static void
test_token_check(void **state)
{
	(void)state;
	assert_true(token_bearer_ok("Bearer abc", "abc"));
	assert_true(token_bearer_ok("bearer  abc ", "abc"));
	assert_false(token_bearer_ok(NULL, "abc"));
	assert_false(token_bearer_ok("", "abc"));
	assert_false(token_bearer_ok("Bearer", "abc"));
	assert_false(token_bearer_ok("Bearer ", "abc"));
	assert_false(token_bearer_ok("Bearer ab", "abc"));
	assert_false(token_bearer_ok("Bearer abcd", "abc"));
	assert_false(token_bearer_ok("Bearer abC", "abc"));
	assert_false(token_bearer_ok("Basic abc", "abc"));
	assert_false(token_bearer_ok("abc", "abc"));
}

static void
test_token_read(void **state)
{
	char path[] = "/tmp/sm-test-token.XXXXXX";
	struct why why;
	char *tok = NULL;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, "  s3cret \nsecond line\n", 22), 22);
	close(fd);
	assert_int_equal(token_read(path, &tok, &why), 0);
	assert_string_equal(tok, "s3cret");
	free(tok);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	assert_int_equal(token_read(path, &tok, &why), -1);
	assert_non_null(strstr(why.msg, "no token"));
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "a b\n", 4), 4);
	close(fd);
	assert_int_equal(token_read(path, &tok, &why), -1);
	unlink(path);
	assert_int_equal(token_read(path, &tok, &why), -1);
	assert_non_null(strstr(why.msg, "No such file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_token_check),
		cmocka_unit_test(test_token_read),
	};

	return cmocka_run_group_tests_name("httpd", tests, NULL, NULL);
}
