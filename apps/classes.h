/*
 * classes.h - the --classes option of detect and camera: a comma-separated
 * list of class ids or names of the model ("0,2", "person,traffic light",
 * "cat,1"). A name matches the model's class name exactly (case-sensitive);
 * an all-digit entry is an id. Duplicates are allowed.
 */
#ifndef BF_APPS_CLASSES_H
#define BF_APPS_CLASSES_H

#include <stddef.h>

#include "bitfalcon.h"

/* Parses spec into *ids (malloc'd, *n entries). On an error returns -1 with a
 * one-line cause in why (naming the entry and, for a bad name, a few names). */
int bf_classes_parse(const char *spec, const bf_model *model, int **ids, size_t *n, char *why, size_t why_len);

/* Parses spec and applies it to the detector; prints "bitfalcon: --classes: CAUSE" on an error. */
int bf_classes_apply(const char *spec, const bf_model *model, bf_detector *det);

#endif /* BF_APPS_CLASSES_H */
