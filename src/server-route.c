/*
 * server-route.c: the one table of API methods.
 *
 * Adding a method = one handler file (api-*.c), one line here, one line in
 * Makefile.am. Paths are Connect's: /autokitteh.<pkg>.v1.<Service>/<Method>.
 * Operational routes (/healthz, /readyz, /metrics) are in server-http.c.
 */
#include "autokittehd.h"

#include <string.h>

static const struct api_method api_methods[] = {
	{ "/autokitteh.system.v1.SystemService/Status",
	  api_system_status_fields, api_system_status },
	{ "/autokitteh.system.v1.SystemService/Config",
	  api_system_config_fields, api_system_config },
	{ "/autokitteh.system.v1.TokensService/Create",
	  api_token_create_fields, api_token_create },
	{ "/autokitteh.system.v1.TokensService/List",
	  api_token_list_fields, api_token_list },
	{ "/autokitteh.system.v1.TokensService/Revoke",
	  api_token_revoke_fields, api_token_revoke },
};

const struct api_method *
route_find_method(const char *path)
{
	for (size_t i = 0; i < nitems(api_methods); i++) {
		if (strcmp(api_methods[i].path, path) == 0)
			return &api_methods[i];
	}
	return NULL;
}
