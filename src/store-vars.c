/*
 * store-vars.c: a var's value as the vars table keeps it.
 *
 * Secret vars, and every var of a connection (its settings are credentials
 * more often than not: pat, webhook_secret, auth_header), are stored
 * sealed by secrets.c: their value column is '' and their sealed column
 * holds the AES-256-GCM ciphertext, bound to the var's scope and name.
 * Every read and write of a var's value goes through here, so that no
 * caller handles ciphertext and none can forget to seal. Plaintexts
 * handed out are freed with vars_value_free(), which wipes them.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

/* Is a var of this scope, with this secret flag, stored sealed? */
int
vars_sealed(const char *scope_id, int is_secret)
{
	return is_secret || strncmp(scope_id, "con_", 4) == 0;
}

/*
 * The additional data that binds a sealed value to its var: scope ids
 * have no ':' and names are ^\w+$, so the text is unambiguous.
 */
char *
vars_aad(const char *scope_id, const char *name)
{
	char *aad;

	xasprintf(&aad, "var:%s:%s", scope_id, name);
	return aad;
}

/*
 * Bind a var's value to parameter value_idx (its value column) and
 * sealed_idx (its sealed column) of st: the value and NULL, or '' and the
 * value sealed. -1 with *cause if it cannot be sealed.
 */
int
vars_bind_value(sqlite3_stmt *st, int value_idx, int sealed_idx,
    const char *scope_id, const char *name, const char *value, int is_secret,
    char **cause)
{
	unsigned char *sealed;
	size_t len;
	char *aad;

	if (value == NULL)
		value = "";
	if (!vars_sealed(scope_id, is_secret)) {
		sqlite3_bind_text(st, value_idx, value, -1, SQLITE_TRANSIENT);
		sqlite3_bind_null(st, sealed_idx);
		return 0;
	}
	aad = vars_aad(scope_id, name);
	if (secrets_seal(aad, value, strlen(value), &sealed, &len,
	    cause) != 0) {
		free(aad);
		return -1;
	}
	free(aad);
	sqlite3_bind_text(st, value_idx, "", 0, SQLITE_STATIC);
	sqlite3_bind_blob(st, sealed_idx, sealed, (int)len, free);
	return 0;
}

/*
 * The value of the current row of st, from its value column and sealed
 * column: a new string, or NULL with *cause when the sealed value does
 * not open (the error names the var).
 */
char *
vars_column_value(sqlite3_stmt *st, int value_col, int sealed_col,
    const char *scope_id, const char *name, char **cause)
{
	unsigned char *plain;
	size_t len;
	char *aad, *why = NULL;
	const char *text;
	int rc;

	if (sqlite3_column_type(st, sealed_col) == SQLITE_NULL) {
		text = (const char *)sqlite3_column_text(st, value_col);
		return xstrdup(text != NULL ? text : "");
	}
	aad = vars_aad(scope_id, name);
	rc = secrets_open(aad, sqlite3_column_blob(st, sealed_col),
	    (size_t)sqlite3_column_bytes(st, sealed_col), &plain, &len, &why);
	free(aad);
	if (rc != 0) {
		xasprintf(cause, "the value of var %s of %s cannot be "
		    "decrypted: %s", name, scope_id, why);
		free(why);
		return NULL;
	}
	if (memchr(plain, '\0', len) != NULL) {
		secrets_free(plain, len);
		xasprintf(cause, "the value of var %s of %s holds a NUL byte",
		    name, scope_id);
		return NULL;
	}
	return (char *)plain;
}

/* Free a value from vars_column_value() or vars_get(), wiped. */
void
vars_value_free(char *value)
{
	if (value != NULL)
		secrets_free(value, strlen(value));
}

/*
 * The value of var name of scope_id: a new string; NULL when it is not
 * set, or with *cause (when cause is not NULL) when it cannot be read.
 */
char *
vars_get(struct store *s, const char *scope_id, const char *name,
    char **cause)
{
	sqlite3_stmt *st;
	char *value = NULL, *why = NULL;
	int rc;

	st = store_prepare(s, "SELECT value, sealed FROM vars WHERE "
	    "scope_id = ? AND name = ?");
	if (st == NULL) {
		if (cause != NULL)
			xasprintf(cause, "cannot read the vars");
		return NULL;
	}
	sqlite3_bind_text(st, 1, scope_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    (value = vars_column_value(st, 0, 1, scope_id, name, &why)) ==
	    NULL) {
		log_error("%s", why);
		if (cause != NULL)
			*cause = why;
		else
			free(why);
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE && cause != NULL)
		xasprintf(cause, "cannot read the vars: %s",
		    sqlite3_errmsg(store_db(s)));
	sqlite3_finalize(st);
	return value;
}
