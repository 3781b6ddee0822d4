/*
 * `ferry data profile FILE`: a sub-command of `ferry data`, listed in cmd_data.c's table.
 */
#ifndef FERRY_CLI_CMD_PROFILE_H
#define FERRY_CLI_CMD_PROFILE_H

struct ctx;

/* Loads FILE as a table and prints its profile (a summary, or the full JSON with --json). */
int data_profile(int argc, const char **argv, struct ctx *ctx);

#endif
