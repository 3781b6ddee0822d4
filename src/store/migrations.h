/* The schema migrations compiled in from src/store/schema/NNNN-*.sql, in ascending order. */
#ifndef FERRY_STORE_MIGRATIONS_H
#define FERRY_STORE_MIGRATIONS_H

struct migration {
	int version;	  /* NNNN from the file name */
	const char *name; /* the file name without .sql */
	const char *sql;  /* the whole file */
};

extern const struct migration migrations[];
extern const int migration_count;

#endif
