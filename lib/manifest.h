/*
 * manifest.h: autokitteh.yaml, parsed and validated.
 *
 * Shared by autokittehd (plan/apply) and akctl (local checks), so this
 * header depends on nothing but plain C. Every string in these structs is
 * non-NULL ("" when the key was absent) and owned by the manifest. line and
 * column are 1-based positions in the file, for messages about an object.
 */
#ifndef AK_MANIFEST_H
#define AK_MANIFEST_H

#include <stddef.h>

#define MANIFEST_MAX_SIZE	(1024 * 1024)	/* bytes of YAML */
#define MANIFEST_MAX_DEPTH	16		/* nested mappings, lists */

enum manifest_trigger_type {
	MANIFEST_TRIGGER_WEBHOOK,
	MANIFEST_TRIGGER_SCHEDULE,
	MANIFEST_TRIGGER_CONNECTION,
};

struct manifest_var {
	char		*name;
	char		*value;
	char		*description;
	int		 secret;
	unsigned	 line, column;
};

struct manifest_connection {
	char			*name;
	char			*integration;
	struct manifest_var	*vars;
	size_t			 nvars;
	unsigned		 line, column;
};

struct manifest_trigger {
	char		*name;
	enum manifest_trigger_type type;
	char		*event_type;
	char		*filter;
	int		 is_durable;	/* effective value */
	int		 is_sync;
	char		*schedule;	/* SCHEDULE */
	char		*connection;	/* CONNECTION */
	char		*call;		/* "program.py:on_hook" or "" */
	char		*code_path;	/* "program.py" */
	char		*code_name;	/* "on_hook" */
	unsigned	 line, column;
};

struct manifest {
	char				*filename;	/* for messages */
	int				 version;	/* 1 or 2 */
	char				*project_name;
	char				*display_name;
	unsigned			 project_line, project_column;
	struct manifest_var		*vars;
	size_t				 nvars;
	struct manifest_connection	*connections;
	size_t				 nconnections;
	struct manifest_trigger		*triggers;
	size_t				 ntriggers;
};

struct manifest *manifest_parse(const char *text, size_t len,
    const char *filename, char **cause);
void manifest_free(struct manifest *);
const char *manifest_trigger_type_name(enum manifest_trigger_type);
int manifest_name_valid(const char *);	/* ^\w+$ */

#endif
