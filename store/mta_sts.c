/* The MTA-STS policy of the configuration (mta_sts.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* memrchr */
#endif
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mta_sts.h"
#include "siphash.h"
#include "store.h"

/* `name` as an MX's name into mx (lowercase, no final dot): true if it is
 * one of two labels or more whose last has a letter (not an address). */
static bool mx_name(const char *name, char mx[STORE_DOMAIN_MAX + 1])
{
	size_t len = name != NULL ? strlen(name) : 0;
	if (len > 0 && name[len - 1] == '.')
		len--;
	const char *dot = len > 0 ? memrchr(name, '.', len) : NULL;
	if (len == 0 || len > STORE_DOMAIN_MAX || dot == NULL)
		return false;
	bool letter = false;
	for (const char *p = dot + 1; p < name + len; p++)
		letter = letter || isalpha((unsigned char)*p);
	for (size_t i = 0; i < len; i++)
		mx[i] = (char)tolower((unsigned char)name[i]);
	mx[len] = '\0';
	return letter;
}

size_t mta_sts_policy(const struct config *config, char buf[MTA_STS_POLICY_MAX])
{
	static const char *const modes[] = { "none", "testing", "enforce" };
	char mx[STORE_DOMAIN_MAX + 1];
	/* the name the MX records give (pillarbox domain dns) */
	if (config->tls_cert == NULL || (unsigned)config->mta_sts > 2 ||
	    (!mx_name(config->public_hostname, mx) && !mx_name(config->hostname, mx)))
		return 0;
	int n = snprintf(buf, MTA_STS_POLICY_MAX,
			 "version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %d\r\n",
			 modes[config->mta_sts], mx, MTA_STS_MAX_AGE);
	return n > 0 && n < MTA_STS_POLICY_MAX ? (size_t)n : 0;
}

void mta_sts_id(const char *policy, size_t len, char id[MTA_STS_ID_LEN + 1])
{
	/* not a secret: a fixed key, for a stable id */
	static const uint64_t key[2] = { 0x6d74612d7374732dULL, 0x706f6c6963792d31ULL };
	snprintf(id, MTA_STS_ID_LEN + 1, "%016llx",
		 (unsigned long long)siphash13(key, policy, len));
}
