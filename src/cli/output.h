/*
 * Printing results: human-readable "key: value" lines or one JSON document with --json.
 * Only src/cli prints; these are the helpers it uses.
 */
#ifndef FERRY_CLI_OUTPUT_H
#define FERRY_CLI_OUTPUT_H

#include <jansson.h>

/* Prints j to stdout as indented JSON with a trailing newline; does not steal the reference. */
void output_json(const json_t *j);

/* Prints a human-readable view of a flat JSON object: "key: value" per line, keys padded. */
void output_fields(const json_t *obj);

#endif
