/* A small unit-test runner: tests register themselves, the runner prints TAP.
 *
 *   TEST(units_parse_rate) { CHECK_EQ(1, 1); }
 *
 * CHECK* failures record file:line and the values, and end the test.  The runner
 * (tests/unit/runner.c) runs every registered test, or those whose name contains
 * argv[1], and exits 1 if any failed.
 */
#ifndef MPNET_TEST_H
#define MPNET_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
	struct test_case *next;
};

void test_register(struct test_case *tc);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

#define TEST(name)                                                             \
	static void test_##name(void);                                         \
	static struct test_case test_case_##name = {#name, test_##name, NULL}; \
	__attribute__((constructor)) static void test_reg_##name(void)         \
	{                                                                      \
		test_register(&test_case_##name);                              \
	}                                                                      \
	static void test_##name(void)

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long va_ = (long long)(a), vb_ = (long long)(b);                              \
		if (va_ != vb_)                                                                    \
			test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, va_, vb_); \
	} while (0)

#define CHECK_U64_EQ(a, b)                                                                         \
	do {                                                                                       \
		uint64_t va_ = (uint64_t)(a), vb_ = (uint64_t)(b);                                 \
		if (va_ != vb_)                                                                    \
			test_fail(__FILE__, __LINE__, "%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, \
				  va_, vb_);                                                       \
	} while (0)

#define CHECK_STR_EQ(a, b)                                                                  \
	do {                                                                                \
		const char *sa_ = (a), *sb_ = (b);                                          \
		if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                                  \
			test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
				  sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");              \
	} while (0)

/* Substring check, for error messages. */
#define CHECK_CONTAINS(hay, needle)                                                     \
	do {                                                                            \
		const char *h_ = (hay), *n_ = (needle);                                 \
		if (!h_ || !strstr(h_, n_))                                             \
			test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", \
				  h_ ? h_ : "(null)", n_);                              \
	} while (0)

#endif
