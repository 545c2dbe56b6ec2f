/*
 * model_path.h - which model file a command uses when -m is not given.
 *
 * In order: $BITFALCON_MODEL when it is set (even when that file is missing:
 * the user asked for it, and is told so); models/bitfalcon-v8n.bfm in the
 * current folder (a checkout); the installed copy, found next to the program
 * (BIN/../share/bitfalcon/models, so an install under any prefix works, even
 * moved), then in the configured install folder. An installed program thus
 * runs from any folder.
 */
#ifndef BF_APPS_MODEL_PATH_H
#define BF_APPS_MODEL_PATH_H

#define BF_MODEL_NAME "bitfalcon-v8n.bfm"
#define BF_MODEL_DEFAULT_HELP "$BITFALCON_MODEL, else ./models/" BF_MODEL_NAME ", else the installed one"

/* The path to use (a static buffer, valid until the next call), or NULL when
 * none of the places has the file; then *looked says where it looked (one line). */
const char *bf_default_model(const char **looked);

#endif /* BF_APPS_MODEL_PATH_H */
