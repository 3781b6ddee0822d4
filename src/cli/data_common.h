/* What the `ferry data` and `ferry remote` commands share: opening the workspace, printing. */
#ifndef FERRY_CLI_DATA_COMMON_H
#define FERRY_CLI_DATA_COMMON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct ctx;
struct pointer;
struct tracked;
struct status_result;
struct workspace;

/* Opens the workspace of ctx's project and store; jobs <= 0 means the CPU count. */
int data_workspace_open(struct workspace **out, struct ctx *ctx, int jobs);
/* The directory ferry was started in (after -C); borrowed, static. */
const char *data_cwd(void);

/* "sha256:<hex>" as a JSON string, or null for an empty hex. */
json_t *data_digest_json(const char *hex);
/* {"path", "digest", "size", ["files"]} for a version. */
json_t *data_pointer_json(const char *path, const struct pointer *p);
/* "1.5 MiB": a static buffer per call site is not needed; rotates among 4 buffers. */
const char *data_human_bytes(uint64_t n);

void data_print_version(const char *path, const struct pointer *p, const char *verb);
void data_print_status(const struct tracked *t, const struct status_result *st);

/* Shared by checkout and pull. */
int data_checkout_paths(struct ctx *ctx, const char *const *args, size_t nargs, int force,
			int jobs);
int data_log_path(struct ctx *ctx, const char *arg);

/* In cmd_data_transfer.c. */
int data_push(int argc, const char **argv, struct ctx *ctx);
int data_pull(int argc, const char **argv, struct ctx *ctx);
int data_fetch(int argc, const char **argv, struct ctx *ctx);

#endif
