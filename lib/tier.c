/*
 * The rollup tiers' tables and columns (tier.h): one list of fields, and
 * the SQL text every statement over the tiers is made of.
 */
#include <stdio.h>
#include <stdlib.h>

#include "schema.h"
#include "tier.h"

/* The record's numeric fields, as sm's own table types them. */
const struct tier_field tier_fields[] = {
	{ "cpu_usage", "DECIMAL(5,2)", "DECIMAL(20,2)", 2 },
	{ "cpu_free", "DECIMAL(5,2)", "DECIMAL(20,2)", 2 },
	{ "ram_total", "BIGINT", "DECIMAL(30,0)", 2 },
	{ "ram_free", "BIGINT", "DECIMAL(30,0)", 2 },
	{ "ram_available", "BIGINT", "DECIMAL(30,0)", 2 },
	{ "ram_used", "BIGINT", "DECIMAL(30,0)", 2 },
	{ "ram_percentage", "DECIMAL(5,2)", "DECIMAL(20,2)", 2 },
	{ "total_processes", "INT", "BIGINT", 2 },
	{ "running_processes", "INT", "BIGINT", 2 },
	{ "sleeping_processes", "INT", "BIGINT", 2 },
	{ "stopped_processes", "INT", "BIGINT", 2 },
	{ "zombie_processes", "INT", "BIGINT", 2 },
	{ "threads", "INT", "BIGINT", 2 },
};

const size_t tier_nfields = sizeof(tier_fields) / sizeof(tier_fields[0]);

const struct tier tiers[TIER_COUNT] = {
	[TIER_RAW] = { "raw", SCHEMA_TABLE, 0 },
	[TIER_1M] = { "1m", SCHEMA_TABLE "_1m", 60 * 1000 },
	[TIER_1H] = { "1h", SCHEMA_TABLE "_1h", 3600 * 1000 },
};

char *
tier_create_sql(const char *table, int temporary)
{
	char *sql = NULL;
	size_t size = 0, i;
	FILE *f;

	if ((f = open_memstream(&sql, &size)) == NULL)
		return NULL;
	fprintf(f, "CREATE %sTABLE IF NOT EXISTS %s (\n"
	    "  host VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,\n"
	    "  source VARCHAR(50) COLLATE utf8mb4_bin NOT NULL,\n"
	    "  bucket DATETIME NOT NULL,\n"
	    "  samples INT UNSIGNED NOT NULL,\n",
	    temporary ? "TEMPORARY " : "", table);
	for (i = 0; i < tier_nfields; i++) {
		const struct tier_field *t = &tier_fields[i];

		fprintf(f, "  %s_n INT UNSIGNED NOT NULL,\n"
		    "  %s_min %s NULL,\n  %s_max %s NULL,\n"
		    "  %s_sum %s NULL,\n", t->name, t->name, t->type,
		    t->name, t->type, t->name, t->sum_type);
	}
	/* one host's range is consecutive rows; retention goes by bucket */
	fprintf(f, "  PRIMARY KEY (host, source, bucket)%s\n"
	    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	    temporary ? "" : ",\n  KEY ix_bucket (bucket)");
	if (fclose(f) == EOF) {
		free(sql);
		return NULL;
	}
	return sql;
}

char *
tier_columns(const char *samples_fmt, const char *const fmt[4])
{
	char *text = NULL;
	size_t size = 0, i, k;
	FILE *f;

	if ((f = open_memstream(&text, &size)) == NULL)
		return NULL;
	fputs(samples_fmt, f);
	for (i = 0; i < tier_nfields; i++)
		for (k = 0; k < 4; k++) {
			fputs(", ", f);
			fprintf(f, fmt[k], tier_fields[i].name);
		}
	if (fclose(f) == EOF) {
		free(text);
		return NULL;
	}
	return text;
}
